"""Micro-benchmark: CPU per ARI REST request, HTTP vs REST over the events websocket.

Not a test (pytest does not collect it). Runs its own Asterisk from the sandbox chroot
(instance ``ari-bench``: SIP 27070 / ARI 28090 / RTP 30000-30499), parks one Local
channel in the Stasis app and times ``set_channel_var`` on it (each one also makes
Asterisk send a ChannelVarset event, which the EventStream receives: parsed, or dropped
unparsed with ``skip_types``) and ``asterisk_info`` (no event), sequentially and with
20 concurrent callers. Reports the app's CPU per request (``time.process_time``: this
process, i.e. aiohttp + JSON + asyncio), Asterisk's CPU per request (/proc/<pid>/stat)
and wall time.

    .venv/bin/python tests/ari/bench_rest.py [-n 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from vipcall.ari import AriClient  # noqa: E402
from vipcall.sandbox import Instance, default_root  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


async def measure(
    label: str, call: Callable[[], Awaitable[Any]], n: int, ast_pid: int, concurrency: int = 1
) -> dict[str, float]:
    for _ in range(100):  # warm-up
        await call()
    await asyncio.sleep(0.2)
    ast0, cpu0, wall0 = proc_cpu(ast_pid), time.process_time(), time.perf_counter()
    if concurrency == 1:
        for _ in range(n):
            await call()
    else:

        async def worker(k: int) -> None:
            for _ in range(k):
                await call()

        await asyncio.gather(*(worker(n // concurrency) for _ in range(concurrency)))
    wall = time.perf_counter() - wall0
    await asyncio.sleep(0.3)  # let the last events arrive (idle: ~no CPU)
    cpu = time.process_time() - cpu0
    ast = proc_cpu(ast_pid) - ast0
    return {
        "app_us": cpu / n * 1e6,
        "ast_us": ast / n * 1e6,
        "wall_us": wall / n * 1e6,
    }


async def run_mode(inst: Instance, ws: bool, skip: bool, n: int, ast_pid: int) -> dict[str, Any]:
    ari = AriClient(
        inst.ari_url, inst.ari_user, inst.ari_password, inst.ari_app, rest_over_websocket=ws
    )
    seen: list[str] = []
    starts: list[dict[str, Any]] = []

    def handler(ev: dict[str, Any]) -> None:
        seen.append(ev["type"])
        if ev["type"] == "StasisStart":
            starts.append(ev)

    stream = ari.events(skip_types=frozenset({"ChannelVarset"}) if skip else None)
    task = asyncio.create_task(stream.run(handler))
    try:
        await asyncio.wait_for(stream.ready.wait(), 10)
        if ws:
            while ari.ws_transport is None:
                await asyncio.sleep(0.01)
        leg1 = (await ari.originate("Local/+358401234567@vipcall-inbound", timeout=30))["id"]
        while not any(e["channel"]["id"] != leg1 for e in starts):
            await asyncio.sleep(0.01)
        chan = next(e["channel"]["id"] for e in starts if e["channel"]["id"] != leg1)
        assert ari.transport == ("websocket" if ws else "http")
        res = {
            "set_var": await measure(
                "set", lambda: ari.set_channel_var(chan, "VIP_RING", "x" * 40), n, ast_pid
            ),
            "set_var x20": await measure(
                "set20",
                lambda: ari.set_channel_var(chan, "VIP_RING", "x" * 40),
                n,
                ast_pid,
                concurrency=20,
            ),
            "asterisk_info": await measure("info", ari.asterisk_info, n, ast_pid),
        }
        res["varset_events_seen"] = seen.count("ChannelVarset")
        await ari.hangup(chan)
        return res
    finally:
        stream.stop()
        await asyncio.wait_for(task, 5)
        await ari.close()


async def main_async(inst: Instance, n: int, rounds: int) -> None:
    pid = inst._pid()
    assert pid is not None
    modes = [
        ("HTTP", False, False),
        ("websocket", True, False),
        ("HTTP + skip_types", False, True),
        ("websocket + skip_types", True, True),
    ]
    results: dict[str, list[dict[str, Any]]] = {m[0]: [] for m in modes}
    for _ in range(rounds):  # interleaved so both see the same machine state
        for label, ws, skip in modes:
            results[label].append(await run_mode(inst, ws, skip, n, pid))
    print(f"\nN={n} requests per measurement, median of {rounds} rounds, µs per request\n")
    print("| transport | call | app CPU µs | Asterisk CPU µs | wall µs |")
    print("|---|---|--:|--:|--:|")
    for label, _ws, _skip in modes:
        for call in ("set_var", "set_var x20", "asterisk_info"):
            vals = [r[call] for r in results[label]]
            med = {k: statistics.median(v[k] for v in vals) for k in vals[0]}
            print(
                f"| {label} | {call} | {med['app_us']:.0f} | {med['ast_us']:.0f} "
                f"| {med['wall_us']:.0f} |"
            )
    for label, _ws, _skip in modes:
        print(
            f"{label}: ChannelVarset events delivered to the handler: "
            f"{[r['varset_events_seen'] for r in results[label]]}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (default_root() / "usr/sbin/asterisk").exists():
        print("Asterisk chroot not built (python -m vipcall.sandbox build)", file=sys.stderr)
        return 2
    inst = Instance(
        name="ari-bench", sip_port=27070, ari_port=28090, rtp_start=30000, rtp_end=30499
    )
    if inst.is_running():
        inst.stop()
    inst.start()
    try:
        asyncio.run(main_async(inst, args.n, args.rounds))
    finally:
        inst.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
