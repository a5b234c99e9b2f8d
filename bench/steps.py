"""The benchmark's rig and its steps: one sandboxed Asterisk (with a bench-only
pure-dialplan caller), one seeded database, the app as its own process (harness), and
the step that drives one path at one rate with fresh SIPp parties (harness/sipp/
bench_*.xml), a packet capture and, when asked, the profilers."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import CLK_TCK, CpuSample, Step, app_metrics, log_warnings, proc_cpu_ticks
from bench.report import Report, git_state, summarize_perf, summarize_profile
from harness.app import AppProcess
from harness.db import drop_database, fresh_database
from harness.party import Sipp, SippProcess
from vipcall.sandbox import Instance

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"

ASTERISK_IP = "127.0.0.1"
PSTN_IP = "127.0.0.2"  # vipcall path caller: the pstn trunk
MOBILE_IP = "127.0.0.3"  # every handset: the mobile trunk's contact (peer port 5060)
BENCH_CALLER_IP = "127.0.0.5"  # dialplan path caller: bench-only endpoint
PEER_PORT = 5060
CALLER_PORT = 45070
UAS_MEDIA_PORT, UAC_MEDIA_PORT = 39000, 39010  # outside Asterisk's RTP range
UAS_CONTROL_PORT, UAC_CONTROL_PORT = 38801, 38802

BENCH_PJSIP = """
; ---- appended by bench/run.py: bench-only caller for the pure-dialplan path ----
[bench-caller](trunk-endpoint)
context = bench-dialplan
set_var = VIP_TRUNK=bench

[bench-caller-identify]
type = identify
endpoint = bench-caller
match = {ip}
"""

BENCH_DIALPLAN = """
; ---- appended by bench/run.py: the pure-dialplan reference path ----
[bench-dialplan]
exten => _[+0-9].,1,Dial(PJSIP/${{EXTEN}}@mobile,{timeout},b(vipcall-predial^s^1))
 same => n,Hangup()
"""


def foreign_processes(mine: set[int]) -> list[str]:
    """Asterisk/SIPp/vipcall/pytest processes other than ``mine`` (and this one): they
    would share the CPUs with a bench."""
    mine = mine | {os.getpid()}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if re.search(r"(^|/)(asterisk|sipp) |vipcall\.app|pytest", cmd):
            found.append(f"{entry.name}: {cmd[:100].strip()}")
    return found


class Rig:
    """The stack one run measures, and what the run found so far."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.workdir = RESULTS / f"run-{stamp}"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.instance: Instance | None = None
        self.app: AppProcess | None = None
        self.ast_pid = 0
        self.database_url: str | None = None
        self.numbers: list[tuple[str, str]] = []  # (dialled user mobile, caller number)
        self.mobiles: list[str] = []  # the feature path's callers (half the users)
        self.feature_rng = random.Random(3)
        self.sipp_live: list[SippProcess] = []
        self.foreign_at_start: list[str] = []
        self.foreign_seen: set[str] = set()
        self.root = Path("/")
        self.report = Report(args, [], git=git_state())

    @property
    def steps(self) -> list[Step]:
        return self.report.steps

    def stop(self) -> None:
        """Stop everything the run started (only this run's own processes)."""
        for p in self.sipp_live:
            p.stop()
        if self.app is not None:
            self.app.stop()
        if self.instance is not None:
            self.instance.stop()
        if self.database_url is not None and not self.args.keep_db:
            asyncio.run(drop_database(self.database_url))

    def check_free(self) -> None:
        busy = []
        for ip, port in (
            (MOBILE_IP, PEER_PORT), (PSTN_IP, CALLER_PORT), (BENCH_CALLER_IP, CALLER_PORT),
            (MOBILE_IP, CALLER_PORT),
        ):  # fmt: skip
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                try:
                    sock.bind((ip, port))
                except OSError:
                    busy.append(f"udp {ip}:{port}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", self.args.app_http_port))
            except OSError:
                busy.append(f"tcp 127.0.0.1:{self.args.app_http_port}")
        if busy:
            raise SystemExit(
                f"bench: in use: {', '.join(busy)} - is a test run or another bench running?"
            )

    def foreign_processes(self) -> list[str]:
        """Other Asterisk/SIPp/vipcall/pytest processes: they would share the CPUs."""
        mine = {os.getpid()}
        if self.app is not None and self.app.proc is not None:
            mine.add(self.app.proc.pid)
        if getattr(self, "ast_pid", None):
            mine.add(self.ast_pid)
        mine.update(p.proc.pid for p in self.sipp_live if p.proc is not None)
        return foreign_processes(mine)

    def wait_quiet(self, timeout: float) -> None:
        """Before a step: wait (bounded) until no foreign telephony/test process runs."""
        deadline = time.monotonic() + timeout
        told = False
        while time.monotonic() < deadline:
            foreign = self.foreign_processes()
            if not foreign:
                return
            self.foreign_seen.update(foreign)
            if not told:
                print(f"bench: waiting up to {timeout:.0f} s for other processes to end: "
                      + "; ".join(f[:60] for f in foreign[:3]), flush=True)  # fmt: skip
                told = True
            time.sleep(2)

    async def seed(self) -> None:
        from vipcall.db.engine import create_engine, session_factory, transaction
        from vipcall.directory import create_organization, create_user

        self.database_url = await fresh_database("vipcall_bench")
        engine = create_engine(self.database_url)
        sessions = session_factory(engine)
        mobiles = [f"+35840{5000000 + i:07d}" for i in range(self.args.users)]
        try:
            async with transaction(sessions) as s:
                await create_organization(
                    s, name="Bench Oy", domain="bench.example.fi", switchboard_number="+35891000000"
                )
            async with transaction(sessions) as s:
                for i, mobile in enumerate(mobiles):
                    await create_user(
                        s, organization="bench.example.fi", display_name=f"Bench User {i}",
                        mobile=mobile,
                    )  # fmt: skip
        finally:
            await engine.dispose()
        # Two disjoint halves: the feature path's 983n/984n calls set activities and roles
        # (984 5 + a red activity is the absence notice, which answers), so the users the
        # other paths ring are never among the ones whose state the feature path changes.
        half = max(1, len(mobiles) // 2)
        ringing, self.mobiles = mobiles[:half], mobiles[half:] or mobiles
        rnd = random.Random(2)
        self.numbers = [
            (rnd.choice(ringing), f"+35850{1000000 + i:07d}")
            for i in range(max(5000, int(max(self.args.rates) * self.args.duration) + 100))
        ]  # caller numbers unique: the capture matches the two legs of a call on them

    def start_asterisk(self) -> None:
        inst = Instance(
            name="bench", sip_port=self.args.sip_port, ari_port=self.args.ari_port,
            rtp_start=40000, rtp_end=49999, peer_port=PEER_PORT,
            pstn_host=PSTN_IP, mobile_host=MOBILE_IP, ring_timeout=30,
        )  # fmt: skip
        if inst.is_running():
            raise SystemExit("bench: the 'bench' Asterisk instance is already running")
        base = inst.render()
        etc = base / "etc"
        with open(etc / "pjsip.conf", "a") as fh:
            fh.write(BENCH_PJSIP.format(ip=BENCH_CALLER_IP))
        with open(etc / "extensions.conf", "a") as fh:
            fh.write(BENCH_DIALPLAN.format(timeout=30))
        self.instance = inst
        self.root = inst.root
        inst.start(render=False)
        pid = inst._pid()
        if pid is None:
            raise SystemExit("bench: Asterisk started but its pid is unknown")
        self.ast_pid = pid
        out = inst.cli("core show version").strip()
        self.report.ast_version = out.split(" built ")[0] if out else "Asterisk ?"

    def start_app(self) -> None:
        assert self.instance is not None and self.database_url is not None
        self.app = AppProcess(
            self.instance, self.database_url, self.workdir / "vipcall.log",
            http_port=self.args.app_http_port, ring_timeout=30,
            extra_env={
                "VIPCALL_LOG_LEVEL": self.args.log_level,
                "VIPCALL_SYNC_INTERVAL": "30",
                "VIPCALL_MAX_MESSAGE_SECONDS": "180",
                "VIPCALL_DIRECT_ROUTES": "false" if self.args.no_direct else "true",
            },
        )  # fmt: skip
        self.app.start(timeout=30)
        # wait for the connect-time provisioning push (AstDB vipcall-ring/<number>)
        want = self.args.users
        deadline = time.monotonic() + 120
        found = -1
        while time.monotonic() < deadline:
            out = self.instance.cli("database show vipcall-ring")
            m = re.search(r"(\d+) results? found", out)
            found = int(m.group(1)) if m else 0
            if found >= want:
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"bench: app provisioned only {found}/{want} numbers in 120 s")
        while not self.args.no_direct and time.monotonic() < deadline:
            # and the direct routes (vipcall.service.direct): every user is green at first
            if app_metrics(self.args.app_http_port).get("vipcall_direct_routes", 0) >= want:
                break
            time.sleep(0.5)
        else:
            if not self.args.no_direct:
                raise SystemExit("bench: the app wrote no direct routes in 120 s")
        time.sleep(1.0)

    # -- helpers -------------------------------------------------------------------------
    def active_channels(self) -> int | None:
        assert self.instance is not None
        try:
            out = self.instance.cli("core show channels count", timeout=10)
        except Exception:  # noqa: BLE001 - CLI slow under load: try again
            return None
        m = re.search(r"(\d+) active channels?", out)
        return int(m.group(1)) if m else None

    def drain(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.active_channels() == 0:
                return True
            time.sleep(0.5)
        return False

    def messages_log_size(self) -> int:
        assert self.instance is not None
        try:
            return self.instance.messages_log.stat().st_size
        except OSError:
            return 0

    def write_csv(self, folder: Path, count: int) -> Path:
        path = folder / "calls.csv"
        with open(path, "w") as fh:
            fh.write("SEQUENTIAL\n")
            start = random.randrange(len(self.numbers))
            for i in range(count):
                dialled, caller = self.numbers[(start + i) % len(self.numbers)]
                fh.write(f"{dialled};{caller};\n")
        return path

    def write_feature_csv(self, folder: Path, count: int) -> tuple[Path, list[tuple[str, str]]]:
        """Feature calls: each from a different random user's mobile (while there are
        users), dialling 983n (n=1..8) and 984n (n=1..5) alternately."""
        users = list(self.mobiles)
        self.feature_rng.shuffle(users)
        rows = []
        for i in range(count):
            mobile = users[i % len(users)]
            k = i // 2
            code = f"983{k % 8 + 1}" if i % 2 == 0 else f"984{k % 5 + 1}"
            rows.append((code, mobile))
        path = folder / "calls.csv"
        with open(path, "w") as fh:
            fh.write("SEQUENTIAL\n")
            for code, mobile in rows:
                fh.write(f"{code};{mobile};\n")
        return path, rows

    def _pg_dsn(self) -> str:
        from sqlalchemy.engine import make_url

        assert self.database_url is not None
        url = make_url(self.database_url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    def feature_reset(self, rows: list[tuple[str, str]]) -> None:
        """Before a feature step: put every user the step calls from in a state different
        from the one their code sets (activity/role one off, activity_changed_at in 2000),
        so afterwards the code's effect is visible user by user. Bench database only."""
        import asyncpg

        acts = [(m, int(c[3]) % 8 + 1) for c, m in rows if c.startswith("983")]
        roles = [(m, int(c[3]) % 5 + 1) for c, m in rows if c.startswith("984")]

        async def go() -> None:
            conn = await asyncpg.connect(self._pg_dsn())
            try:
                await conn.executemany(
                    "UPDATE users SET activity = $2, activity_changed_at = '2000-01-01Z' "
                    "WHERE mobile_number = $1", acts,
                )  # fmt: skip
                await conn.executemany(
                    "UPDATE users SET role = $2, activity_changed_at = '2000-01-01Z' "
                    "WHERE mobile_number = $1", roles,
                )  # fmt: skip
            finally:
                await conn.close()

        asyncio.run(go())

    def feature_check(self, rows: list[tuple[str, str]], folder: Path) -> tuple[int, int]:
        """After a feature step: (checked, took effect). 983n: activity == n and
        activity_changed_at moved on from the reset; 984n: role == n."""
        import asyncpg

        async def go() -> dict[str, tuple[int, int, bool]]:
            conn = await asyncpg.connect(self._pg_dsn())
            try:
                got = await conn.fetch(
                    "SELECT mobile_number, activity, role, activity_changed_at > '2001-01-01Z' "
                    "AS touched FROM users WHERE mobile_number = ANY($1::text[])",
                    [m for _, m in rows],
                )  # fmt: skip
            finally:
                await conn.close()
            return {r[0]: (r[1], r[2], r[3]) for r in got}

        state = asyncio.run(go())
        last: dict[str, str] = {}
        for code, mobile in rows:  # a user called twice in a step: the later code wins
            last[mobile] = code
        ok = 0
        bad: list[str] = []
        for code, mobile in rows:
            if last[mobile] != code:
                continue
            activity, role, touched = state.get(mobile, (0, 0, False))
            n = int(code[3])
            if (code.startswith("983") and activity == n and touched) or (
                code.startswith("984") and role == n
            ):
                ok += 1
            else:
                bad.append(f"{mobile} {code}: activity {activity} role {role} touched {touched}")
        (folder / "state_check.txt").write_text(
            f"checked {len(last)} users, took effect {ok}\n" + "\n".join(bad) + "\n"
        )
        return len(last), ok

    def measure_idle(self, seconds: float) -> None:
        assert self.app is not None and self.app.proc is not None
        a0, s0, t0 = (
            proc_cpu_ticks(self.app.proc.pid),
            proc_cpu_ticks(self.ast_pid),
            time.monotonic(),
        )
        time.sleep(seconds)
        a1, s1, t1 = (
            proc_cpu_ticks(self.app.proc.pid),
            proc_cpu_ticks(self.ast_pid),
            time.monotonic(),
        )
        self.report.idle = (
            100.0 * ((a1 or 0) - (a0 or 0)) / CLK_TCK / (t1 - t0),
            100.0 * ((s1 or 0) - (s0 or 0)) / CLK_TCK / (t1 - t0),
        )

    # -- a step --------------------------------------------------------------------------

    def parties(
        self, path: str, folder: Path, csv: Path, rate: int, planned: int, sipp_timeout: int
    ) -> tuple[Sipp | None, Sipp]:
        """The step's handset UAS (none on the feature path: those calls end at Asterisk)
        and its caller, each a fresh SIPp with its own SIP, media and control ports."""
        args = self.args
        feature = path == "feature"
        caller_ip = {"vipcall": PSTN_IP, "feature": MOBILE_IP}.get(path, BENCH_CALLER_IP)
        hold_ms = 0 if feature else args.hold
        uas = None
        if not feature:
            uas = Sipp(
                "bench_uas.xml", MOBILE_IP, PEER_PORT, folder, calls=None,
                timeout=sipp_timeout + 30, timeout_error=False, media_port=UAS_MEDIA_PORT,
                trace=False, max_recv_loops=10000,
                extra=[
                    "-cp", str(UAS_CONTROL_PORT), "-trace_stat", "-stf", "uas_stat.csv",
                    "-fd", "1", "-trace_err", "-error_file", "uas_errors.log",
                ],
            )  # fmt: skip
        uac = Sipp(
            "bench_uac_feature.xml" if feature else "bench_uac.xml", caller_ip, CALLER_PORT,
            folder, remote=f"{ASTERISK_IP}:{args.sip_port}", calls=planned,
            timeout=sipp_timeout, media_port=UAC_MEDIA_PORT, trace=False, max_recv_loops=10000,
            extra=[
                "-inf", csv.name, "-cp", str(UAC_CONTROL_PORT),
                "-r", str(rate), "-rp", "1000", "-d", str(hold_ms),
                # at most this many calls up at once: the hold plus 20 s of calls
                "-l", str(max(200, rate * 20, int(rate * (args.hold / 1000 + 20)))),
                "-recv_timeout", str(args.recv_timeout),
                "-trace_rtt", "-rtt_freq", "1", "-trace_stat", "-stf", "uac_stat.csv",
                "-fd", "1", "-trace_err", "-error_file", "uac_errors.log",
            ],
        )  # fmt: skip
        for party in (uas, uac):
            if party is not None:  # the scenario beside the step's other raw files
                shutil.copy(party.path, folder / party.scenario)
        return uas, uac

    def capture(self, path: str, folder: Path, caller_ip: str) -> subprocess.Popen[bytes]:
        """dumpcap on lo: the caller's SIP leg and the handset's (dialplan, vipcall), or the
        caller's SIP leg and the RTP Asterisk sends to the caller (feature)."""
        pcap = folder / "sip.pcap"
        if path == "feature":
            bpf = (f"udp and (port {CALLER_PORT} or "
                   f"(dst host {caller_ip} and dst port {UAC_MEDIA_PORT}))")  # fmt: skip
        else:
            bpf = f"udp and (port {CALLER_PORT} or (host {MOBILE_IP} and port {PEER_PORT}))"
        cap = subprocess.Popen(
            ["dumpcap", "-i", "lo", "-P", "-q", "-B", "64", "-w", str(pcap), "-f", bpf],
            stdout=subprocess.DEVNULL, stderr=open(folder / "dumpcap.err", "wb"),
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (pcap.exists() and pcap.stat().st_size >= 24):
            time.sleep(0.05)
        time.sleep(0.2)
        return cap

    def profilers(self, folder: Path, duration: float) -> list[subprocess.Popen[bytes]]:
        """py-spy on the app and, if installed, perf on Asterisk, for ``duration`` s."""
        assert self.app is not None and self.app.proc is not None
        found = [
            subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("py-spy")),
                    "record",
                    "--pid",
                    str(self.app.proc.pid),
                    "--duration",
                    str(int(duration)),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--output",
                    str(folder / "pyspy.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=open(folder / "pyspy.err", "wb"),
                start_new_session=True,
            )  # fmt: skip
        ]
        if shutil.which("perf"):
            found.append(_perf_record(self.ast_pid, duration, folder / "perf-asterisk.data",
                                      folder / "perf.err"))  # fmt: skip
            found.append(_perf_record(self.app.proc.pid, duration, folder / "perf-app.data",
                                      folder / "perf-app.err"))  # fmt: skip
        return found

    def run_step(
        self, path: str, rate: int, duration: float, profile: bool = False, tag: str = ""
    ) -> Step:
        assert self.instance is not None and self.app is not None and self.app.proc is not None
        args = self.args
        planned = max(1, int(round(rate * duration)))
        step = Step(path, rate, planned)
        tag = tag or ("profile" if profile else "")
        folder = self.workdir / (f"{path}-{rate}" + (f"-{tag}" if tag else ""))
        folder.mkdir()
        feature = path == "feature"
        rows: list[tuple[str, str]] = []
        if feature:
            csv, rows = self.write_feature_csv(folder, planned)
            self.feature_reset(rows)
        else:
            csv = self.write_csv(folder, planned)
        hold_ms = 0 if feature else args.hold
        sipp_timeout = int(duration + hold_ms / 1000 + args.recv_timeout / 1000 + 15)
        uas_party, uac_party = self.parties(path, folder, csv, rate, planned, sipp_timeout)
        (folder / "command.txt").write_text(
            "".join(shlex.join(p.argv()) + "\n" for p in (uas_party, uac_party) if p is not None)
        )
        m0 = app_metrics(args.app_http_port)
        log_pos = self.messages_log_size()
        helpers: list[subprocess.Popen[bytes]] = []
        cap: subprocess.Popen[bytes] | None = None
        uas: SippProcess | None = None
        uac: SippProcess | None = None
        try:
            if args.pcap:
                cap = self.capture(path, folder, uac_party.ip)
            if uas_party is not None:
                uas = uas_party.spawn(cwd=folder, output=folder / "uas.out")
                self.sipp_live.append(uas)
                time.sleep(0.3)
                if uas.poll():
                    raise SystemExit(f"bench: handset UAS exited at once, see {folder}/uas.out")
            before = CpuSample.take(self.app.proc.pid, self.ast_pid)
            t0 = time.monotonic()
            if profile:
                helpers = self.profilers(folder, duration)
            uac = uac_party.spawn(cwd=folder, output=folder / "uac.out")
            self.sipp_live.append(uac)
            if not uac.wait(sipp_timeout + 10):
                step.notes.append("caller SIPp killed on timeout")
                uac.stop()
            calls_wall = time.monotonic() - t0
            calls_end = CpuSample.take(self.app.proc.pid, self.ast_pid, postgres=False)
            if not self.drain(args.drain_timeout):
                step.notes.append("Asterisk not drained: hung up leftovers")
                try:
                    self.instance.cli("channel request hangup all")
                except Exception:  # noqa: BLE001
                    pass
                self.drain(15)
            after = CpuSample.take(self.app.proc.pid, self.ast_pid)
            step.wall = time.monotonic() - t0
            if uas is not None:
                uas.stop()
        finally:
            for proc in (uac, uas):
                if proc is not None:
                    proc.stop()
            for helper in helpers:
                try:
                    helper.wait(30)
                except subprocess.TimeoutExpired:
                    helper.kill()
                    helper.wait()
            if cap is not None:
                cap.send_signal(signal.SIGINT)
                try:
                    cap.wait(10)
                except subprocess.TimeoutExpired:
                    cap.kill()
                    cap.wait()
        m1 = app_metrics(args.app_http_port)

        assert uac is not None
        rtts = step.count_sipp(folder, uac.rc, feature)
        if feature:
            step.state_checked, step.state_ok = self.feature_check(rows[: step.attempted], folder)
        step.count_latency(
            folder / "sip.pcap" if args.pcap else None, rtts, CALLER_PORT, (MOBILE_IP, PEER_PORT),
            media=(uac_party.ip, UAC_MEDIA_PORT) if feature else None, keep_pcap=args.keep_pcap,
        )  # fmt: skip
        sipp_cpu = uac.cpu_s + (uas.cpu_s if uas is not None else 0.0)
        step.count_cpu(before, calls_end, after, sipp_cpu, calls_wall)
        step.count_app(m0, m1)
        step.warnings = log_warnings(self.instance.messages_log, log_pos)
        if not self.app.running:
            step.notes.append("APP DIED")
        if profile:
            if path != "dialplan":  # the app has nothing to do on the dialplan path
                self.report.profile[path] = summarize_profile(
                    folder / "pyspy.txt", folder / "pyspy.err", path=path, rate=rate
                )
            self.report.perf_report[f"Asterisk profile (perf, {path} path at {rate}/s)"] = (
                summarize_perf(folder / "perf-asterisk.data", self.root)
            )
            if path != "dialplan":
                # By DSO: the kernel (socket calls), the interpreter, uvloop, orjson, asyncpg.
                self.report.perf_report[f"App profile (perf, {path} path at {rate}/s)"] = (
                    summarize_perf(folder / "perf-app.data", Path("/"))
                )
        return step


def _perf_record(pid: int, duration: float, data: Path, err: Path) -> subprocess.Popen[bytes]:
    """``perf record`` (call graphs, 299 Hz) of one process for ``duration`` s."""
    return subprocess.Popen(
        ["perf", "record", "-F", "299", "-g", "-p", str(pid), "-o", str(data),
         "--", "sleep", str(int(duration))],
        stdout=subprocess.DEVNULL, stderr=open(err, "wb"), start_new_session=True,
    )  # fmt: skip
