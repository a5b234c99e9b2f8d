"""Many established calls through one app, with many users loaded (issue 10: "1,000
concurrent established calls through one app process (signalling only), memory per call
and per user reported; 100,000 users loaded").

    .venv/bin/python -m bench.concurrency [--users 100000] [--rate 50] [--hold 25]

The rig of ``bench.run`` (one sandboxed Asterisk ``bench``, the app as its own process, the
SIPp caller on the PSTN trunk and the handset UAS), with the database seeded in SQL
(``bench.routing_state.SEED``: ``--users`` users in 10 organisations, with forwardings,
schedules, softphones, VIP contacts, stopped calls) instead of through the service layer.
Calls are placed at ``--rate`` for ``--duration`` s and each is held ``--hold`` s after the
answer (no media), so about rate x min(hold, duration) calls are up at once at the peak.

Reported: the peak of established calls (Asterisk's ``core show channels count``, active
calls), failed calls, the app's RSS idle with the users loaded and its peak during the calls
(so memory per established call), the app's CPU per call, and the routing state's size
(the app's ``vipcall_routing_cache_users``). Memory per user is measured without Asterisk
by ``bench.routing_state`` (tracemalloc of the loaded state). Run it alone on the machine,
under the sandbox lock.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import threading
import time

import asyncpg

from bench.measure import app_metrics
from bench.routing_state import SEED
from bench.run import parse_args
from bench.steps import Rig
from harness.app import AppProcess
from harness.db import fresh_database
from vipcall.store.pool import asyncpg_dsn


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


async def _seed(rig: Rig, users: int) -> None:
    rig.database_url = await fresh_database("vipcall_bench")
    conn = await asyncpg.connect(asyncpg_dsn(rig.database_url))
    try:
        await conn.execute(SEED.replace("$USERS", str(users)))
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    # Callers dial users whose calls ring (SEED: activity 1 + id % 8, so ids 0, 6, 7 mod 8
    # are green; every 10th forwards, every 7th has a red scheduled activity): the test is
    # established calls, not voicemail.
    rig.mobiles = [
        f"+35840{5000000 + i}"
        for i in range(1, users + 1)
        if i % 8 in (0, 6, 7) and i % 10 and i % 7
    ]
    rnd = random.Random(2)
    rig.numbers = [
        (rnd.choice(rig.mobiles), f"+35850{1000000 + i:07d}")
        for i in range(max(5000, int(rig.args.rates[0] * rig.args.duration) + 100))
    ]


def _start_app(rig: Rig, users: int, timeout: float) -> float:
    """Start the app; wait until its routing state holds every user and Asterisk has the
    numbers pushed (the fail-open AstDB). Returns the seconds that took."""
    assert rig.instance is not None and rig.database_url is not None
    started = time.monotonic()
    rig.app = AppProcess(
        rig.instance, rig.database_url, rig.workdir / "vipcall.log",
        http_port=rig.args.app_http_port, ring_timeout=30,
        extra_env={"VIPCALL_LOG_LEVEL": rig.args.log_level, "VIPCALL_SYNC_INTERVAL": "30"},
    )  # fmt: skip
    rig.app.start(timeout=30)
    deadline = started + timeout
    while time.monotonic() < deadline:
        m = app_metrics(rig.args.app_http_port)
        if m.get("vipcall_routing_cache_fresh") == 1 and m.get(
            "vipcall_routing_cache_users", 0
        ) >= users:
            break
        time.sleep(0.5)
    else:
        raise SystemExit("bench: the app's routing state did not load in time")
    loaded = time.monotonic() - started
    print(f"bench: routing state of {users} users loaded {loaded:.1f} s after the start",
          flush=True)  # fmt: skip
    while time.monotonic() < deadline:
        out = rig.instance.cli("database show vipcall-ring", timeout=60)
        m2 = re.search(r"(\d+) results? found", out)
        if m2 and int(m2.group(1)) >= users:
            break
        time.sleep(2)
    else:
        raise SystemExit("bench: provisioning did not finish in time")
    # the direct routes' first full write (vipcall.service.direct): the gauge is set when
    # the round ends
    while time.monotonic() < deadline:
        written = app_metrics(rig.args.app_http_port).get("vipcall_direct_routes", 0)
        if written:
            print(f"bench: {int(written)} direct routes written "
                  f"{time.monotonic() - started:.1f} s after the start", flush=True)  # fmt: skip
            break
        time.sleep(1)
    else:
        raise SystemExit("bench: the direct routes were not written in time")
    return loaded


def run(ns: argparse.Namespace) -> int:
    hold_ms = int(ns.hold * 1000)
    args = parse_args([
        "--paths", "vipcall", "--rates", str(ns.rate), "--duration", str(ns.duration),
        "--hold", str(hold_ms), "--recv-timeout", str(hold_ms + 20000),
        "--drain-timeout", str(ns.hold + 60), "--users", str(ns.users), "--profile-rate", "0",
        "--quiet-wait", "0", "--no-pcap",
    ])  # fmt: skip
    rig = Rig(args)
    rig.check_free()
    foreign = rig.foreign_processes()
    if foreign:
        print("bench: WARNING: other processes share the machine:\n  " + "\n  ".join(foreign))
    print(f"bench: seeding {ns.users} users (SQL) ...", flush=True)
    asyncio.run(_seed(rig, ns.users))
    try:
        rig.start_asterisk()
        loaded = _start_app(rig, ns.users, ns.start_timeout)
        assert rig.app is not None and rig.app.proc is not None
        pid = rig.app.proc.pid
        time.sleep(3)
        idle_rss = _rss_kib(pid)
        samples: list[tuple[float, int, int | None]] = []
        done = threading.Event()

        def sample() -> None:
            t0 = time.monotonic()
            while not done.is_set():
                channels = rig.active_channels()
                samples.append((time.monotonic() - t0, _rss_kib(pid), channels))
                done.wait(1.0)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        step = rig.run_step("vipcall", ns.rate, ns.duration, tag="concurrency")
        done.set()
        sampler.join()
        peak_rss = max(r for _, r, _ in samples)
        peak_channels = max((c or 0) for _, _, c in samples)
        peak_calls = peak_channels // 2  # caller leg + handset leg per established call
        per_call = (peak_rss - idle_rss) * 1024 / peak_calls if peak_calls else 0.0
        m = app_metrics(args.app_http_port)
        command = " ".join([".venv/bin/python", "-m", "bench.concurrency", *sys.argv[1:]])
        app_ms = f"{step.app_ms:.2f}" if step.app_ms is not None else "?"
        ast_ms = f"{step.ast_ms:.2f}" if step.ast_ms is not None else "?"
        lines = [
            f"# Concurrency: {ns.rate} calls/s for {ns.duration:.0f} s, held {ns.hold:.0f} s, "
            f"{ns.users} users loaded",
            "",
            f"Command: `{command}`",
            f"Other processes at the start: {'; '.join(foreign) if foreign else 'none'}",
            "",
            f"- calls: {step.successful}/{step.planned} completed, {step.failed} failed, "
            f"fail-open {step.fail_open}",
            f"- peak established calls: **{peak_calls}** ({peak_channels} channels in Asterisk)",
            f"- routing state: {int(m.get('vipcall_routing_cache_users', 0))} users, loaded "
            f"{loaded:.1f} s after the app started",
            f"- app RSS: idle with the users loaded {idle_rss / 1024:.1f} MiB, peak during the "
            f"calls {peak_rss / 1024:.1f} MiB: **{per_call:.0f} B per established call**",
            f"- app CPU {app_ms} ms per call; Asterisk {ast_ms} ms per call",
            f"- call tasks in the app at the end: {int(m.get('vipcall_active_call_tasks', 0))} "
            "(a handed-off call leaves the app: it holds nothing per established call)",
            "",
            "Samples (s, app RSS MiB, Asterisk channels):",
            "",
            *(f"    {t:5.1f}  {r / 1024:7.1f}  {c}" for t, r, c in samples),
        ]
        report = "\n".join(lines)
        print(report)
        (rig.workdir / "concurrency.md").write_text(report)
        return 0 if step.failed == 0 else 1
    finally:
        rig.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.concurrency", description=__doc__)
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--rate", type=int, default=50)
    p.add_argument("--duration", type=float, default=25.0)
    p.add_argument("--hold", type=float, default=25.0, help="seconds each call is held")
    p.add_argument("--start-timeout", type=float, default=300.0)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
