"""Service-number bench (issue 8): callers into one service number under load.

    .venv/bin/python -m bench.servicenumbers              # 5 members, rates 1,2,4,6 calls/s
    .venv/bin/python -m bench.servicenumbers --strategy ring_all --rates 2,4
    .venv/bin/python -m bench.run --paths service-number  # the same, through bench.run

The real chain: a sandboxed Asterisk (instance ``benchsn``), a fresh database, the app as
its own process (``harness.app``). One organisation, one service number (customer service,
``--strategy`` longest_idle by default, member ring time 20 s, maximum wait 120 s, overflow
to the "all lines busy" announcement) with ``--members`` logged-in members. Callers (SIPp on
the PSTN trunk, ``bench/sipp/sn_caller.xml``, a different caller number per call) dial it
at a steady rate; the app answers each into the queue (music on hold) and rings members'
handsets through the mobile core, where one SIPp UAS (``bench/sipp/sn_member.xml``) answers
for every member after ``--ring`` ms, talks ``--talk`` ms and hangs up; Asterisk then hangs
up the caller.

Per call, from the two SIPp message traces (one clock):

* **connected**: a member leg with the caller's number (the caller ID the app shows) that
  the member answered and later hung up itself (a leg Asterisk hung up was not taken);
* **lost**: planned calls never connected (overflow, failure, or still waiting at the end);
* **wait**: the caller's 200 OK (answered into the queue) to the member's 200 OK (answered;
  the app bridges the two right after), p50/p99/max;
* **load spread**: connected calls per member.

The members' capacity is about ``members / (ring + talk + set-up)`` calls/s: rates above
it queue up, and a caller who finds nobody free looks again every second
(``vipcall.servicenumbers.flow.POLL_SECONDS``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shlex
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import percentile, system_ticks
from harness.party import SipMessage, Sipp, uri_user

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"
CALLER_SCENARIO = BENCH_DIR / "sipp" / "sn_caller.xml"
MEMBER_SCENARIO = BENCH_DIR / "sipp" / "sn_member.xml"

ASTERISK_IP = "127.0.0.1"
PSTN_IP = "127.0.0.2"
MOBILE_IP = "127.0.0.3"
PEER_PORT = 5060
CALLER_PORT = 47070
CALLER_MEDIA_PORT, MEMBER_MEDIA_PORT = 39210, 39220
SERVICE_NUMBER = "+358207001000"


# ---------------------------------------------------------------------------------------
# pure: what the two traces say about each call


@dataclass
class MemberLeg:
    """One INVITE that reached a member's handset."""

    member: str  # the member's mobile number (Request-URI)
    caller: str  # the caller ID shown (From)
    answered: float | None = None  # the member's 200 OK to the INVITE
    hung_up_by_member: bool = False  # the member's own BYE: this leg was the connected one


def member_legs(messages: list[SipMessage]) -> list[MemberLeg]:
    """The legs the member UAS saw, by Call-ID, in order of their INVITEs."""
    legs: dict[str, MemberLeg] = {}
    for m in messages:
        call_id = m.header("call-id") or ""
        if m.direction == "received" and m.method == "INVITE" and call_id not in legs:
            legs[call_id] = MemberLeg(m.request_user, uri_user(m.header("from")) or "")
        leg = legs.get(call_id)
        if leg is None or m.direction != "sent":
            continue
        cseq = m.header("cseq") or ""
        if m.status == 200 and cseq.endswith("INVITE") and leg.answered is None:
            leg.answered = m.at
        elif m.method == "BYE":
            leg.hung_up_by_member = True
    return list(legs.values())


def queued_at(messages: list[SipMessage]) -> dict[str, float]:
    """Caller number -> when the caller got its 200 OK (answered into the queue)."""
    found: dict[str, float] = {}
    calls: dict[str, str] = {}
    for m in messages:
        call_id = m.header("call-id") or ""
        if m.direction == "sent" and m.method == "INVITE":
            calls[call_id] = uri_user(m.header("from")) or ""
        if m.direction == "received" and m.status == 200:
            caller = calls.get(call_id)
            cseq = m.header("cseq") or ""
            if caller and cseq.endswith("INVITE") and caller not in found:
                found[caller] = m.at
    return found


@dataclass
class SnStep:
    rate: float
    planned: int
    callers: list[str]
    queued: dict[str, float] = field(default_factory=dict)
    legs: list[MemberLeg] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    busy_pct: float | None = None
    notes: list[str] = field(default_factory=list)

    def connected(self) -> dict[str, MemberLeg]:
        """Caller -> the leg it was connected through (the member hung it up itself)."""
        mine = set(self.callers)
        return {
            leg.caller: leg
            for leg in self.legs
            if leg.hung_up_by_member and leg.answered is not None and leg.caller in mine
        }

    @property
    def lost(self) -> int:
        return self.planned - len(self.connected())

    def waits(self) -> list[float]:
        """Milliseconds from answered into the queue to a member's answer."""
        out = []
        for caller, leg in self.connected().items():
            if caller in self.queued and leg.answered is not None:
                out.append((leg.answered - self.queued[caller]) * 1000.0)
        return out

    def per_member(self) -> list[int]:
        """Connected calls of each member (every member listed, zero included)."""
        counts = Counter(leg.member for leg in self.connected().values())
        return [counts.get(m, 0) for m in self.members]

    def offers(self) -> int:
        """Legs rung (ring_all rings several per call; a leg not taken is hung up)."""
        return sum(1 for leg in self.legs if leg.caller in set(self.callers))


def _ms(v: float | None) -> str:
    return "–" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}")


def spread(counts: list[int]) -> str:
    """``min–max (stdev s)`` of the calls per member."""
    if not counts:
        return "–"
    sd = statistics.pstdev(counts) if len(counts) > 1 else 0.0
    return f"{min(counts)}–{max(counts)} (σ {sd:.1f})"


def table(steps: list[SnStep]) -> str:
    rows = [
        "| rate calls/s | calls | connected | lost | legs rung | wait p50 / p99 / max ms "
        "| calls per member | spread min–max (σ) | box busy % | notes |",
        "|--:|--:|--:|--:|--:|--:|---|--:|--:|---|",
    ]
    for s in steps:
        w = s.waits()
        wait = " / ".join(_ms(v) for v in (percentile(w, 50), percentile(w, 99),
                                            max(w) if w else None))  # fmt: skip
        per = ", ".join(str(c) for c in s.per_member())
        busy = "–" if s.busy_pct is None else f"{s.busy_pct:.0f}"
        rows.append(
            f"| {s.rate:g} | {s.planned} | {len(s.connected())} | {s.lost} | {s.offers()} "
            f"| {wait} | {per} | {spread(s.per_member())} | {busy} | {'; '.join(s.notes)} |"
        )
    return "\n".join(rows)


def member_number(i: int) -> str:
    return f"+35840{7000000 + i:07d}"


def caller_number(i: int) -> str:
    return f"+35850{3000000 + i:07d}"


# ---------------------------------------------------------------------------------------
# the run


class ServiceNumberBench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.database_url: str | None = None
        self.instance: Any = None
        self.app: Any = None
        self.next_caller = 0
        self.foreign: set[str] = set()
        self.members = [member_number(i) for i in range(args.members)]

    async def seed(self) -> None:
        from harness.db import fresh_database
        from vipcall.db.engine import create_engine, session_factory, transaction
        from vipcall.directory import create_organization, create_user
        from vipcall.directory.servicenumbers import add_member, create_service_number

        self.database_url = await fresh_database("vipcall_benchsn")
        engine = create_engine(self.database_url)
        sessions = session_factory(engine)
        try:
            async with transaction(sessions) as s:
                await create_organization(s, name="Bench SN Oy", domain="benchsn.example.fi")
            async with transaction(sessions) as s:
                sn = await create_service_number(
                    s, "benchsn.example.fi", number=SERVICE_NUMBER, kind="customer_service",
                    name="Asiakaspalvelu", strategy=self.args.strategy,
                    member_ring_seconds=20, max_wait_seconds=120, overflow="announcement",
                )  # fmt: skip
                for i, mobile in enumerate(self.members):
                    u = await create_user(
                        s, organization="benchsn.example.fi", display_name=f"Member {i}",
                        mobile=mobile,
                    )  # fmt: skip
                    await add_member(s, sn.id, u.id)
        finally:
            await engine.dispose()

    def start(self) -> None:
        from harness.app import AppProcess
        from vipcall.sandbox import Instance

        inst = Instance(
            name="benchsn", sip_port=self.args.sip_port, ari_port=self.args.ari_port,
            rtp_start=40000, rtp_end=44999, pstn_host=PSTN_IP, mobile_host=MOBILE_IP,
            peer_port=PEER_PORT, ring_timeout=30,
        )  # fmt: skip
        if inst.is_running():
            raise SystemExit("bench.servicenumbers: the 'benchsn' Asterisk is already running")
        self.instance = inst
        inst.start()
        assert self.database_url is not None
        self.app = AppProcess(
            inst, self.database_url, self.workdir / "vipcall.log",
            http_port=self.args.app_http_port, ring_timeout=30,
            extra_env={"VIPCALL_LOG_LEVEL": self.args.log_level, "VIPCALL_SYNC_INTERVAL": "30"},
        )  # fmt: skip
        self.app.start(timeout=30)

    def stop(self) -> None:
        for part in (self.app, self.instance):
            if part is None:
                continue
            try:
                part.stop()
            except Exception as exc:  # noqa: BLE001 - stop the rest all the same
                print(f"bench.servicenumbers: stopping {type(part).__name__}: {exc}", flush=True)
        if self.database_url is not None and not self.args.keep_db:
            from harness.db import drop_database

            asyncio.run(drop_database(self.database_url))

    def own_pids(self) -> set[int]:
        pids = set()
        if self.app is not None and self.app.proc is not None:
            pids.add(self.app.proc.pid)
        if self.instance is not None and (pid := self.instance._pid()) is not None:
            pids.add(pid)
        return pids

    def step(self, rate: float, duration: float, tag: str = "") -> SnStep:
        args = self.args
        count = max(1, int(round(rate * duration)))
        callers = [caller_number(self.next_caller + i) for i in range(count)]
        self.next_caller += count
        folder = self.workdir / f"sn-{rate:g}{'-' + tag if tag else ''}"
        folder.mkdir()
        with open(folder / "calls.csv", "w") as fh:
            fh.write("SEQUENTIAL\n")
            fh.writelines(f"{SERVICE_NUMBER};{c};\n" for c in callers)
        # generous bounds: the queue may build up above the members' capacity
        timeout = int(duration + args.max_wait + args.talk / 1000 + 30)
        member = Sipp(
            str(MEMBER_SCENARIO), MOBILE_IP, PEER_PORT, folder, calls=None,
            timeout=timeout + 30, timeout_error=False, media_port=MEMBER_MEDIA_PORT,
            keys={"ring": str(args.ring), "talk": str(args.talk)}, max_recv_loops=10000,
        )  # fmt: skip
        caller = Sipp(
            str(CALLER_SCENARIO), PSTN_IP, CALLER_PORT, folder,
            remote=f"{ASTERISK_IP}:{args.sip_port}", calls=count, timeout=timeout,
            media_port=CALLER_MEDIA_PORT, max_recv_loops=10000,
            extra=[
                "-inf", str(folder / "calls.csv"), "-r", f"{rate:g}", "-rp", "1000",
                "-l", str(max(50, count)), "-recv_timeout", str(int(args.max_wait * 1000)),
            ],
        )  # fmt: skip
        (folder / "command.txt").write_text(
            shlex.join(member.argv()) + "\n" + shlex.join(caller.argv()) + "\n"
        )
        busy0 = system_ticks()
        uas = member.spawn(cwd=folder, output=folder / "member.out")
        try:
            time.sleep(0.3)
            uac = caller.spawn(cwd=folder, output=folder / "caller.out")
            called = uac.finish(timeout + 10)
        finally:
            time.sleep(0.5)  # the last 200 to the member's BYE
            answered = uas.finish(0.1)
        busy1 = system_ticks()
        step = SnStep(rate, count, callers, members=self.members)
        step.queued = queued_at(called.messages)
        step.legs = member_legs(answered.messages)
        if busy1[1] > busy0[1]:
            step.busy_pct = 100.0 * (busy1[0] - busy0[0]) / (busy1[1] - busy0[1])
        if not called.ok:
            step.notes.append(f"caller SIPp exit {called.returncode}")
        if self.app is not None and not self.app.running:
            step.notes.append("APP DIED")
        from bench.steps import foreign_processes

        foreign = foreign_processes(self.own_pids())
        if foreign:
            self.foreign.update(foreign)
            step.notes.append(f"{len(foreign)} other telephony/test processes")
        return step


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.servicenumbers", description=__doc__.split("\n")[0]
    )
    p.add_argument("--rates", default="1,2,4,6", help="calls per second, comma-separated")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of calls per rate")
    p.add_argument("--members", type=int, default=5)
    p.add_argument("--strategy", default="longest_idle", choices=("longest_idle", "ring_all"))
    p.add_argument("--ring", type=int, default=200, help="ms a member's handset rings")
    p.add_argument("--talk", type=int, default=1000, help="ms a member talks, then hangs up")
    p.add_argument("--max-wait", type=float, default=60.0,
                   help="seconds a caller waits for its BYE before SIPp gives up")  # fmt: skip
    p.add_argument("--pause", type=float, default=3.0)
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--sip-port", type=int, default=47060)
    p.add_argument("--ari-port", type=int, default=28388)
    p.add_argument("--app-http-port", type=int, default=29308)
    p.add_argument("--keep-db", action="store_true")
    args = p.parse_args(argv)
    from bench.voicemail import parse_rates

    try:
        args.rates = parse_rates(args.rates)
    except ValueError as exc:
        p.error(str(exc))
    if not 1 <= args.members <= 50:
        p.error("--members: 1 to 50")
    args.command = shlex.join(
        [".venv/bin/python", "-m", "bench.servicenumbers", *(argv or sys.argv[1:])]
    )
    return args


def render(args: argparse.Namespace, steps: list[SnStep], started: str, minutes: float,
           foreign: set[str], git: str) -> str:  # fmt: skip
    lines = [
        "### Service number under load (issue 8)",
        "",
        f"Command: `{args.command}`  ",
        f"Date: {started}, total {minutes:.1f} min; code: git {git}  ",
        f"Load: one service number, strategy {args.strategy}, {args.members} logged-in "
        f"members (handsets through the mobile core: ring {args.ring} ms, talk {args.talk} ms, "
        f"then the member hangs up); {args.duration:g} s of callers per rate from the PSTN "
        f"trunk, each a different number. Members' capacity ≈ {args.members} / "
        f"({(args.ring + args.talk) / 1000:g} s + set-up) calls/s.  ",
    ]
    if foreign:
        lines.append(
            f"**Other telephony/test processes ran during this run** ({len(foreign)} seen), "
            "they shared the 2 CPUs: " + "; ".join(sorted(foreign)[:6])
        )
    lines += ["", table(steps), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from harness.sandbox import missing

    why = missing(tools=("sipp",))
    if why:
        raise SystemExit(f"bench.servicenumbers: {why}")
    from bench.report import git_state
    from bench.steps import foreign_processes

    git = git_state()
    started = dt.datetime.now().isoformat(timespec="seconds")
    workdir = RESULTS / f"servicenumbers-{dt.datetime.now():%Y%m%d-%H%M%S}"
    workdir.mkdir(parents=True)
    t0 = time.monotonic()
    bench = ServiceNumberBench(args, workdir)
    foreign0 = foreign_processes(set())
    if foreign0:
        print("bench.servicenumbers: WARNING: other telephony/test processes are running:\n  "
              + "\n  ".join(foreign0), flush=True)  # fmt: skip
    steps: list[SnStep] = []
    try:
        print(f"bench.servicenumbers: seeding {args.members} members ...", flush=True)
        asyncio.run(bench.seed())
        print("bench.servicenumbers: starting Asterisk 'benchsn' and the app ...", flush=True)
        bench.start()
        bench.step(1, 3, tag="warmup")  # pools, first-call paths: not reported
        for rate in args.rates:
            time.sleep(args.pause)
            step = bench.step(rate, args.duration)
            steps.append(step)
            print(table([step]).splitlines()[-1], flush=True)
    finally:
        bench.stop()
    report = render(args, steps, started, (time.monotonic() - t0) / 60,
                    bench.foreign | set(foreign0), git)  # fmt: skip
    print(report)
    (workdir / "results.md").write_text(report)
    (RESULTS / "servicenumbers-latest.md").write_text(report)
    print(f"bench.servicenumbers: written {RESULTS / 'servicenumbers-latest.md'} "
          f"(raw files in {workdir})")  # fmt: skip
    return 0 if all(s.lost == 0 for s in steps) else 1


if __name__ == "__main__":
    raise SystemExit(main())
