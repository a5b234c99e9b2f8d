"""Asterisk restarted under load: the app reconnects by itself; measured from Asterisk
answering ARI again to the app being ready (``/health``) and to the first call it routes.
Calls up in the old Asterisk are lost with it (the process that carried them is gone):
counted, not hidden."""

from __future__ import annotations

import asyncio
import time

from tests.scenarios.faults.load import Load, drained, in_stasis, national
from tests.scenarios.faults.test_app_faults import users

RATE = 10
HOLD_MS = 2000


def _answers(check) -> bool:  # type: ignore[no-untyped-def]
    try:
        check()
    except Exception:  # noqa: BLE001 - down, refused, 503, timeout: not up
        return False
    return True


async def watch_up(asterisk, app) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Poll (every 20 ms) Asterisk's ARI and the app's readiness through a restart: the
    moments ARI answers again and the app is ready again, both after they were seen down."""
    seen_down = False
    ari_at = 0.0
    while True:
        ari = await asyncio.to_thread(
            _answers, lambda: asterisk.ari_get("/asterisk/info", timeout=0.5)
        )
        ready = await asyncio.to_thread(_answers, lambda: app.wait_healthy(0.01))
        now = time.time()
        if not ari:
            seen_down = True
        elif seen_down and not ari_at:
            ari_at = now
        if ari_at and ready:
            return ari_at, now
        await asyncio.sleep(0.02)


async def test_app_reconnects_after_asterisk_restarts_under_load(
    vipcall, asterisk, people, tmp_path
) -> None:
    callees = await users(people, asterisk)
    calls = [(p.mobile, national(i)) for i, p in enumerate(callees)]
    load = Load(
        tmp_path / "load", calls, rate=RATE, count=RATE * 20, hold_ms=HOLD_MS, recv_timeout_ms=4000
    ).start()
    try:
        await asyncio.sleep(5)
        watch = asyncio.create_task(watch_up(asterisk, vipcall))
        await asyncio.sleep(0.2)
        stopped_at = time.time()
        await asyncio.to_thread(asterisk.stop)
        down_at = time.time()
        await asyncio.to_thread(asterisk.start)
        ari_at, healthy_at = await asyncio.wait_for(watch, 30)
        result = await asyncio.to_thread(load.finish)
    finally:
        load.stop()
    left = await drained(asterisk)
    stasis = in_stasis(asterisk)

    first = result.first_routed_after(ari_at)
    lost_up = result.up_at(stopped_at, HOLD_MS / 1000)
    after = [m for m in result.invites if m.at > (first or 0) + 1.0]  # 1 s: in flight
    print(
        f"\nFAULT asterisk-restart: rate {RATE}/s hold {HOLD_MS} ms, {result.planned} calls, "
        f"{result.successful} ok, {result.failed} failed ({lost_up} were up when Asterisk "
        f"stopped); stop took {down_at - stopped_at:.2f} s, start (to ARI answering) "
        f"{ari_at - down_at:.2f} s; ARI up->app ready {(healthy_at or 0) - ari_at:.2f} s, "
        f"ARI up->first routed call {(first or 0) - ari_at:.2f} s; from 1 s later "
        f"{len(after)} calls reached the handset, {len([m for m in after if m in result.routed()])}"
        f" routed by the app; channels left {left}, in Stasis {stasis}"
    )
    assert healthy_at is not None and healthy_at - ari_at < 15.0
    assert first is not None and first - ari_at < 15.0
    assert len(after) >= RATE * 3
    assert all(m in result.routed() for m in after), "once reconnected the app routes"
    assert left == 0 and stasis == 0
