"""The call history is kept by the call flows themselves: a call that rang and was
answered, a call that ended in voicemail and a forwarded call each leave one record with
the right route, parties and times — the answered ones with the talk time the dialplan
reported when the call ended (``[vipcall-ring]`` h: a line appended to the app's spool
file, or, without a spool, a request to the app's ``/call-ended``; both are run here). A
report written while the app is away is recorded once it is back. A service-number call is
the record of the member who took it too (the queue flow notes the answer when it bridges
the caller with the member)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from harness.app import AppProcess, eventually
from tests.support.people import fresh_external, fresh_landline
from vipcall.db.engine import create_engine, transaction
from vipcall.directory import servicenumbers as sn
from vipcall.sandbox.instance import END_SPOOL
from vipcall.service.reports import SPOOL_FILE


async def records_of(
    database: str, user_id: int, *, reported: bool = False
) -> list[dict[str, object]]:
    """The user's call records whose end is known (oldest first); ``reported``: only once
    the dialplan's end-of-call report is in too (a call the app ended itself, as voicemail,
    has its end before the report, read from the spool within about a second, completes it)."""
    from sqlalchemy import text

    engine = create_engine(database)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT * FROM call_records WHERE (caller_user_id = :u OR"
                    " callee_user_id = :u) AND ended_at IS NOT NULL"
                    " AND (NOT :reported OR dial_status IS NOT NULL) ORDER BY started_at"
                ),
                {"u": user_id, "reported": reported},
            )
            return [dict(r._mapping) for r in rows]
    finally:
        await engine.dispose()


async def test_an_answered_call_is_recorded_as_rang_with_its_talk_time(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org)
    handset = await parties.handset().start()

    call = await parties.external_caller("+358501110201", maija.mobile, hold="2000").run()
    await handset.wait()

    assert call.ok, call.log
    [record] = await eventually(lambda: records_of(database, maija.id))
    assert record["route"] == "rang"
    assert record["caller_number"] == "+358501110201"
    assert record["called_number"] == maija.mobile
    assert record["callee_user_id"] == maija.id and record["caller_user_id"] is None
    assert record["dial_status"] == "ANSWER"
    assert record["answered_at"] is not None
    talk = record["ended_at"] - record["answered_at"]  # type: ignore[operator]
    assert timedelta(seconds=1.5) < talk < timedelta(seconds=4), talk
    assert record["started_at"] <= record["answered_at"]  # type: ignore[operator]


async def test_a_call_that_reached_voicemail_is_recorded_as_voicemail(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org)  # no handset listening: unreachable -> voicemail

    call = await parties.external_caller(
        "+358501110202", maija.mobile, "uac_message.xml", hold="3000"
    ).run()

    assert call.ok, call.log
    [record] = await eventually(lambda: records_of(database, maija.id, reported=True))
    assert record["route"] == "voicemail"
    assert record["answered_at"] is None, "nobody answered: a missed call"
    assert record["caller_number"] == "+358501110202"
    assert record["callee_user_id"] == maija.id
    assert record["ended_at"] > record["started_at"]  # type: ignore[operator]
    await parties.end_unanswered_invite()


async def test_a_forwarded_call_is_recorded_as_forwarded(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org)
    target = fresh_external()
    await people.forward(maija, target)
    far_end = await parties.pstn_far_end().start()

    call = await parties.external_caller("+358501110203", maija.mobile, hold="1500").run()
    await far_end.wait()

    assert call.ok, call.log
    [record] = await eventually(lambda: records_of(database, maija.id))
    assert record["route"] == "forwarded"
    assert record["callee_user_id"] == maija.id
    assert record["called_number"] == maija.mobile
    assert record["answered_at"] is not None, "the forwarding target answered"
    assert record["dial_status"] == "ANSWER"


async def test_a_users_own_call_out_is_recorded_as_theirs(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org)
    far_end = await parties.pstn_far_end().start()
    outside = fresh_external()

    call = await parties.handset_caller(maija.mobile, outside, hold="1000").run()
    await far_end.wait()

    assert call.ok, call.log
    [record] = await eventually(lambda: records_of(database, maija.id))
    assert record["caller_user_id"] == maija.id and record["callee_user_id"] is None
    assert record["route"] == "rang" and record["called_number"] == outside
    assert record["answered_at"] is not None


async def test_an_own_call_out_nobody_answered_is_recorded_with_its_end(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org)
    far_end = await parties.pstn_far_end("uas_busy.xml").start()
    outside = fresh_external()

    call = await parties.handset_caller(maija.mobile, outside, "uac_rejected.xml").run()
    await far_end.wait()

    assert call.final_status() == 486, call.log
    [record] = await eventually(lambda: records_of(database, maija.id))
    assert record["caller_user_id"] == maija.id and record["route"] == "rang"
    assert record["dial_status"] == "BUSY" and record["answered_at"] is None


async def test_a_service_number_call_is_recorded_as_the_members_who_took_it(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    aino, bertta = await people.user(org), await people.user(org)
    number = fresh_landline()
    async with transaction(people.sessions) as s:
        board = await sn.create_service_number(
            s, org, number=number, kind="switchboard", name="Vaihde", member_ring_seconds=5
        )
        await sn.add_member(s, board.id, aino.id)
        board_id = board.id
    handset = await parties.handset().start()
    caller = fresh_external()

    call = await parties.external_caller(caller, number, hold="2000").run()
    await handset.wait()

    assert call.ok, call.log
    [record] = await eventually(lambda: records_of(database, aino.id))
    assert record["route"] == "service_number" and record["service_number_id"] == board_id
    assert record["callee_user_id"] == aino.id, "the member who took it"
    assert record["caller_number"] == caller and record["called_number"] == number
    assert record["answered_at"] is not None
    talk = record["ended_at"] - record["answered_at"]  # type: ignore[operator]
    assert timedelta(seconds=1.5) < talk < timedelta(seconds=4), talk
    assert await records_of(database, bertta.id) == []  # not a member: nothing of it


async def test_a_call_that_ends_while_the_app_is_away_is_recorded_when_it_is_back(
    vipcall, asterisk, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org)
    handset = await parties.handset().start()
    caller = await parties.external_caller("+358501110204", maija.mobile, hold="4000").start()
    await asyncio.sleep(2.0)  # answered by now
    vipcall.kill9()
    call = await caller.wait()
    await handset.wait()
    assert call.ok, call.log
    # Asterisk appended the report to the spool while no app ran
    assert "id=" in (asterisk.host_dir / END_SPOOL / SPOOL_FILE).read_text()

    vipcall.start()
    [record] = await eventually(lambda: records_of(database, maija.id), timeout=10)
    assert record["dial_status"] == "ANSWER"
    talk = record["ended_at"] - record["answered_at"]  # type: ignore[operator]
    assert timedelta(seconds=3) < talk < timedelta(seconds=6), talk


async def test_without_a_spool_the_end_comes_by_http(
    app, asterisk, people, parties, database, tmp_path: Path
) -> None:
    app.stop()  # the session's app; the vipcall fixture starts it again for later tests
    by_http = AppProcess(
        asterisk, database, tmp_path / "vipcall.log", extra_env={"VIPCALL_END_SPOOL": ""}
    )
    by_http.start()
    try:
        org = await people.org()
        maija = await people.user(org)
        handset = await parties.handset().start()

        call = await parties.external_caller("+358501110205", maija.mobile, hold="1500").run()
        await handset.wait()

        assert call.ok, call.log
        [record] = await eventually(lambda: records_of(database, maija.id))
        assert record["dial_status"] == "ANSWER" and record["answered_at"] is not None
        assert not (asterisk.host_dir / END_SPOOL / SPOOL_FILE).exists()
    finally:
        by_http.stop()
