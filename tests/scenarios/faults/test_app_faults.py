"""The app killed with SIGKILL under load, and the app absent: measured with a steady SIPp
load through the real Asterisk (see load.py for how a call's router is told apart).

Each test prints a ``FAULT ...`` line with its figures (README "Faults and hostile input")."""

from __future__ import annotations

import asyncio
import time

from harness.app import eventually
from tests.scenarios.faults.load import Load, channels, drained, in_stasis, national, provisioned

RATE = 15  # calls/s: well inside what one app and Asterisk route on this machine
HOLD_MS = 4000


async def users(people, asterisk, n: int = 10):  # type: ignore[no-untyped-def]
    org = await people.org()
    made = [await people.user(org) for _ in range(n)]
    await provisioned(asterisk, [p.mobile for p in made])
    return made


def reconciled(app) -> dict[str, float]:  # type: ignore[no-untyped-def]
    found: dict[str, float] = {}
    for line in app.metrics().splitlines():
        if line.startswith("vipcall_reconciled_total{"):
            action = line.split('action="', 1)[1].split('"', 1)[0]
            found[action] = float(line.rsplit(" ", 1)[1])
    return found


async def test_app_killed_under_load_drops_no_call_and_routes_again(
    vipcall, asterisk, people, tmp_path
) -> None:
    callees = await users(people, asterisk)
    calls = [(p.mobile, national(i)) for i, p in enumerate(callees)]
    load = Load(tmp_path / "load", calls, rate=RATE, count=RATE * 16, hold_ms=HOLD_MS).start()
    try:
        await asyncio.sleep(6)  # calls up, others ringing and arriving
        killed_at = time.time()
        vipcall.kill9()
        await asyncio.sleep(0.5)  # the supervisor's first backoff (make run, systemd)
        restart_at = time.time()
        await asyncio.to_thread(vipcall.start)
        healthy_at = time.time()
        result = await asyncio.to_thread(load.finish)
    finally:
        load.stop()
    left = await drained(asterisk)
    stasis = in_stasis(asterisk)
    taken = reconciled(vipcall)

    up_at_kill = result.up_at(killed_at, HOLD_MS / 1000)
    first = result.first_routed_after(restart_at)
    print(
        f"\nFAULT app-kill: rate {RATE}/s hold {HOLD_MS} ms, {result.planned} calls, "
        f"{result.successful} ok, {result.failed} failed; {up_at_kill} calls up at the kill, "
        f"all ended normally: {result.failed == 0}; handset got {len(result.invites)} "
        f"({len(result.failed_open())} by fail-open, {len(result.routed())} by the app); "
        f"restart->healthy {healthy_at - restart_at:.2f} s, kill->first routed call "
        f"{(first or 0) - killed_at:.2f} s, restart->first routed call "
        f"{(first or 0) - restart_at:.2f} s; reconciled {taken}; channels left {left}, "
        f"in Stasis {stasis}"
    )
    assert up_at_kill >= RATE, "the kill must hit established calls"
    assert result.failed == 0, result.caller_log
    assert len(result.invites) == result.planned
    assert result.failed_open(), "calls while the app was away fail open"
    assert first is not None and first - restart_at < 10.0
    assert left == 0 and stasis == 0


async def test_app_absent_every_call_still_rings_the_user(
    vipcall, asterisk, people, tmp_path
) -> None:
    callees = await users(people, asterisk)
    calls = [(p.mobile, national(i)) for i, p in enumerate(callees)]
    vipcall.kill9()
    try:
        load = Load(tmp_path / "absent", calls, rate=20, count=100, hold_ms=1000).start()
        try:
            result = await asyncio.to_thread(load.finish)
        finally:
            load.stop()
    finally:
        await asyncio.to_thread(vipcall.start)
    by_number = {m.request_user for m in result.invites}
    marked = [m for m in result.invites if m.header("X-Vipcall") == "delivered"]
    print(
        f"\nFAULT app-absent: {result.planned} calls at 20/s, {result.successful} answered, "
        f"{len(result.invites)} rang the handset ({len(result.failed_open())} by the fail-open "
        f"dialplan, {len(marked)} marked delivered), {len(by_number)} distinct users"
    )
    assert result.successful == result.planned, result.caller_log
    assert len(result.failed_open()) == result.planned
    assert len(marked) == result.planned
    assert by_number == {p.mobile for p in callees}
    await eventually(lambda: channels(asterisk) == 0, timeout=10)
