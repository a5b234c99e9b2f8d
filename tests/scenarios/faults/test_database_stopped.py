"""PostgreSQL stopped under load, then started again: calls go on ringing the users (the app
fails open to the dialplan), the app does not crash, it routes again by itself once the
database is back, and a message being left when the database went away is stored then.

The database is a throwaway server of this test's own (own_postgres.py), never the shared
cluster other tests use; the session's app is stopped meanwhile and an app of this test's
own is pointed at that server."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator

import pytest

from harness.app import AppProcess, eventually
from tests.scenarios.faults.load import Load, drained, in_stasis, national, provisioned
from tests.scenarios.faults.own_postgres import OwnPostgres
from tests.support.people import People, messages_of
from tests.support.sync import run_sync
from tests.support.voicemail import media_seconds
from vipcall.db.migrate import create_database_if_missing_async, upgrade_async

RATE = 10
HOLD_MS = 2000
AWAY = 5  # a red activity: a call to the landline goes to voicemail


@pytest.fixture(scope="module")
def own_database() -> Iterator[tuple[OwnPostgres, str]]:
    pg = OwnPostgres()
    try:
        pg.init()
        pg.start()
        url = pg.url("vipcall_faults")
        run_sync(create_database_if_missing_async(url))
        run_sync(upgrade_async(url))
        yield pg, url
    finally:
        pg.destroy()


def fail_open_count(app: AppProcess) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in app.metrics().splitlines()
        if line.startswith("vipcall_fail_open_total{")
    )


async def test_database_stopped_under_load(
    vipcall, asterisk, own_database, parties, tmp_path
) -> None:
    pg, url = own_database
    vipcall.stop()  # the session's app: this test runs its own against its own database
    app = AppProcess(asterisk, url, tmp_path / "vipcall.log", http_port=19111)
    await asyncio.to_thread(app.start)
    people = People(url)
    try:
        org = await people.org()
        callees = [await people.user(org) for _ in range(10)]
        red = await people.user(org, landline=True)
        await people.set_activity(red, AWAY)
    finally:
        await people.close()
    await provisioned(asterisk, [p.mobile for p in callees])
    calls = [(p.mobile, national(i)) for i, p in enumerate(callees)]
    load = Load(tmp_path / "load", calls, rate=RATE, count=RATE * 40, hold_ms=HOLD_MS)
    hold_ms = 24000
    try:
        load.start()
        await asyncio.sleep(2)
        # A caller leaving a message for the red user: answered, greeting, then recording.
        first_message = await parties.external_caller(
            "+358501110040", red.landline, "uac_message.xml", hold=str(hold_ms)
        ).start()
        line = await eventually(
            lambda: re.search(rf"greeting for user {red.id} \([^)]*\): (.*)", app.log_tail(400)),
            timeout=10,
        )
        greeting_s = media_seconds(line.group(1).split())
        assert greeting_s + 3 < hold_ms / 1000, "the caller must speak after the tone"
        stopped_at = time.time()
        await asyncio.to_thread(pg.stop)
        fail_open_before = fail_open_count(app)
        # A second caller for the red user while the database is away.
        second_message = await parties.external_caller(
            "+358501110041", red.landline, "uac_message.xml", hold=str(hold_ms)
        ).start()
        message_calls = [await first_message.wait(), await second_message.wait()]
        await asyncio.sleep(1.0)
        alive_while_down = app.running
        started_at = time.time()
        await asyncio.to_thread(pg.start)
        up_at = time.time()
        finishing = asyncio.create_task(asyncio.to_thread(load.finish))
        # Every caller the app sent to voicemail left a message: each is stored.
        taken = len(re.findall(rf"Voicemail\(user_id={red.id},", app.log_path.read_text()))
        stored = await eventually(
            lambda: _at_least(messages_of(url, red.id), taken), timeout=20, interval=0.2
        )
        stored_at = time.time()
        result = await finishing
        fail_opened = fail_open_count(app) - fail_open_before
        alive = app.running
    finally:
        load.stop()
        app.stop()
    left = await drained(asterisk)
    stasis = in_stasis(asterisk)

    down = [m for m in result.invites if stopped_at + 1 < m.at < started_at]
    failed_open = [m for m in down if m in result.failed_open()]
    after = [m for m in result.failed_open() if m.at > up_at]
    last_after = max([m.at - up_at for m in after] or [0])
    print(
        f"\nFAULT database-stopped: rate {RATE}/s hold {HOLD_MS} ms, {result.planned} calls, "
        f"{result.successful} ok, {result.failed} failed; PostgreSQL down "
        f"{up_at - stopped_at:.1f} s: {len(down)} calls reached the handset meanwhile, "
        f"{len(down) - len(failed_open)} routed by the app (remembered state), "
        f"{len(failed_open)} by fail-open (app count +{fail_opened:.0f}); fail-open calls after "
        f"the database was back: {len(after)}, the last {last_after:.2f} s "
        f"after; app alive {alive_while_down and alive}; voicemail: {taken} callers sent to "
        f"voicemail, {len(stored)} messages stored, the last {stored_at - up_at:.1f} s after the "
        f"database was back ({', '.join(str(m['duration_ms']) + ' ms' for m in stored)}); "
        f"channels left {left}, in Stasis {stasis}"
    )
    assert alive_while_down and alive, app.log_tail()
    assert result.failed == 0, result.caller_log
    assert len(down) >= RATE * 5, "calls reached the handset all the while"
    assert all(m.at - up_at < 15.0 for m in after), "routing again without a manual step"
    assert all(call.ok for call in message_calls), [c.log for c in message_calls]
    assert taken >= 1 and len(stored) == taken
    assert stored[0]["caller_number"] == "+358501110040"
    assert all(m["duration_ms"] > 1000 for m in stored)
    assert left == 0 and stasis == 0


async def _at_least(rows, n: int):  # type: ignore[no-untyped-def]
    found = await rows
    return found if len(found) >= n else None
