"""A one-minute soak (the short version of ``python -m bench.soak``): calls at a steady rate
through the test stack, sampled every 5 s; nothing may grow with the calls: Asterisk's
channels and bridges come back to 0, the app's database connections stay within its pools,
and its descriptors and memory do not climb (least-squares slopes, bounds far above what
was measured here: README "Faults and hostile input")."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import make_url

from bench.soak import format_report, sample_while, summary, take_sample
from tests.scenarios.faults.load import Load, drained, national, provisioned

RATE = 10
SECONDS = 60
WARMUP = 10


async def test_one_minute_soak_grows_nothing(vipcall, asterisk, database, people, tmp_path) -> None:
    org = await people.org()
    callees = [await people.user(org) for _ in range(20)]
    await provisioned(asterisk, [p.mobile for p in callees])
    calls = [(p.mobile, national(i)) for i, p in enumerate(callees)]
    parsed = make_url(database)
    server = parsed.set(drivername="postgresql", database="postgres")
    dsn = server.render_as_string(hide_password=False)
    assert vipcall.proc is not None
    app_pid, ast_pid = vipcall.proc.pid, asterisk._pid() or 0
    load = Load(tmp_path / "soak", calls, rate=RATE, count=RATE * SECONDS, hold_ms=3000,
                handset_trace=False)  # fmt: skip
    load.start()
    try:
        samples = await sample_while(
            load, SECONDS, 5.0, asterisk, app_pid, ast_pid, dsn, parsed.database or ""
        )
        result = await asyncio.to_thread(load.finish)
    finally:
        load.stop()
    left = await drained(asterisk)
    await asyncio.sleep(1)
    after = await take_sample(asterisk, app_pid, ast_pid, dsn, parsed.database or "", 0)
    s = summary([x for x in samples if x.t >= WARMUP], after)
    print(f"\nSOAK {SECONDS} s at {RATE}/s: {result.successful}/{result.planned} ok\n"
          + format_report(s))  # fmt: skip

    assert result.failed == 0, result.caller_log
    assert left == 0 and after.bridges == 0
    assert s["db_connections"]["max"] <= 25, "the app's pools are 10 + 10 and one listener"
    assert s["app_fds"]["slope_per_min"] < 20 and after.app_fds <= s["app_fds"]["first"] + 10
    assert s["app_rss_mb"]["slope_per_min"] < 15
    assert s["ast_fds"]["slope_per_min"] < 40 and after.ast_fds <= s["ast_fds"]["first"] + 20
