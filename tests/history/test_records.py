"""The call history on real PostgreSQL: the notes of one call make one row whatever order
they arrive in (vipcall.store.records), the recorder writes in batches and keeps a batch the
database refused, and the service layer (vipcall.directory.history) shows each user their own
calls and each organisation its totals."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall import directory
from vipcall.db.engine import session_factory, transaction
from vipcall.directory import history
from vipcall.directory.errors import InvalidField
from vipcall.directory.servicenumbers import create_service_number
from vipcall.history.recorder import Note, Recorder, end_reported
from vipcall.history.rules import (
    DayCount,
    Direction,
    RecordAnswer,
    RecordEnd,
    RecordStart,
    Route,
    end_from_report,
)
from vipcall.store.pool import asyncpg_dsn
from vipcall.store.records import write_records

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # 14:00 in Helsinki
OUTSIDE = "+358451239876"
_ids = itertools.count(1)


@pytest_asyncio.fixture(loop_scope="session")
async def conn(engine: AsyncEngine, database_url: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        yield c
    finally:
        await c.close()


@pytest_asyncio.fixture(loop_scope="session")
async def people(engine: AsyncEngine) -> dict[str, int]:
    sessions = session_factory(engine)
    async with transaction(sessions) as s:
        for domain in ("a.fi", "b.fi"):
            await directory.create_organization(s, name=domain, domain=domain)
        ids = {}
        for name, org, mobile in [
            ("maija", "a.fi", "+358401260001"),
            ("kalle", "a.fi", "+358401260002"),
            ("ulla", "b.fi", "+358401260003"),
        ]:
            u = await directory.create_user(
                s, organization=org, display_name=name.title(), mobile=mobile
            )
            ids[name] = u.id
            ids[f"{name}_org"] = u.organization_id
    return ids


def channel() -> str:
    return f"1764158400.{next(_ids)}"


async def rows(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM call_records ORDER BY id")


async def test_a_rung_call_noted_then_ended_by_the_dialplan(
    conn: asyncpg.Connection, people: dict[str, int]
) -> None:
    ch = channel()
    start = RecordStart(
        ch, NOW, Route.RANG, OUTSIDE, "+358401260001", callee_user_id=people["maija"]
    )
    end = end_from_report(
        ch, NOW + timedelta(seconds=50), dial_status="ANSWER", answered_ms=40_000,
        dialed_ms=49_000, user=str(people["maija"]), called="+358401260001",
        caller=OUTSIDE, dial="PJSIP/+358401260001@mobile",
    )  # fmt: skip
    await write_records(conn, [start, end])
    [row] = await rows(conn)
    assert row["started_at"] == NOW  # the app's start, earlier than the dial's
    assert row["answered_at"] == NOW + timedelta(seconds=10)
    assert row["ended_at"] == NOW + timedelta(seconds=50)
    assert row["route"] == "rang" and row["dial_status"] == "ANSWER"
    assert row["callee_user_id"] == people["maija"]
    assert row["callee_org_id"] == people["maija_org"]
    assert row["caller_user_id"] is None and row["caller_number"] == OUTSIDE


async def test_the_same_notes_in_any_order_make_the_same_row(
    conn: asyncpg.Connection, people: dict[str, int]
) -> None:
    def notes(ch: str) -> list[Note]:
        return [
            RecordStart(
                ch,
                NOW,
                Route.RANG,
                "+358401260002",
                "+358401260001",
                caller_user_id=people["kalle"],
                callee_user_id=people["maija"],
            ),  # fmt: skip
            RecordStart(
                ch,
                NOW,
                Route.VOICEMAIL,
                called_number="+358401260001",
                callee_user_id=people["maija"],
            ),  # fmt: skip
            end_from_report(
                ch,
                NOW + timedelta(seconds=45),
                dial_status="NOANSWER",
                answered_ms=0,
                dialed_ms=30_000,
                user=str(people["maija"]),
                called="+358401260001",
                caller="+358401260002",
                dial="PJSIP/+358401260001@mobile",
            ),  # fmt: skip
            RecordEnd(ch, NOW + timedelta(seconds=44)),  # the voicemail flow's end
        ]

    columns = (
        "started_at", "answered_at", "ended_at", "route", "caller_number", "called_number",
        "caller_user_id", "callee_user_id", "caller_org_id", "callee_org_id", "dial_status",
    )  # fmt: skip
    seen = set()
    for order in [(0, 1, 2, 3), (3, 2, 1, 0), (2, 0, 3, 1), (1, 3, 0, 2)]:
        ch = channel()
        made = notes(ch)
        # the app's two notes keep their order (one task makes them, one after the other)
        picked = [made[i] for i in order]
        if picked.index(made[1]) < picked.index(made[0]):
            continue
        await write_records(conn, picked)
        row = await conn.fetchrow("SELECT * FROM call_records WHERE channel_id = $1", ch)
        assert row is not None
        seen.add(tuple(row[c] for c in columns))
    assert len(seen) == 1
    [values] = seen
    row = dict(zip(columns, values, strict=True))
    assert row["route"] == "voicemail"
    assert row["answered_at"] is None
    assert row["ended_at"] == NOW + timedelta(seconds=45)
    assert row["caller_user_id"] == people["kalle"]
    assert row["caller_number"] == "+358401260002"


async def test_the_dialplans_report_alone_still_makes_a_record(
    conn: asyncpg.Connection, people: dict[str, int]
) -> None:
    # The app was restarted while the call rang: its note was never written.
    ch = channel()
    end = end_from_report(
        ch, NOW, dial_status="ANSWER", answered_ms=20_000, dialed_ms=26_000,
        user=str(people["maija"]), called="+358401260001", caller=OUTSIDE,
        dial="PJSIP/+358409998877@pstn",
    )  # fmt: skip
    await write_records(conn, [end])
    [row] = await rows(conn)
    assert row["route"] == "forwarded"
    assert row["started_at"] == NOW - timedelta(seconds=26)
    assert row["callee_user_id"] == people["maija"]


async def test_notes_naming_a_user_removed_since_are_written_without_them(
    conn: asyncpg.Connection, people: dict[str, int]
) -> None:
    """A report read from the spool after the user (or service number) was removed: the
    record keeps its numbers and times and names no one, and the batch's other notes are
    written too, not held back by a foreign-key error."""
    gone = 2_000_000_000
    ch, other = channel(), channel()
    start = RecordStart(ch, NOW, Route.RANG, caller_number=OUTSIDE,
                        called_number="+358401260001", caller_user_id=gone,
                        callee_user_id=gone, service_number_id=gone)  # fmt: skip
    end = end_from_report(
        ch, NOW + timedelta(seconds=30), dial_status="ANSWER", answered_ms=20_000,
        dialed_ms=26_000, user=str(gone), called="+358401260001", caller=OUTSIDE,
        dial="PJSIP/+358401260001@mobile", caller_user_id=gone,
    )  # fmt: skip
    answer = RecordAnswer(ch, NOW + timedelta(seconds=5), gone)
    fine = end_from_report(
        other, NOW, dial_status="BUSY", answered_ms=0, dialed_ms=3_000,
        user=str(people["maija"]), called="+358401260001", caller=OUTSIDE,
        dial="PJSIP/+358401260001@mobile",
    )  # fmt: skip
    await write_records(conn, [start, answer, end, fine])
    row = await conn.fetchrow("SELECT * FROM call_records WHERE channel_id = $1", ch)
    assert row is not None
    assert row["caller_user_id"] is None and row["callee_user_id"] is None
    assert row["service_number_id"] is None and row["callee_org_id"] is None
    assert row["caller_number"] == OUTSIDE and row["dial_status"] == "ANSWER"
    kept = await conn.fetchrow("SELECT * FROM call_records WHERE channel_id = $1", other)
    assert kept is not None and kept["callee_user_id"] == people["maija"]


async def test_a_direct_routes_report_names_the_calling_user_as_the_app_would(
    conn: asyncpg.Connection, people: dict[str, int]
) -> None:
    """A call rung from a direct route (no decision in the app): the end report makes the
    record, and the routing memory's lookup names the calling user (Kalle, calling Maija's
    mobile from his own mobile through the PSTN), so it is his outgoing call too."""
    notes: list[Note] = []

    class Notes:
        def note(self, n: Note) -> None:
            notes.append(n)

    query = {
        "id": channel(), "status": "ANSWER", "answered": "20000", "dialed": "26000",
        "user": str(people["maija"]), "called": "+358401260001", "caller": "+358401260002",
        "dial": "PJSIP/+358401260001@mobile", "via": "direct",
    }  # fmt: skip
    mobiles = {"+358401260002": people["kalle"]}
    assert end_reported(Notes(), query, mobiles.get)
    await write_records(conn, notes)
    [row] = await rows(conn)
    assert row["route"] == "rang"
    assert row["callee_user_id"] == people["maija"]
    assert row["caller_user_id"] == people["kalle"]
    assert row["caller_org_id"] == people["kalle_org"]
    # a report of a call the app decided names nobody by lookup (its start note does)
    notes.clear()
    assert end_reported(Notes(), {**query, "id": channel(), "via": ""}, mobiles.get)
    assert isinstance(notes[0], RecordEnd) and notes[0].caller_user_id is None


async def test_a_report_read_later_keeps_the_time_the_call_ended() -> None:
    """The spool's reports may be read a while after the call (the app away): the end and
    the answer are counted back from the report's own ``ended``, not from when it was read."""
    notes: list[Note] = []

    class Notes:
        def note(self, n: Note) -> None:
            notes.append(n)

    ended = datetime(2026, 11, 26, 12, 0, 0, 250000, tzinfo=UTC)
    query = {"id": "c1", "ended": f"{ended.timestamp():.3f}", "status": "ANSWER",
             "answered": "20000", "dialed": "26000", "user": "7"}  # fmt: skip
    assert end_reported(Notes(), query)
    [end] = notes
    assert isinstance(end, RecordEnd)
    assert end.ended_at == ended
    assert end.answered_at == ended - timedelta(seconds=20)
    assert end.started_at == ended - timedelta(seconds=26)
    # none, or not a time: when it was read
    for raw in ("", "soon", "nan", "1e400"):
        notes.clear()
        before = datetime.now(UTC)
        assert end_reported(Notes(), {**query, "ended": raw})
        assert notes[0].ended_at >= before  # type: ignore[union-attr]


async def test_the_recorder_writes_in_batches_and_keeps_a_refused_batch() -> None:
    written: list[list[Note]] = []
    fail = True

    async def write(notes: Sequence[Note]) -> None:
        if fail:
            raise OSError("database away")
        written.append(list(notes))

    recorder = Recorder(write, flush_seconds=0)
    notes = [RecordEnd(f"c{i}", NOW) for i in range(3)]
    for note in notes:
        recorder.note(note)
    with pytest.raises(OSError):
        await recorder.flush()
    assert recorder.pending == 3  # kept, in order
    fail = False
    await recorder.flush()
    assert written == [notes] and recorder.pending == 0 and recorder.written == 3


async def test_the_recorder_drops_the_oldest_beyond_its_limit() -> None:
    async def write(notes: Sequence[Note]) -> None:
        raise AssertionError("not written here")

    recorder = Recorder(write, max_pending=2)
    for i in range(3):
        recorder.note(RecordEnd(f"c{i}", NOW))
    assert recorder.pending == 2 and recorder.dropped == 1


# -- the service layer ---------------------------------------------------------------------


async def _calls(conn: asyncpg.Connection, people: dict[str, int]) -> None:
    maija, kalle, ulla = people["maija"], people["kalle"], people["ulla"]
    t = NOW - timedelta(hours=1)
    notes: list[Note] = []

    def call(start: RecordStart, answered: timedelta | None, length: timedelta | None) -> None:
        notes.append(start)
        if length is not None:
            ans = start.started_at + answered if answered is not None else None
            notes.append(RecordEnd(start.channel_id, start.started_at + length, ans))

    # outside -> maija, answered after 5 s, 60 s of talk
    call(RecordStart(channel(), t, Route.RANG, OUTSIDE, "+358401260001", None, maija),
         timedelta(seconds=5), timedelta(seconds=65))  # fmt: skip
    # outside -> maija, voicemail (missed)
    call(RecordStart(channel(), t + timedelta(minutes=5), Route.VOICEMAIL, OUTSIDE,
                     "+358401260001", None, maija), None, timedelta(seconds=40))  # fmt: skip
    # maija -> kalle (colleague), forwarded and answered; end never reported
    call(RecordStart(channel(), t + timedelta(minutes=10), Route.FORWARDED, "+358401260001",
                     "+358401260002", maija, kalle), None, None)  # fmt: skip
    # ulla (other org) -> outside, yesterday
    call(RecordStart(channel(), NOW - timedelta(days=1), Route.RANG, "+358401260003",
                     OUTSIDE, ulla, None), timedelta(seconds=1), timedelta(seconds=11))  # fmt: skip
    # ulla (other org) -> maija, absence notice, two days ago
    call(RecordStart(channel(), NOW - timedelta(days=2), Route.ABSENCE_NOTICE, "+358401260003",
                     "+358401260001", ulla, maija), None, timedelta(seconds=20))  # fmt: skip
    await write_records(conn, notes)


async def test_a_user_sees_their_own_calls_newest_first(
    conn: asyncpg.Connection, engine: AsyncEngine, people: dict[str, int]
) -> None:
    await _calls(conn, people)
    async with session_factory(engine)() as s:
        mine = await history.recent_calls(s, people["maija"], days=30, now=NOW)
        kalles = await history.recent_calls(s, people["kalle"], days=30, now=NOW)
        ullas = await history.recent_calls(s, people["ulla"], days=1, now=NOW)
    assert [(e.direction, e.route, e.other_number, e.other_name, e.length_seconds)
            for e in mine] == [
        (Direction.OUT, Route.FORWARDED, "+358401260002", "Kalle", None),
        (Direction.MISSED, Route.VOICEMAIL, OUTSIDE, None, 40),
        (Direction.IN, Route.RANG, OUTSIDE, None, 60),
        (Direction.MISSED, Route.ABSENCE_NOTICE, "+358401260003", "Ulla", 20),
    ]  # fmt: skip
    # Kalle's call from Maija was forwarded but its answer never reported: missed for him.
    assert [(e.direction, e.other_name) for e in kalles] == [(Direction.MISSED, "Maija")]
    # days=1: only the last day
    assert [(e.direction, e.other_number) for e in ullas] == [(Direction.OUT, OUTSIDE)]


async def test_calls_per_day_for_a_user(
    conn: asyncpg.Connection, engine: AsyncEngine, people: dict[str, int]
) -> None:
    await _calls(conn, people)
    async with session_factory(engine)() as s:
        days = await history.calls_per_day(s, people["maija"], days=3, now=NOW)
    assert days == [
        DayCount(date(2026, 11, 24), missed=1),
        DayCount(date(2026, 11, 25)),
        DayCount(date(2026, 11, 26), incoming=1, outgoing=1, missed=1),
    ]


async def test_an_organisations_totals_count_only_its_users_calls(
    conn: asyncpg.Connection, engine: AsyncEngine, people: dict[str, int]
) -> None:
    await _calls(conn, people)
    async with session_factory(engine)() as s:
        a = await history.organization_summary(s, people["maija_org"], days=3, now=NOW)
        b = await history.organization_summary(s, people["ulla_org"], days=3, now=NOW)
    assert a.total == 4  # not Ulla's call out
    assert a.days[-1] == DayCount(date(2026, 11, 26), incoming=1, outgoing=1, missed=1)
    assert a.by_route[Route.ABSENCE_NOTICE] == 1 and a.by_route[Route.RANG] == 1
    assert a.talk_seconds == 60
    assert b.total == 2
    assert [d.outgoing for d in b.days] == [1, 1, 0]
    assert b.talk_seconds == 10


SWITCHBOARD = "+35851260000"


async def test_a_service_number_call_is_the_call_of_the_member_who_took_it(
    conn: asyncpg.Connection, engine: AsyncEngine, people: dict[str, int]
) -> None:
    async with transaction(session_factory(engine)) as s:
        sn = await create_service_number(
            s, "a.fi", number=SWITCHBOARD, kind="switchboard", name="Vaihde"
        )
        sn_id = sn.id
    t = NOW - timedelta(hours=1)
    # outside -> the switchboard, queued, Kalle takes it after 20 s, 60 s of talk; the notes
    # make the same row whether the member's answer is written before the app's start note
    # or after it
    taken = []
    for order in ((0, 1, 2), (1, 2, 0)):
        ch = channel()
        notes: list[Note] = [
            RecordStart(ch, t, Route.SERVICE_NUMBER, OUTSIDE, SWITCHBOARD, service_number_id=sn_id),
            RecordAnswer(ch, t + timedelta(seconds=20), people["kalle"]),
            RecordEnd(ch, t + timedelta(seconds=80)),
        ]
        await write_records(conn, [notes[i] for i in order])
        row = await conn.fetchrow("SELECT * FROM call_records WHERE channel_id = $1", ch)
        assert row is not None
        taken.append({k: row[k] for k in row.keys() if k not in ("id", "channel_id")})
    assert taken[0] == taken[1]
    row = taken[0]
    assert (row["route"], row["callee_user_id"], row["callee_org_id"], row["service_number_id"]) \
        == ("service_number", people["kalle"], people["kalle_org"], sn_id)  # fmt: skip
    assert row["answered_at"] == t + timedelta(seconds=20)
    # Ulla (another organisation) calls the switchboard: nobody takes it (overflow)
    ch = channel()
    await write_records(conn, [
        RecordStart(ch, t + timedelta(minutes=5), Route.SERVICE_NUMBER, "+358401260003",
                    SWITCHBOARD, caller_user_id=people["ulla"], service_number_id=sn_id),
        RecordEnd(ch, t + timedelta(minutes=7)),
    ])  # fmt: skip
    async with session_factory(engine)() as s:
        kalles = await history.recent_calls(s, people["kalle"], days=1, now=NOW)
        maijas = await history.recent_calls(s, people["maija"], days=1, now=NOW)
        ullas = await history.recent_calls(s, people["ulla"], days=1, now=NOW)
        kalle_days = await history.calls_per_day(s, people["kalle"], days=1, now=NOW)
        a = await history.organization_summary(s, people["maija_org"], days=1, now=NOW)
        b = await history.organization_summary(s, people["ulla_org"], days=1, now=NOW)
    # the member who took the calls sees them as incoming, with the caller and the talk time
    assert [
        (e.direction, e.route, e.other_number, e.answered, e.length_seconds) for e in kalles
    ] == [(Direction.IN, Route.SERVICE_NUMBER, OUTSIDE, True, 60)] * 2
    assert kalle_days == [DayCount(date(2026, 11, 26), incoming=2)]
    assert maijas == []  # a member who did not take it has no record of it
    assert [(e.direction, e.route) for e in ullas] == [(Direction.OUT, Route.SERVICE_NUMBER)]
    # the switchboard's organisation counts all three, also the call nobody took
    assert a.total == 3 and a.by_route[Route.SERVICE_NUMBER] == 3
    assert a.days == [DayCount(date(2026, 11, 26), incoming=2, missed=1)]
    assert a.talk_seconds == 120
    assert b.total == 1 and b.days[-1].outgoing == 1


async def test_days_out_of_range_are_refused(engine: AsyncEngine, people: dict[str, int]) -> None:
    async with session_factory(engine)() as s:
        for bad in (0, 367):
            with pytest.raises(InvalidField) as err:
                await history.recent_calls(s, people["maija"], days=bad)
            assert err.value.field == "days"
        with pytest.raises(InvalidField):
            await history.organization_summary(s, people["maija_org"], days=-1)
