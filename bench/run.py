"""vipcall benchmark: stepped SIPp call rates through one sandboxed Asterisk.

    .venv/bin/python -m bench.run            # full run (~6-9 minutes)
    .venv/bin/python -m bench.run --quick    # smoke run (~1 minute)

Three paths, interleaved rate by rate on the same Asterisk instance:

* ``dialplan``: caller 127.0.0.5 (bench-only endpoint ``bench-caller``, context
  ``bench-dialplan``) -> ``Dial(PJSIP/<number>@mobile,,b(vipcall-predial^s^1))``.
* ``vipcall``: caller 127.0.0.2 (the ``pstn`` trunk) -> ``Stasis(vipcall,in,pstn)`` -> the
  app looks the dialled user up in PostgreSQL, decides, hands the channel to
  ``[vipcall-ring]`` -> the same ``Dial`` to the mobile trunk.

Both deliver to the same handset UAS (SIPp on 127.0.0.3:5060), which answers every call
with 180 + 200 at once; the caller holds for ``--hold`` ms and hangs up.

* ``feature``: a user's own handset (mobile trunk, source 127.0.0.3 on its own SIP port,
  From = the user's mobile number) dials a feature code, 983n or 984n alternately: the app
  stores the change through the directory service (one PostgreSQL transaction), answers and
  hands the call to the dialplan, which plays the confirmation prompt and hangs up
  (``[vipcall-say]``); the caller answers the BYE. Timed: INVITE ->
  200 OK and INVITE -> first RTP packet of the prompt; checked: the users' stored state.

See bench/README.md.
"""


from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time

from bench.measure import PATHS
from bench.report import format_step
from bench.steps import RESULTS, Rig
from bench.tools import missing_tools


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--rates", default="25,50,75,100,125,150,200,300,400",
                   help="comma-separated call rates (calls/s)")  # fmt: skip
    p.add_argument("--duration", type=float, default=10.0, help="seconds of calls per step")
    p.add_argument("--hold", type=int, default=1000, help="call hold time, ms")
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--feature-rates", default="10,25,50",
                   help="comma-separated call rates of the feature path (calls/s)")  # fmt: skip
    p.add_argument("--paths", default="dialplan,vipcall,feature",
                   help="any of dialplan, vipcall, feature (comma-separated); opt-in: "
                   "voicemail (python -m bench.voicemail), service-number "
                   "(python -m bench.servicenumbers), each run after the others with its "
                   "own defaults (--quick: shorter)")  # fmt: skip
    p.add_argument("--log-level", default="WARNING", help="the app's VIPCALL_LOG_LEVEL")
    p.add_argument("--recv-timeout", type=int, default=10000,
                   help="ms a caller waits for each expected message before the call fails")  # fmt: skip  # noqa: E501
    p.add_argument("--drain-timeout", type=float, default=60.0)
    p.add_argument("--pause", type=float, default=2.0, help="seconds between steps")
    p.add_argument("--stop-fail-pct", type=float, default=10.0,
                   help="skip a path's higher rates after a step with more failures than this")  # fmt: skip  # noqa: E501
    p.add_argument("--profile-rate", type=int, default=50,
                   help="extra step per path profiled (py-spy on the app, perf on Asterisk) "
                   "at this rate; 0: none")  # fmt: skip
    p.add_argument(
        "--no-pcap",
        dest="pcap",
        action="store_false",
        help="no dumpcap capture: latency from SIPp's rtd timer (4 ms steps)",
    )
    p.add_argument("--keep-pcap", action="store_true")
    p.add_argument("--max-minutes", type=float, default=15.0, help="stop starting steps after this")
    p.add_argument("--quiet-wait", type=float, default=60.0,
                   help="before each step, wait up to this many seconds while other Asterisk/"
                   "SIPp/vipcall/pytest processes run (they share the CPUs)")  # fmt: skip
    p.add_argument(
        "--p99-limit",
        type=float,
        default=100.0,
        help="summary also gives the highest clean rate with INVITE->180 p99 below this",
    )
    p.add_argument("--sip-port", type=int, default=45060)
    p.add_argument("--ari-port", type=int, default=28188)  # below the ephemeral range
    p.add_argument("--app-http-port", type=int, default=29108)
    p.add_argument("--keep-db", action="store_true", help="do not drop the bench database")
    p.add_argument("--no-direct", action="store_true",
                   help="the app writes no direct routes (VIPCALL_DIRECT_ROUTES=false): every "
                   "vipcall call goes through Stasis")  # fmt: skip
    p.add_argument("--quick", action="store_true",
                   help="smoke run: rates 10,25, 3 s steps, 100 users, profile at 10/s")  # fmt: skip  # noqa: E501
    args = p.parse_args(argv)
    if args.quick:
        args.rates, args.duration, args.users, args.profile_rate = "10,25", 3.0, 100, 10
        args.pause, args.feature_rates = 1.0, "5,10"
    args.rates = [int(r) for r in str(args.rates).split(",") if r.strip()]
    args.feature_rates = [int(r) for r in str(args.feature_rates).split(",") if r.strip()]
    args.paths = [x.strip() for x in args.paths.split(",") if x.strip()]
    for path in args.paths:
        if path not in PATHS and path not in OPT_IN:
            p.error(f"unknown path {path!r}")
    args.command = shlex.join([".venv/bin/python", "-m", "bench.run", *(argv or sys.argv[1:])])
    return args


def run(args: argparse.Namespace) -> int:
    rig = Rig(args)
    rig.check_free()
    rig.foreign_at_start = rig.foreign_processes()
    if rig.foreign_at_start:
        print("bench: WARNING: other telephony/test processes are running; figures will be "
              "disturbed:\n  " + "\n  ".join(rig.foreign_at_start), flush=True)  # fmt: skip
    t_start = time.monotonic()
    print(f"bench: seeding {args.users} users ...", flush=True)
    asyncio.run(rig.seed())
    try:
        print("bench: starting Asterisk instance 'bench' ...", flush=True)
        rig.start_asterisk()
        print(f"bench: starting vipcall (log level {args.log_level}) ...", flush=True)
        rig.start_app()
        rig.measure_idle(5.0)
        # warm-up (not reported): DB pool connections, first-call imports, caches
        for path in args.paths:
            rig.run_step(path, 10, 2.0, tag="warmup")
        stopped: set[str] = set()
        # one schedule, by rate: dialplan/vipcall at --rates, feature at --feature-rates
        # (interleaved so every path sees the same Asterisk history)
        schedule = [
            (rate, path)
            for rate in sorted(set(args.rates) | set(args.feature_rates))
            for path in args.paths
            if rate in (args.feature_rates if path == "feature" else args.rates)
        ]  # fmt: skip
        for rate, path in schedule:
            if path in stopped:
                continue
            if time.monotonic() - t_start > args.max_minutes * 60:
                print("bench: time budget used up, stopping", flush=True)
                break
            rig.wait_quiet(args.quiet_wait)
            step = rig.run_step(path, rate, args.duration)
            rig.steps.append(step)
            print(format_step(step), flush=True)
            if step.planned and step.failed / step.planned * 100 > args.stop_fail_pct:
                print(f"bench: {path}: >{args.stop_fail_pct}% failed, no higher rates")
                stopped.add(path)
            if not rig.app.running:  # type: ignore[union-attr]
                print("bench: the app died; stopping", flush=True)
                break
            time.sleep(args.pause)
        if args.profile_rate and rig.app and rig.app.running:
            for path in args.paths:
                rate = args.profile_rate
                if path == "feature":
                    rate = min(rate, max(args.feature_rates))
                print(f"bench: profiling {path} at {rate} calls/s "
                      "(py-spy on the app, perf on Asterisk) ...", flush=True)  # fmt: skip
                rig.wait_quiet(args.quiet_wait)
                rig.run_step(path, rate, args.duration, profile=True)
                time.sleep(args.pause)
    finally:
        rig.stop()
    rig.report.foreign = sorted(set(rig.foreign_at_start) | rig.foreign_seen)
    report = rig.report.render(time.monotonic() - t_start)
    print(report)
    (rig.workdir / "results.md").write_text(report)
    (RESULTS / "latest.md").write_text(report)
    print(f"bench: written {RESULTS / 'latest.md'} (raw files in {rig.workdir})")
    return 0



#: Paths with their own rig and entry point, run only when named in --paths:
#: (module, its arguments for --quick).
OPT_IN = {
    "voicemail": ("bench.voicemail", ["--rates", "2,5", "--duration", "3"]),
    "service-number": ("bench.servicenumbers", ["--rates", "2,4", "--duration", "3"]),
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    opt_in = [p for p in args.paths if p in OPT_IN]
    args.paths = [p for p in args.paths if p not in OPT_IN]
    rc = 0
    if args.paths:
        problem = missing_tools(pcap=args.pcap)
        if problem:
            raise SystemExit(f"bench: {problem}")
        rc = run(args)
    for path in opt_in:
        import importlib

        module, quick = OPT_IN[path]
        print(f"bench: path {path}: python -m {module} {' '.join(quick if args.quick else [])}",
              flush=True)  # fmt: skip
        rc = importlib.import_module(module).main(quick if args.quick else []) or rc
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
