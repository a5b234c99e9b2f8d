"""Admin CLI presence commands (issue 3): ``activity schedule/list/unschedule/show``,
``org set-red`` and ``forward set/clear`` with refused targets.

Every error case checks the exit code, the one-line ``vipcall: error: ...`` on stderr and that
the database is unchanged afterwards. ``main()`` runs in a worker thread (it calls
``asyncio.run``; the fixtures' connections belong to the session event loop).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support import cli as support_cli
from vipcall.cli import parse_activity_list, parse_timestamp
from vipcall.db.models import Forwarding, Organization, ScheduledActivity, User

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPO = Path(__file__).resolve().parents[2]

MAIJA = "fi0401234567@taipalsaari.fi"  # demo user: mobile 040 123 4567, landline 05 123 4010
LIISA_MOBILE = "0501234569"  # demo user Liisa Korhonen


class Cli(support_cli.Cli):
    async def schedule(self, user: str, n: str, start: str, end: str) -> str:
        """``activity schedule``; the printed id."""
        out = await self.ok("activity", "schedule", user, n, "--start", start, "--end", end)
        assert out.strip().isdigit(), out
        return out.strip()


@pytest_asyncio.fixture(loop_scope="session")
async def cli(database_url: str, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]) -> Cli:
    # ``engine`` empties the database first; every test starts from the demo organisation.
    c = Cli(database_url, capsys)
    await c.ok("demo")
    return c


one_error_line = support_cli.one_error_line


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Everything the presence commands may write."""
    async with sessions() as s:
        scheduled = (
            await s.execute(
                select(
                    ScheduledActivity.id,
                    ScheduledActivity.user_id,
                    ScheduledActivity.activity,
                    ScheduledActivity.starts_at,
                    ScheduledActivity.ends_at,
                ).order_by(ScheduledActivity.id)
            )
        ).all()
        forwards = (
            await s.execute(
                select(
                    Forwarding.id,
                    Forwarding.user_id,
                    Forwarding.kind,
                    Forwarding.activity,
                    Forwarding.target,
                ).order_by(Forwarding.id)
            )
        ).all()
        users = (await s.execute(select(User.id, User.activity, User.role).order_by(User.id))).all()
        orgs = (
            await s.execute(
                select(Organization.id, Organization.red_activities).order_by(Organization.id)
            )
        ).all()
    return {
        "scheduled": [tuple(r) for r in scheduled],
        "forwards": [tuple(r) for r in forwards],
        "users": [tuple(r) for r in users],
        "orgs": [(i, list(red)) for i, red in orgs],
    }


async def expect_error(
    cli: Cli,
    sessions: async_sessionmaker[AsyncSession],
    argv: tuple[str, ...],
    fragment: str,
    *,
    code: int = 1,
) -> str:
    """Run ``argv``; it must fail with ``code`` and ``fragment`` in the error and change
    nothing."""
    before = await snapshot(sessions)
    got, out, err = await cli(*argv)
    assert got == code, (argv, out, err)
    if code == 1:
        line = one_error_line(err)
        assert fragment in line, line
    else:
        assert fragment in err, err
    assert out == ""
    assert await snapshot(sessions) == before
    return err


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def table(out: str) -> list[list[str]]:
    """Rows of an aligned table split at the header's column starts (checks alignment)."""
    lines = out.rstrip("\n").splitlines()
    header = lines[0]
    starts = [i for i, ch in enumerate(header) if ch != " " and (i == 0 or header[i - 1] == " ")]
    # Multi-word headers don't occur; every column start must be a cell start on every line.
    rows = []
    for line in lines:
        cells = []
        for j, start in enumerate(starts):
            end = starts[j + 1] if j + 1 < len(starts) else len(line)
            assert start == 0 or line[start - 1] == " ", (line, start)
            cells.append(line[start:end].strip())
        rows.append(cells)
    return rows


# --- pure helpers -----------------------------------------------------------------------------


async def test_parse_timestamp_naive_is_helsinki_time() -> None:
    summer = parse_timestamp("--start", "2030-07-01T12:00")
    assert summer.astimezone(UTC) == datetime(2030, 7, 1, 9, 0, tzinfo=UTC)  # EEST, UTC+3
    winter = parse_timestamp("--start", "2030-01-15 12:00")
    assert winter.astimezone(UTC) == datetime(2030, 1, 15, 10, 0, tzinfo=UTC)  # EET, UTC+2
    assert parse_timestamp("--start", "2030-01-15T12:00Z") == datetime(
        2030, 1, 15, 12, 0, tzinfo=UTC
    )
    aware = parse_timestamp("--start", "2030-01-15T12:00+05:00")
    assert aware.astimezone(UTC) == datetime(2030, 1, 15, 7, 0, tzinfo=UTC)


async def test_parse_activity_list() -> None:
    assert parse_activity_list("2,3,4,5,6") == [2, 3, 4, 5, 6]
    assert parse_activity_list(" 6, 2 ") == [2, 6]
    assert parse_activity_list("none") == []
    assert parse_activity_list("") == []


# --- activity schedule / list / unschedule ----------------------------------------------------


async def test_schedule_prints_id_and_stores_helsinki_times(
    cli: Cli, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = int(await cli.schedule(MAIJA, "5", "2030-07-01T08:00", "2030-07-01 12:00"))
    second = int(
        await cli.schedule(
            "+358 40 123 4567", "3", "2030-07-01T09:00:00Z", "2030-07-01T16:00+03:00"
        )
    )
    assert second != first
    state = await snapshot(sessions)
    async with sessions() as s:
        maija_id = await s.scalar(select(User.id).where(User.username == MAIJA))

    def utc(hour: int) -> datetime:
        return datetime(2030, 7, 1, hour, tzinfo=UTC)

    # Naive 08:00/12:00 in July are EEST (UTC+3).
    assert state["scheduled"] == [
        (first, maija_id, 5, utc(5), utc(9)),
        (second, maija_id, 3, utc(9), utc(13)),
    ]


async def test_user_by_id_username_and_number_spellings(cli: Cli) -> None:
    spellings = (MAIJA, "1", "040 123 4567", "+358401234567", "040-1234567", "05 123 4010")
    for n, who in enumerate(spellings, start=1):
        await cli.schedule(who, "2", f"2030-01-0{n}T10:00", f"2030-01-0{n}T11:00")
    rows = table(await cli.ok("activity", "list", "1"))
    assert len(rows) == 1 + len(spellings)


async def test_list_is_an_aligned_table_in_helsinki_time(cli: Cli) -> None:
    now = datetime.now(UTC)
    hour, day = timedelta(hours=1), timedelta(days=1)
    current = await cli.schedule(MAIJA, "4", iso(now - hour), iso(now + hour))
    later = await cli.schedule(MAIJA, "7", "2030-01-15T12:00", "2030-01-15T16:30")
    ended = await cli.schedule(MAIJA, "6", iso(now - 2 * day), iso(now - day))
    # Another user's row must not show.
    await cli.schedule("0401234568", "2", "2030-01-15T12:00", "2030-01-15T13:00")

    rows = table(await cli.ok("activity", "list", MAIJA))
    assert rows[0] == ["ID", "ACT", "NAME", "COLOUR", "START", "END", "STATE"]
    assert [r[0] for r in rows[1:]] == [current, later]  # by start; ended one hidden
    assert rows[1][1:4] == ["4", "Neuvottelussa / In meeting", "red"]
    assert rows[1][6] == "in effect"
    assert rows[2] == [
        later, "7", "Etätöissä / Remote work", "green", "2030-01-15 12:00", "2030-01-15 16:30",
        "upcoming",
    ]  # fmt: skip

    rows = table(await cli.ok("activity", "list", MAIJA, "--all"))
    assert [r[0] for r in rows[1:]] == [ended, current, later]
    assert rows[1][6] == "ended"

    rows = table(await cli.ok("activity", "list", LIISA_MOBILE))
    assert rows == [["ID", "ACT", "NAME", "COLOUR", "START", "END", "STATE"]]


async def test_unschedule(cli: Cli, sessions: async_sessionmaker[AsyncSession]) -> None:
    row = await cli.schedule(MAIJA, "3", "2030-01-15T11:00", "2030-01-15T12:00")
    out = await cli.ok("activity", "unschedule", row)
    assert out.strip() == f"deleted scheduled activity {row}"
    assert (await snapshot(sessions))["scheduled"] == []
    await expect_error(
        cli, sessions, ("activity", "unschedule", row), f"no scheduled activity with id {row}"
    )
    await expect_error(cli, sessions, ("activity", "unschedule", "0"), "no scheduled activity")
    await expect_error(cli, sessions, ("activity", "unschedule", "x"), "invalid int value", code=2)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ((MAIJA, "9", "--start", "2030-01-15T11:00", "--end", "2030-01-15T12:00"),
         "field activity: activity must be between 1 and 8, not 9"),
        ((MAIJA, "0", "--start", "2030-01-15T11:00", "--end", "2030-01-15T12:00"),
         "activity must be between 1 and 8, not 0"),
        ((MAIJA, "x", "--start", "2030-01-15T11:00", "--end", "2030-01-15T12:00"),
         "field activity: 'x' is not a number"),
        ((MAIJA, "2", "--start", "2030-01-15T12:00", "--end", "2030-01-15T11:00"),
         "--end (2030-01-15 11:00) must be after --start (2030-01-15 12:00)"),
        ((MAIJA, "2", "--start", "2030-01-15T12:00", "--end", "2030-01-15T12:00"),
         "must be after --start"),
        # 12:00 Helsinki (EET) is 10:00 UTC: an end of 09:30Z is before it.
        ((MAIJA, "2", "--start", "2030-01-15T12:00", "--end", "2030-01-15T09:30Z"),
         "must be after --start"),
        ((MAIJA, "2", "--start", "tomorrow", "--end", "2030-01-15T12:00"),
         "--start: 'tomorrow' is not an ISO 8601 timestamp"),
        ((MAIJA, "2", "--start", "2030-01-15T12:00", "--end", "2030-13-01T00:00"),
         "--end: '2030-13-01T00:00' is not an ISO 8601 timestamp"),
        # Spring-forward gap: 03:00..04:00 on 2030-03-31 does not exist in Helsinki.
        ((MAIJA, "2", "--start", "2030-03-31T03:30", "--end", "2030-03-31T06:00"),
         "does not exist in Europe/Helsinki"),
        (("nobody@taipalsaari.fi", "2", "--start", "2030-01-15T11:00", "--end",
          "2030-01-15T12:00"), "unknown user 'nobody@taipalsaari.fi'"),
        (("0409999999", "2", "--start", "2030-01-15T11:00", "--end", "2030-01-15T12:00"),
         "unknown user '0409999999'"),
        (("99", "2", "--start", "2030-01-15T11:00", "--end", "2030-01-15T12:00"),
         "unknown user '99'"),
    ],
)  # fmt: skip
async def test_schedule_errors_change_nothing(
    cli: Cli, sessions: async_sessionmaker[AsyncSession], argv: tuple[str, ...], fragment: str
) -> None:
    await cli.schedule(MAIJA, "5", "2030-01-01T08:00", "2030-01-01T09:00")
    await expect_error(cli, sessions, ("activity", "schedule", *argv), fragment)


async def test_schedule_usage_errors_exit_2(
    cli: Cli, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await expect_error(
        cli, sessions, ("activity", "schedule", MAIJA, "2", "--start", "2030-01-15T11:00"),
        "required: --end", code=2,
    )  # fmt: skip
    await expect_error(cli, sessions, ("activity", "list"), "USER", code=2)
    code, out, _ = await cli("activity", "schedule", "--help")
    assert code == 0 and "Europe/Helsinki" in out and "ISO 8601" in out


async def test_list_and_show_unknown_user(
    cli: Cli, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await expect_error(cli, sessions, ("activity", "list", "0409999999"), "unknown user")
    await expect_error(cli, sessions, ("activity", "show", "nobody@x.fi"), "unknown user")
    await expect_error(
        cli, sessions, ("activity", "show", MAIJA, "--at", "noon"), "--at: 'noon' is not"
    )


# --- activity show ----------------------------------------------------------------------------


def show_fields(out: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in out.splitlines():
        if line.startswith(" ") or ":" not in line:
            continue
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


async def test_show_red_chain_role_and_forwardings(cli: Cli) -> None:
    # Away 08-12, lunch 12-13 (touching), in meeting 12:30-16 (overlapping): one red chain
    # to 16:00; then remote work (green) 16-17.
    ids = []
    for n, start, end in (
        ("5", "2030-01-15T08:00", "2030-01-15T12:00"),
        ("3", "2030-01-15T12:00", "2030-01-15T13:00"),
        ("4", "2030-01-15T12:30", "2030-01-15T16:00"),
        ("7", "2030-01-15T16:00", "2030-01-15T17:00"),
    ):
        ids.append(await cli.schedule(MAIJA, n, start, end))
    await cli.ok("role", "set", MAIJA, "2")
    await cli.ok("forward", "set", MAIJA, "05 123 4000", "--activity", "4")
    await cli.ok("forward", "set", MAIJA, LIISA_MOBILE, "--activity", "6")
    await cli.ok("forward", "set", MAIJA, "0401234568")

    out = await cli.ok("activity", "show", MAIJA, "--at", "2030-01-15T10:00")
    f = show_fields(out)
    assert f["user"].startswith(MAIJA)
    assert f["at"] == "2030-01-15 10:00"
    assert f["activity"] == "5 Poissa / Away (red until 2030-01-15 16:00)"
    assert f["manual"] == "1 Tavoitettavissa / Available (green)"
    assert f["scheduled"] == f"5 Poissa / Away, 2030-01-15 08:00 - 2030-01-15 12:00 (id {ids[0]})"
    assert f["role"] == "2 Lanka / Landline"
    assert f["forwarding"] == "+358401234568 (immediate)"
    assert "  4 Neuvottelussa / In meeting -> +35851234000" in out.splitlines()
    assert "  6 Lomalla / On holiday -> +358501234569" in out.splitlines()

    # 14:00 Helsinki = 12:00Z: in meeting, still red until 16:00.
    f = show_fields(await cli.ok("activity", "show", "1", "--at", "2030-01-15T12:00Z"))
    assert f["activity"] == "4 Neuvottelussa / In meeting (red until 2030-01-15 16:00)"

    f = show_fields(await cli.ok("activity", "show", "040 123 4567", "--at", "2030-01-15T16:30"))
    assert f["activity"] == "7 Etätöissä / Remote work (green)"
    assert f["scheduled"].startswith("7 Etätöissä / Remote work, 2030-01-15 16:00")

    # Nothing scheduled: the manual activity; red without a chain end.
    await cli.ok("activity", "set", MAIJA, "2")
    f = show_fields(await cli.ok("activity", "show", MAIJA, "--at", "2030-01-15T18:00"))
    assert f["activity"] == "2 Varattu / Busy (red)"
    assert f["manual"] == "2 Varattu / Busy (red)"
    assert f["scheduled"] == "-"


async def test_show_plain_user_now(cli: Cli) -> None:
    out = await cli.ok("activity", "show", LIISA_MOBILE)
    f = show_fields(out)
    assert f["activity"] == "1 Tavoitettavissa / Available (green)"
    assert f["role"] == "1 Mobiili / Mobile"
    assert f["forwarding"] == "-"
    assert "activity forwardings: -" in out


# --- org set-red ------------------------------------------------------------------------------


async def test_set_red_changes_colours(
    cli: Cli, sessions: async_sessionmaker[AsyncSession]
) -> None:
    out = await cli.ok("org", "set-red", "taipalsaari.fi", "2,3,7")
    assert out.strip() == "taipalsaari.fi: red 2,3,7; green 1,4,5,6,8"
    assert (await snapshot(sessions))["orgs"][0][1] == [2, 3, 7]
    await cli.ok("activity", "set", MAIJA, "7")
    f = show_fields(await cli.ok("activity", "show", MAIJA))
    assert f["activity"] == "7 Etätöissä / Remote work (red)"
    rows = table(await cli.ok("org", "list"))
    assert rows[1][rows[0].index("RED")] == "2,3,7"

    out = await cli.ok("org", "set-red", "TAIPALSAARI.FI", " 6, 2,3,4,5 ")
    assert out.strip() == "taipalsaari.fi: red 2,3,4,5,6; green 1,7,8"
    out = await cli.ok("org", "set-red", "taipalsaari.fi", "none")
    assert out.strip() == "taipalsaari.fi: red -; green 1,2,3,4,5,6,7,8"
    assert (await snapshot(sessions))["orgs"][0][1] == []


@pytest.mark.parametrize(
    ("red", "fragment"),
    [
        ("2,3,9", "red activities: activity must be between 1 and 8, not 9"),
        ("0,2", "activity must be between 1 and 8, not 0"),
        ("2,3,3", "red activities: activity 3 is listed twice"),
        ("2,x", "red activities: 'x' is not an activity number"),
        ("2,,3", "red activities: '' is not an activity number"),
        ("2;3", "red activities: '2;3' is not an activity number"),
    ],
)
async def test_set_red_bad_list_changes_nothing(
    cli: Cli, sessions: async_sessionmaker[AsyncSession], red: str, fragment: str
) -> None:
    await expect_error(cli, sessions, ("org", "set-red", "taipalsaari.fi", red), fragment)
    assert (await snapshot(sessions))["orgs"][0][1] == [2, 3, 4, 5, 6]


async def test_set_red_unknown_org(cli: Cli, sessions: async_sessionmaker[AsyncSession]) -> None:
    await expect_error(
        cli, sessions, ("org", "set-red", "nope.fi", "2,3"), "unknown organisation 'nope.fi'"
    )
    await expect_error(cli, sessions, ("org", "set-red", "taipalsaari.fi"), "LIST", code=2)


# --- forward ----------------------------------------------------------------------------------


async def test_forward_set_and_clear(cli: Cli, sessions: async_sessionmaker[AsyncSession]) -> None:
    out = await cli.ok("forward", "set", MAIJA, "05 123 4000", "--activity", "4")
    assert out.strip() == f"{MAIJA}: activity 4 forwarding to +35851234000"
    out = await cli.ok("forward", "set", "1", "+358 50 123 4569")
    assert out.strip() == f"{MAIJA}: immediate forwarding to +358501234569"
    await cli.ok("forward", "set", MAIJA, "0401234568", "--activity", "6")
    assert [(k, a, t) for _, _, k, a, t in (await snapshot(sessions))["forwards"]] == [
        ("activity", 4, "+35851234000"),
        ("immediate", None, "+358501234569"),
        ("activity", 6, "+358401234568"),
    ]
    # Replacing keeps one row per (kind, activity).
    await cli.ok("forward", "set", MAIJA, "0401234568", "--activity", "4")
    assert len((await snapshot(sessions))["forwards"]) == 3

    out = await cli.ok("forward", "set", MAIJA)  # no TARGET = clear the immediate one
    assert out.strip() == f"{MAIJA}: immediate forwarding cleared"
    out = await cli.ok("forward", "clear", MAIJA, "--activity", "4")
    assert out.strip() == f"{MAIJA}: activity 4 forwarding cleared"
    assert [(k, a) for _, _, k, a, _ in (await snapshot(sessions))["forwards"]] == [("activity", 6)]
    await cli.ok("forward", "set", MAIJA, LIISA_MOBILE)
    out = await cli.ok("forward", "clear", MAIJA)
    assert out.strip() == f"{MAIJA}: immediate forwarding cleared"
    assert [(k, a) for _, _, k, a, _ in (await snapshot(sessions))["forwards"]] == [("activity", 6)]
    # Clearing what is not set is fine (idempotent).
    await cli.ok("forward", "clear", MAIJA)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ((MAIJA, "040 123 4567"),
         "forwarding refused (own-number): +358401234567 is the user's own number"),
        ((MAIJA, "05 123 4010", "--activity", "4"), "forwarding refused (own-number)"),
        ((MAIJA, "0600 123456"), "forwarding refused (premium-or-shared-cost): +358600123456"),
        ((MAIJA, "12"), "forwarding refused (invalid-number): '12'"),
        ((MAIJA, "abc", "--activity", "3"), "forwarding refused (invalid-number)"),
        # Liisa forwards to Maija's mobile (set in the test): Maija -> Liisa would loop.
        ((MAIJA, LIISA_MOBILE),
         "forwarding refused (loop): forwarding to +358501234569 would loop back"),
        ((MAIJA, LIISA_MOBILE, "--activity", "9"), "activity must be between 1 and 8, not 9"),
        (("nobody@taipalsaari.fi", LIISA_MOBILE), "unknown user 'nobody@taipalsaari.fi'"),
    ],
)  # fmt: skip
async def test_forward_refused_changes_nothing(
    cli: Cli, sessions: async_sessionmaker[AsyncSession], argv: tuple[str, ...], fragment: str
) -> None:
    await cli.ok("forward", "set", LIISA_MOBILE, "040 123 4567")
    await cli.ok("forward", "set", MAIJA, "0401234568", "--activity", "4")
    await expect_error(cli, sessions, ("forward", "set", *argv), fragment)


async def test_forward_clear_errors(cli: Cli, sessions: async_sessionmaker[AsyncSession]) -> None:
    await cli.ok("forward", "set", MAIJA, "0401234568", "--activity", "4")
    await expect_error(
        cli, sessions, ("forward", "clear", MAIJA, "--activity", "9"),
        "activity must be between 1 and 8, not 9",
    )  # fmt: skip
    await expect_error(cli, sessions, ("forward", "clear", "0409999999"), "unknown user")
    await expect_error(
        cli, sessions, ("forward", "clear", MAIJA, "--activity", "x"), "invalid int", code=2
    )


# --- role show / forward show -----------------------------------------------------------------


async def test_role_show(cli: Cli, sessions: async_sessionmaker[AsyncSession]) -> None:
    out = await cli.ok("role", "show", MAIJA)
    assert out.splitlines() == [
        f"user: {MAIJA} (Maija Meikäläinen), taipalsaari.fi",
        "role: 1 Mobiili / Mobile",
    ]
    await cli.ok("role", "set", MAIJA, "3")
    for who in (MAIJA, "1", "+358 40 123 4567", "05 123 4010"):
        f = show_fields(await cli.ok("role", "show", who))
        assert f["role"] == "3 Vaihde / Switchboard"
        assert f["user"].startswith(MAIJA)
    # The same line as in 'activity show'.
    assert show_fields(await cli.ok("activity", "show", MAIJA))["role"] == f["role"]

    await expect_error(cli, sessions, ("role", "show", "0409999999"), "unknown user '0409999999'")
    await expect_error(cli, sessions, ("role", "show", "99"), "unknown user '99'")
    await expect_error(cli, sessions, ("role", "show"), "USER", code=2)


async def test_forward_show(cli: Cli, sessions: async_sessionmaker[AsyncSession]) -> None:
    out = await cli.ok("forward", "show", MAIJA)
    assert out.splitlines() == [
        f"user:       {MAIJA} (Maija Meikäläinen), taipalsaari.fi",
        "forwarding: -",
        "activity forwardings: -",
    ]
    await cli.ok("forward", "set", MAIJA, LIISA_MOBILE, "--activity", "6")
    await cli.ok("forward", "set", MAIJA, "05 123 4000", "--activity", "4")
    await cli.ok("forward", "set", MAIJA, "0401234568")
    out = await cli.ok("forward", "show", "040-1234567")
    assert out.splitlines() == [
        f"user:       {MAIJA} (Maija Meikäläinen), taipalsaari.fi",
        "forwarding: +358401234568 (immediate)",
        "activity forwardings:",
        "  4 Neuvottelussa / In meeting -> +35851234000",
        "  6 Lomalla / On holiday -> +358501234569",
    ]
    # The same lines as in 'activity show'.
    shown = await cli.ok("activity", "show", MAIJA)
    assert shown.splitlines()[-4:-3] == ["forwarding: +358401234568 (immediate)"]
    assert shown.splitlines()[-3:] == out.splitlines()[-3:]

    await cli.ok("forward", "clear", MAIJA)
    assert show_fields(await cli.ok("forward", "show", "1"))["forwarding"] == "-"
    await expect_error(cli, sessions, ("forward", "show", "nobody@x.fi"), "unknown user")
    await expect_error(cli, sessions, ("forward", "show"), "USER", code=2)


# --- as a process -----------------------------------------------------------------------------


async def test_subprocess_one_line_error(database_url: str, cli: Cli) -> None:
    env = {**os.environ, "VIPCALL_DATABASE_URL": database_url}
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "vipcall.cli", "activity", "schedule", MAIJA, "2",
         "--start", "2030-01-15T12:00", "--end", "2030-01-15T11:00"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert one_error_line(proc.stderr).startswith("vipcall: error: --end (2030-01-15 11:00)")
