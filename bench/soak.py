"""Soak: calls at a steady rate through one sandboxed Asterisk and the app for a long time,
sampling what would show a leak: Asterisk's channels and bridges, the app's database
connections, open file descriptors and memory (and Asterisk's), and the slope of each.

    flock /tmp/vipcall-asterisk.lock .venv/bin/python -m bench.soak --minutes 10

Its own Asterisk instance ("soak", SIP 46060, ARI 28288), a throwaway database and the app
(harness), the same SIPp parties as the benchmark (caller 127.0.0.2 = the PSTN trunk, every
handset 127.0.0.3:5060, see harness/load.py). The samples taken during the calls are fitted
with a least-squares line; its slope per minute is what the report gives (a leak grows
with the calls, a steady state does not). After the calls: what is left once Asterisk has
drained. The short version, ``tests/scenarios/faults/test_soak.py``, runs the same sampling
for a minute on the test stack and asserts no growth.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg

from harness.load import Load, bridges, channels, drained, provisioned
from harness.party import port_busy

RESULTS = Path(__file__).resolve().parent / "results"
FIELDS = ("channels", "bridges", "db_connections", "app_fds", "app_rss_mb", "ast_fds",
          "ast_rss_mb")  # fmt: skip


@dataclass
class Sample:
    t: float  # seconds since the calls started
    channels: int
    bridges: int
    db_connections: int
    app_fds: int
    app_rss_mb: float
    ast_fds: int
    ast_rss_mb: float


def fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return -1.0


async def db_connections(server_dsn: str, database: str) -> int:
    """Connections to ``database`` now (pg_stat_activity), this query's own not counted."""
    conn = await asyncpg.connect(server_dsn, timeout=5)
    try:
        n = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await conn.close()
    return int(n)


async def take_sample(
    instance: Any, app_pid: int, ast_pid: int, server_dsn: str, database: str, t0: float
) -> Sample:
    return Sample(
        round(time.monotonic() - t0, 1),
        await asyncio.to_thread(channels, instance),
        await asyncio.to_thread(bridges, instance),
        await db_connections(server_dsn, database),
        fds(app_pid),
        round(rss_mb(app_pid), 1),
        fds(ast_pid),
        round(rss_mb(ast_pid), 1),
    )


def slope_per_minute(samples: list[Sample], name: str) -> float:
    """Least-squares slope of ``name`` over the samples, per minute."""
    xs = [s.t / 60 for s in samples]
    ys = [float(getattr(s, name)) for s in samples]
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


async def sample_while(
    load: Load, seconds: float, interval: float, instance: Any, app_pid: int, ast_pid: int,
    server_dsn: str, database: str,
) -> list[Sample]:  # fmt: skip
    """Samples every ``interval`` s while the load runs (``seconds`` of calls)."""
    samples: list[Sample] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        samples.append(await take_sample(instance, app_pid, ast_pid, server_dsn, database, t0))
        if load._uac is not None and load._uac.poll():
            break
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - t0) % interval))
    return samples


def summary(samples: list[Sample], after: Sample | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FIELDS:
        values = [getattr(s, name) for s in samples]
        out[name] = {
            "first": values[0] if values else None,
            "last": values[-1] if values else None,
            "min": min(values) if values else None,
            "max": max(values) if values else None,
            "slope_per_min": round(slope_per_minute(samples, name), 3),
            "after_drain": getattr(after, name) if after is not None else None,
        }
    return out


def format_report(summ: dict[str, Any]) -> str:
    lines = ["| metric | first | last | min | max | slope /min | after drain |",
             "|--|--:|--:|--:|--:|--:|--:|"]  # fmt: skip
    for name, v in summ.items():
        lines.append(
            f"| {name} | {v['first']} | {v['last']} | {v['min']} | {v['max']} | "
            f"{v['slope_per_min']:+.3f} | {v['after_drain']} |"
        )
    return "\n".join(lines)


# -- the bench entry ------------------------------------------------------------------------


async def seed(url: str, users: int) -> list[str]:
    from vipcall.db.engine import create_engine, session_factory, transaction
    from vipcall.directory import create_organization, create_user

    engine = create_engine(url)
    sessions = session_factory(engine)
    mobiles = [f"+35840{6000000 + i:07d}" for i in range(users)]
    try:
        async with transaction(sessions) as s:
            await create_organization(
                s, name="Soak Oy", domain="soak.example.fi", switchboard_number="+35891000001"
            )
        async with transaction(sessions) as s:
            for i, mobile in enumerate(mobiles):
                await create_user(s, organization="soak.example.fi",
                                  display_name=f"Soak User {i}", mobile=mobile)  # fmt: skip
    finally:
        await engine.dispose()
    return mobiles


async def run(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from harness.app import AppProcess
    from harness.db import drop_database, fresh_database
    from harness.load import national
    from vipcall.sandbox import Instance

    for ip in ("127.0.0.2", "127.0.0.3"):
        if port_busy(ip, 5060 if ip.endswith(".3") else 5301):
            print(f"soak: {ip} in use (a bench or make run?)", file=sys.stderr)
            return 2
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = RESULTS / f"soak-{stamp}"
    workdir.mkdir(parents=True, exist_ok=True)
    url = await fresh_database("vipcall_soak")
    parsed = make_url(url)
    database = parsed.database or ""
    server_dsn = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    instance = Instance(
        name="soak", sip_port=args.sip_port, ari_port=args.ari_port, rtp_start=50000,
        rtp_end=54999, pstn_host="127.0.0.2", mobile_host="127.0.0.3", ring_timeout=30,
    )  # fmt: skip
    app: AppProcess | None = None
    try:
        mobiles = await seed(url, args.users)
        instance.start()
        ast_pid = instance._pid() or 0
        app = AppProcess(instance, url, workdir / "vipcall.log", http_port=args.app_http_port,
                         ring_timeout=30, extra_env={"VIPCALL_LOG_LEVEL": "WARNING",
                                                      "VIPCALL_SYNC_INTERVAL": "30"})  # fmt: skip
        app.start(timeout=30)
        assert app.proc is not None
        await provisioned(instance, mobiles, timeout=120)
        calls = [(m, national(i)) for i, m in enumerate(mobiles)]
        seconds = args.minutes * 60
        load = Load(
            workdir / "load", calls, rate=args.rate, count=int(args.rate * seconds),
            asterisk=f"127.0.0.1:{args.sip_port}", caller_ip="127.0.0.2",
            handset_ip="127.0.0.3", hold_ms=args.hold, handset_trace=False,
        )  # fmt: skip
        print(f"soak: {args.minutes} min at {args.rate}/s, hold {args.hold} ms, "
              f"{args.users} users, sampling every {args.interval} s ...", flush=True)  # fmt: skip
        load.start()
        try:
            samples = await sample_while(load, seconds, args.interval, instance, app.proc.pid,
                                         ast_pid, server_dsn, database)  # fmt: skip
            result = await asyncio.to_thread(load.finish)
        finally:
            load.stop()
        left = await drained(instance, timeout=60)
        await asyncio.sleep(2)
        after = await take_sample(instance, app.proc.pid, ast_pid, server_dsn, database,
                                  time.monotonic())  # fmt: skip
        warm = [s for s in samples if s.t >= args.warmup]
        summ = summary(warm, after)
        report = {
            "command": " ".join(sys.argv),
            "started": stamp,
            "rate": args.rate,
            "minutes": args.minutes,
            "hold_ms": args.hold,
            "calls": {
                "planned": result.planned,
                "successful": result.successful,
                "failed": result.failed,
            },  # fmt: skip
            "channels_left": left,
            "app_alive": app.running,
            "warmup_s": args.warmup,
            "summary": summ,
            "samples": [asdict(s) for s in samples],
        }
        (workdir / "soak.json").write_text(json.dumps(report, indent=1))
        print(f"soak: calls {result.successful}/{result.planned} ok, {result.failed} failed; "
              f"channels left {left}; app alive {app.running}")  # fmt: skip
        print(f"soak: slopes over the samples after {args.warmup} s (per minute):")
        print(format_report(summ))
        print(f"soak: results in {workdir}")
        return 0 if result.failed == 0 and left == 0 else 1
    finally:
        if app is not None:
            app.stop()
        instance.stop()
        if not args.keep_db:
            await drop_database(url)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--rate", type=float, default=20.0, help="calls per second")
    p.add_argument("--hold", type=int, default=3000, help="call hold time, ms")
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--warmup", type=float, default=30.0,
                   help="samples before this many seconds are left out of the slopes")  # fmt: skip
    p.add_argument("--sip-port", type=int, default=46060)
    p.add_argument("--ari-port", type=int, default=28288)
    p.add_argument("--app-http-port", type=int, default=29208)
    p.add_argument("--keep-db", action="store_true")
    return asyncio.run(run(p.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
