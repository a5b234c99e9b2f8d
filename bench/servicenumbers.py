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
import shlex
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import rig
from bench.measure import percentile, system_ticks
from harness.party import SipMessage, Sipp, uri_user

BENCH_DIR = Path(__file__).resolve().parent
CALLER_SCENARIO = BENCH_DIR / "sipp" / "sn_caller.xml"
MEMBER_SCENARIO = BENCH_DIR / "sipp" / "sn_member.xml"

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


class ServiceNumberBench(rig.AppRig[SnStep]):
    prog = "bench.servicenumbers"
    instance_name = "benchsn"

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        super().__init__(args, workdir)
        self.next_caller = 0
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
            str(MEMBER_SCENARIO), rig.MOBILE_IP, PEER_PORT, folder, calls=None,
            timeout=timeout + 30, timeout_error=False, media_port=MEMBER_MEDIA_PORT,
            keys={"ring": str(args.ring), "talk": str(args.talk)}, max_recv_loops=10000,
        )  # fmt: skip
        caller = Sipp(
            str(CALLER_SCENARIO), rig.PSTN_IP, CALLER_PORT, folder,
            remote=f"{rig.ASTERISK_IP}:{args.sip_port}", calls=count, timeout=timeout,
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
        step.busy_pct = rig.busy_share(busy0, busy1)
        if not called.ok:
            step.notes.append(f"caller SIPp exit {called.returncode}")
        self.note_machine(step.notes)
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
    rig.add_rig_options(p, pause=3.0, sip_port=47060, ari_port=28388, app_http_port=29308)
    args = rig.parse_rig_args(p, argv, "bench.servicenumbers")
    if not 1 <= args.members <= 50:
        p.error("--members: 1 to 50")
    return args


def render(args: argparse.Namespace, steps: list[SnStep], run: rig.Run, foreign: set[str]) -> str:
    load = (
        f"one service number, strategy {args.strategy}, {args.members} logged-in "
        f"members (handsets through the mobile core: ring {args.ring} ms, talk {args.talk} ms, "
        f"then the member hangs up); {args.duration:g} s of callers per rate from the PSTN "
        f"trunk, each a different number. Members' capacity ≈ {args.members} / "
        f"({(args.ring + args.talk) / 1000:g} s + set-up) calls/s."
    )
    return rig.report_text(
        "### Service number under load (issue 8)", args, run, load, foreign, table(steps)
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from harness.sandbox import missing

    why = missing(tools=("sipp",))
    if why:
        raise SystemExit(f"bench.servicenumbers: {why}")
    run = rig.Run.begin("bench.servicenumbers", "servicenumbers")
    bench = ServiceNumberBench(args, run.workdir)
    steps = bench.run_rates(
        seeding=f"seeding {args.members} members ...",
        starting="starting Asterisk 'benchsn' and the app ...",
        warmup=(1, 3),  # pools, first-call paths: not reported
        row=lambda step: table([step]).splitlines()[-1],
    )
    run.save(render(args, steps, run, bench.foreign | set(run.foreign)))
    return 0 if all(s.lost == 0 for s in steps) else 1


if __name__ == "__main__":
    raise SystemExit(main())
