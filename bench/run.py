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
  stores the change through the directory service (one PostgreSQL transaction), answers,
  plays the confirmation prompt and hangs up; the caller answers the BYE. Timed: INVITE ->
  200 OK and INVITE -> first RTP packet of the prompt; checked: the users' stored state.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import math
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.pcap import analyse
from tests.support.db import drop_database, fresh_database
from tests.support.stack import AppProcess
from vipcall.sandbox import Instance

BENCH_DIR = Path(__file__).resolve().parent
SCENARIOS = BENCH_DIR / "sipp"
RESULTS = BENCH_DIR / "results"

ASTERISK_IP = "127.0.0.1"
PSTN_IP = "127.0.0.2"  # vipcall path caller: the pstn trunk
MOBILE_IP = "127.0.0.3"  # every handset: the mobile trunk's contact (peer port 5060)
BENCH_CALLER_IP = "127.0.0.5"  # dialplan path caller: bench-only endpoint
PEER_PORT = 5060
CALLER_PORT = 45070
UAS_MEDIA_PORT, UAC_MEDIA_PORT = 39000, 39010  # outside Asterisk's RTP range
UAS_CONTROL_PORT, UAC_CONTROL_PORT = 38801, 38802
PATHS = ("dialplan", "vipcall", "feature")

CLK_TCK = os.sysconf("SC_CLK_TCK")

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


# ---------------------------------------------------------------------------------------
# process CPU accounting


def proc_cpu_ticks(pid: int, children: bool = False) -> int | None:
    """utime+stime (all threads) of a live process, in clock ticks."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime/stime are fields 14/15, cutime/cstime 16/17
    total = int(fields[11]) + int(fields[12])
    if children:
        total += int(fields[13]) + int(fields[14])
    return total


def postgres_ticks() -> int:
    """CPU of every PostgreSQL server process (exited backends via the postmaster's cutime)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith("postgres"):
            total += proc_cpu_ticks(int(entry.name), children=True) or 0
    return total


def system_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return total - idle, total


# ---------------------------------------------------------------------------------------
# SIPp


@dataclass
class SippProc:
    """One SIPp process; reaped with wait4 so its own CPU use is known."""

    argv: list[str]
    cwd: Path
    name: str
    proc: subprocess.Popen[bytes] | None = None
    rc: int | None = None
    cpu_s: float = 0.0
    killed: bool = False

    def start(self) -> SippProc:
        out = open(self.cwd / f"{self.name}.out", "wb")
        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        out.close()
        return self

    def poll(self) -> bool:
        """True once the process has exited (and been reaped)."""
        if self.rc is not None:
            return True
        assert self.proc is not None
        pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
        if pid == 0:
            return False
        self.rc = os.waitstatus_to_exitcode(status)
        self.proc.returncode = self.rc
        self.cpu_s = usage.ru_utime + usage.ru_stime
        return True

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.poll():
                return True
            time.sleep(0.05)
        return self.poll()

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL: only ever this process (its own session)."""
        if self.proc is None or self.poll():
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            if sig == signal.SIGKILL:
                self.killed = True
            if self.wait(grace):
                return


def read_stats(path: Path) -> dict[str, str]:
    """The last row of a SIPp ``-trace_stat`` CSV as a dict."""
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return {}
    if len(lines) < 2:
        return {}
    head = lines[0].split(";")
    return dict(zip(head, lines[-1].split(";"), strict=False))


def read_rtt(folder: Path, rtd: str = "ring") -> list[float]:
    values: list[float] = []
    for path in folder.glob("*_rtt.csv"):
        for line in path.read_text(errors="replace").splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 3 and parts[2] == rtd:
                try:
                    values.append(float(parts[1]))
                except ValueError:
                    pass
    return values


def achieved_rate(folder: Path) -> float:
    """Calls per second actually placed, from the spread of the per-call 180 times."""
    stamps: list[float] = []
    for path in folder.glob("*_rtt.csv"):
        for line in path.read_text(errors="replace").splitlines()[1:]:
            try:
                stamps.append(float(line.split(";")[0]))
            except (ValueError, IndexError):
                pass
    if len(stamps) < 2 or max(stamps) <= min(stamps):
        return 0.0
    return (len(stamps) - 1) / ((max(stamps) - min(stamps)) / 1000)


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[k]


# ---------------------------------------------------------------------------------------
# one step


@dataclass
class Step:
    path: str
    rate: int
    planned: int
    attempted: int = 0
    successful: int = 0
    failed: int = 0
    delivered: int = 0  # INVITEs the handset UAS received
    achieved_rate: float = 0.0
    p50: float | None = None  # INVITE -> 180 at the caller, from the packet capture
    p99: float | None = None
    pmax: float | None = None
    hs50: float | None = None  # INVITE from the caller -> INVITE at the handset
    hs99: float | None = None
    sipp50: float | None = None  # the same INVITE -> 180 by SIPp's rtd timer (4 ms steps)
    sipp99: float | None = None
    fail_open: int = 0
    # feature path: p50/p99/max are INVITE -> 200 OK; these are INVITE -> first RTP packet
    rtp50: float | None = None
    rtp99: float | None = None
    rtpmax: float | None = None
    bye50: float | None = None  # 200 OK -> Asterisk's BYE (the prompt), p50
    state_checked: int = 0  # calls whose user's stored state was checked after the step
    state_ok: int = 0  # ... and showed the code's effect
    app_ms: float | None = None
    ast_ms: float | None = None
    pg_ms: float | None = None
    sipp_ms: float | None = None
    box_busy: float = 0.0  # % of all cores busy during the step
    other_core: float = 0.0  # % of one core used by processes not part of the bench
    app_core: float = 0.0  # % of one core used by the app during the calls
    ast_core: float = 0.0
    wall: float = 0.0
    outcomes: dict[str, float] = field(default_factory=dict)
    decision_ms: float | None = None
    warnings: collections.Counter[str] = field(default_factory=collections.Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def zero_fail(self) -> bool:
        """No failed call, every planned call placed, and (vipcall) every call decided by
        the app: a fail-open call rang the handset but skipped vipcall's routing."""
        return (
            self.failed == 0 and self.attempted == self.planned and self.attempted > 0
            and self.fail_open == 0
            and (self.path != "feature" or self.state_ok == self.planned)
        )  # fmt: skip


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.workdir = RESULTS / f"run-{stamp}"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.instance: Instance | None = None
        self.app: AppProcess | None = None
        self.database_url: str | None = None
        self.numbers: list[tuple[str, str]] = []  # (dialled user mobile, caller number)
        self.steps: list[Step] = []
        self.profile: dict[str, str] = {}
        self.mobiles: list[str] = []
        self.feature_rng = random.Random(3)
        self.sipp_live: list[SippProc] = []
        self.ast_version = "Asterisk ?"
        self.idle = (0.0, 0.0)
        self.perf_report: dict[str, str] = {}
        self.foreign_at_start: list[str] = []
        self.foreign_seen: set[str] = set()
        self.root = Path("/")
        self.git = git_state()

    # -- setup ---------------------------------------------------------------------------

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
        self.mobiles = mobiles
        rnd = random.Random(2)
        self.numbers = [
            (rnd.choice(mobiles), f"+35850{1000000 + i:07d}")
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
        self.ast_version = out.split(" built ")[0] if out else "Asterisk ?"

    def start_app(self) -> None:
        assert self.instance is not None and self.database_url is not None
        self.app = AppProcess(
            self.instance, self.database_url, self.workdir / "vipcall.log",
            http_port=self.args.app_http_port, ring_timeout=30,
            extra_env={
                "VIPCALL_LOG_LEVEL": self.args.log_level,
                "VIPCALL_SYNC_INTERVAL": "30",
                "VIPCALL_MAX_MESSAGE_SECONDS": "180",
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

    def metrics(self) -> dict[str, float]:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.args.app_http_port}/metrics", timeout=5
            ) as resp:
                text = resp.read().decode()
        except OSError:
            return {}
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("vipcall_") and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                try:
                    out[name] = float(value)
                except ValueError:
                    pass
        return out

    def messages_log_size(self) -> int:
        assert self.instance is not None
        try:
            return self.instance.messages_log.stat().st_size
        except OSError:
            return 0

    def log_warnings(self, since: int) -> collections.Counter[str]:
        assert self.instance is not None
        counts: collections.Counter[str] = collections.Counter()
        try:
            with open(self.instance.messages_log, "rb") as fh:
                fh.seek(since)
                data = fh.read().decode(errors="replace")
        except OSError:
            return counts
        for line in data.splitlines():
            m = re.search(r"\b(WARNING|ERROR)\[\d+\][^:]*: (\S+:\d+ )?(?:\S+: )?(.*)", line)
            if m:
                msg = re.sub(r"\d+", "N", m.group(3))[:110]
                counts[f"{m.group(1)} {msg}"] += 1
        return counts

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

    # -- a step --------------------------------------------------------------------------

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
        for name in ("uac_feature.xml",) if feature else ("uac.xml", "uas.xml"):
            shutil.copy(SCENARIOS / name, folder / name)
        rows: list[tuple[str, str]] = []
        if feature:
            csv, rows = self.write_feature_csv(folder, planned)
            self.feature_reset(rows)
        else:
            csv = self.write_csv(folder, planned)
        caller_ip = {"vipcall": PSTN_IP, "feature": MOBILE_IP}.get(path, BENCH_CALLER_IP)
        hold_ms = 0 if feature else args.hold
        sipp_timeout = int(duration + hold_ms / 1000 + args.recv_timeout / 1000 + 15)

        uas = SippProc(
            [
                "sipp", "-sf", "uas.xml", "-i", MOBILE_IP, "-p", str(PEER_PORT),
                "-mi", MOBILE_IP, "-mp", str(UAS_MEDIA_PORT), "-cp", str(UAS_CONTROL_PORT),
                "-nostdin", "-trace_stat", "-stf", "uas_stat.csv", "-fd", "1",
                "-trace_err", "-error_file", "uas_errors.log",
                "-timeout", f"{sipp_timeout + 30}s", "-max_recv_loops", "10000",
            ],
            folder, "uas",
        )  # fmt: skip
        uac = SippProc(
            [
                "sipp", f"{ASTERISK_IP}:{args.sip_port}",
                "-sf", "uac_feature.xml" if feature else "uac.xml", "-inf", csv.name,
                "-i", caller_ip, "-p", str(CALLER_PORT), "-mi", caller_ip,
                "-mp", str(UAC_MEDIA_PORT), "-cp", str(UAC_CONTROL_PORT),
                "-r", str(rate), "-rp", "1000", "-m", str(planned), "-d", str(hold_ms),
                "-l", str(max(200, rate * 20)),
                "-recv_timeout", str(args.recv_timeout), "-timeout", f"{sipp_timeout}s",
                "-timeout_error", "-nostdin", "-trace_rtt", "-rtt_freq", "1",
                "-trace_stat", "-stf", "uac_stat.csv", "-fd", "1",
                "-trace_err", "-error_file", "uac_errors.log", "-max_recv_loops", "10000",
            ],
            folder, "uac",
        )  # fmt: skip
        (folder / "command.txt").write_text(
            ("" if feature else shlex.join(uas.argv) + "\n") + shlex.join(uac.argv) + "\n"
        )
        m0 = self.metrics()
        log_pos = self.messages_log_size()
        spy: subprocess.Popen[bytes] | None = None
        perf: subprocess.Popen[bytes] | None = None
        cap: subprocess.Popen[bytes] | None = None
        pcap = folder / "sip.pcap"
        if feature:  # the caller's SIP leg and the RTP Asterisk sends to the caller
            bpf = (f"udp and (port {CALLER_PORT} or "
                   f"(dst host {caller_ip} and dst port {UAC_MEDIA_PORT}))")  # fmt: skip
        else:
            bpf = f"udp and (port {CALLER_PORT} or (host {MOBILE_IP} and port {PEER_PORT}))"
        try:
            if args.pcap:
                cap = subprocess.Popen(
                    [
                        "dumpcap", "-i", "lo", "-P", "-q", "-B", "64", "-w", str(pcap), "-f",
                        bpf,
                    ],
                    stdout=subprocess.DEVNULL, stderr=open(folder / "dumpcap.err", "wb"),
                    start_new_session=True,
                )  # fmt: skip
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not (
                    pcap.exists() and pcap.stat().st_size >= 24
                ):
                    time.sleep(0.05)
                time.sleep(0.2)
            if not feature:  # feature calls end at Asterisk: no handset
                uas.start()
                self.sipp_live.append(uas)
                time.sleep(0.3)
                if uas.poll():
                    raise SystemExit(f"bench: handset UAS exited at once, see {folder}/uas.out")
            app0 = proc_cpu_ticks(self.app.proc.pid) or 0
            ast0 = proc_cpu_ticks(self.ast_pid) or 0
            pg0 = postgres_ticks()
            sys0 = system_ticks()
            t0 = time.monotonic()
            if profile:
                spy = subprocess.Popen(
                    [
                        str(Path(sys.executable).with_name("py-spy")), "record",
                        "--pid", str(self.app.proc.pid), "--duration", str(int(duration)),
                        "--rate", "250", "--format", "raw", "--nonblocking",
                        "--output", str(folder / "pyspy.txt"),
                    ],
                    stdout=subprocess.DEVNULL, stderr=open(folder / "pyspy.err", "wb"),
                    start_new_session=True,
                )  # fmt: skip
                if shutil.which("perf"):
                    perf = subprocess.Popen(
                        [
                            "perf", "record", "-F", "299", "-g", "-p", str(self.ast_pid),
                            "-o", str(folder / "perf-asterisk.data"), "--", "sleep",
                            str(int(duration)),
                        ],
                        stdout=subprocess.DEVNULL, stderr=open(folder / "perf.err", "wb"),
                        start_new_session=True,
                    )  # fmt: skip
            uac.start()
            self.sipp_live.append(uac)
            if not uac.wait(sipp_timeout + 10):
                step.notes.append("caller SIPp killed on timeout")
                uac.stop()
            calls_wall = time.monotonic() - t0
            app1 = proc_cpu_ticks(self.app.proc.pid) or 0
            ast1 = proc_cpu_ticks(self.ast_pid) or 0
            sys1 = system_ticks()
            drained = self.drain(args.drain_timeout)
            if not drained:
                step.notes.append("Asterisk not drained: hung up leftovers")
                try:
                    self.instance.cli("channel request hangup all")
                except Exception:  # noqa: BLE001
                    pass
                self.drain(15)
            app2 = proc_cpu_ticks(self.app.proc.pid) or 0
            ast2 = proc_cpu_ticks(self.ast_pid) or 0
            pg2 = postgres_ticks()
            sys2 = system_ticks()
            step.wall = time.monotonic() - t0
            uas.stop()
        finally:
            for p in (uac, uas):
                p.stop()
            for helper in (spy, perf):
                if helper is not None:
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
        m1 = self.metrics()

        stats = read_stats(folder / "uac_stat.csv")
        ustats = read_stats(folder / "uas_stat.csv")
        step.attempted = int(stats.get("OutgoingCall(C)", 0) or 0)
        step.successful = int(stats.get("SuccessfulCall(C)", 0) or 0)
        step.failed = step.planned - step.successful
        step.delivered = int(ustats.get("IncomingCall(C)", 0) or 0)
        step.achieved_rate = achieved_rate(folder)
        if uac.rc not in (0, None) and step.failed == 0:
            step.notes.append(f"caller SIPp exit {uac.rc}")
        rtts = read_rtt(folder, "answer" if feature else "ring")
        step.sipp50, step.sipp99 = percentile(rtts, 50), percentile(rtts, 99)
        if feature:
            step.state_checked, step.state_ok = self.feature_check(rows[: step.attempted], folder)
        if args.pcap and pcap.exists() and feature:
            legs = analyse(
                pcap, CALLER_PORT, MOBILE_IP, PEER_PORT, media=(caller_ip, UAC_MEDIA_PORT)
            )
            ans = legs.answer_ms()
            rtp = legs.first_rtp_ms()
            step.p50, step.p99 = percentile(ans, 50), percentile(ans, 99)
            step.pmax = max(ans) if ans else None
            step.rtp50, step.rtp99 = percentile(rtp, 50), percentile(rtp, 99)
            step.rtpmax = max(rtp) if rtp else None
            step.bye50 = percentile(legs.answer_to_bye_ms(), 50)
            (folder / "latency.txt").write_text(
                f"packets {legs.packets} rtp {legs.rtp_packets} invites {len(legs.invite)} "
                f"answered {len(ans)} rtp-matched {len(rtp)} byes {len(legs.bye)}\n"
            )
            if not args.keep_pcap:
                pcap.unlink()
        elif args.pcap and pcap.exists():
            legs = analyse(pcap, CALLER_PORT, MOBILE_IP, PEER_PORT)
            ring = legs.ring_ms()
            hs = legs.to_handset_ms()
            step.p50, step.p99 = percentile(ring, 50), percentile(ring, 99)
            step.pmax = max(ring) if ring else None
            step.hs50, step.hs99 = percentile(hs, 50), percentile(hs, 99)
            (folder / "latency.txt").write_text(
                f"packets {legs.packets} invites {len(legs.invite)} ringing {len(ring)} "
                f"handset-matched {len(hs)}\n"
            )
            if not args.keep_pcap:
                pcap.unlink()
        else:
            step.p50, step.p99 = step.sipp50, step.sipp99
            step.pmax = max(rtts) if rtts else None
        tick_ms = 1000.0 / CLK_TCK
        ok = max(1, step.successful)
        step.app_ms = (app2 - app0) * tick_ms / ok
        step.ast_ms = (ast2 - ast0) * tick_ms / ok
        step.pg_ms = (pg2 - pg0) * tick_ms / ok
        step.sipp_ms = (uac.cpu_s + uas.cpu_s) * 1000 / ok
        # CPU the machine spent on anything but this bench's processes (another test run?)
        ours = (app2 - app0) + (ast2 - ast0) + (pg2 - pg0) + (uac.cpu_s + uas.cpu_s) * CLK_TCK
        n_cpu = os.cpu_count() or 1
        other_ticks = (sys2[0] - sys0[0]) - ours * 1.0  # /proc/stat counts per-CPU jiffies
        step.other_core = max(0.0, 100.0 * other_ticks / CLK_TCK / step.wall)
        if step.other_core > 15 * n_cpu / 2:
            step.notes.append(f"OTHER LOAD {step.other_core:.0f}% of a core")
        busy = sys1[0] - sys0[0]
        total = sys1[1] - sys0[1]
        step.box_busy = 100.0 * busy / total if total else 0.0
        step.app_core = 100.0 * (app1 - app0) / CLK_TCK / calls_wall
        step.ast_core = 100.0 * (ast1 - ast0) / CLK_TCK / calls_wall
        for key, value in m1.items():
            if key.startswith("vipcall_calls_total{") or key.startswith("vipcall_fail_open_total{"):
                diff = value - m0.get(key, 0.0)
                if diff:
                    step.outcomes[key.split("{", 1)[1].rstrip("}")] = diff
                if key.startswith("vipcall_fail_open_total{"):
                    step.fail_open += int(diff)
        dsum = m1.get("vipcall_decision_seconds_sum", 0) - m0.get("vipcall_decision_seconds_sum", 0)
        dcnt = m1.get("vipcall_decision_seconds_count", 0) - m0.get(
            "vipcall_decision_seconds_count", 0
        )
        if dcnt:
            step.decision_ms = 1000 * dsum / dcnt
        step.warnings = self.log_warnings(log_pos)
        if not self.app.running:
            step.notes.append("APP DIED")
        if profile:
            if path != "dialplan":  # the app has nothing to do on the dialplan path
                self.profile[path] = summarize_profile(
                    folder / "pyspy.txt", folder / "pyspy.err", path=path, rate=rate
                )
            self.perf_report[f"{path} path at {rate}/s"] = summarize_perf(
                folder / "perf-asterisk.data", self.root
            )
        return step

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
        self.idle = (
            100.0 * ((a1 or 0) - (a0 or 0)) / CLK_TCK / (t1 - t0),
            100.0 * ((s1 or 0) - (s0 or 0)) / CLK_TCK / (t1 - t0),
        )

    # -- the run -------------------------------------------------------------------------

    def run(self) -> int:
        args = self.args
        self.check_free()
        self.foreign_at_start = self.foreign_processes()
        if self.foreign_at_start:
            print("bench: WARNING: other telephony/test processes are running; figures will be "
                  "disturbed:\n  " + "\n  ".join(self.foreign_at_start), flush=True)  # fmt: skip
        t_start = time.monotonic()
        print(f"bench: seeding {args.users} users ...", flush=True)
        asyncio.run(self.seed())
        try:
            print("bench: starting Asterisk instance 'bench' ...", flush=True)
            self.start_asterisk()
            print(f"bench: starting vipcall (log level {args.log_level}) ...", flush=True)
            self.start_app()
            self.measure_idle(5.0)
            # warm-up (not reported): DB pool connections, first-call imports, caches
            for path in args.paths:
                self.run_step(path, 10, 2.0, tag="warmup")
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
                self.wait_quiet(args.quiet_wait)
                step = self.run_step(path, rate, args.duration)
                self.steps.append(step)
                print(format_step(step), flush=True)
                if step.planned and step.failed / step.planned * 100 > args.stop_fail_pct:
                    print(f"bench: {path}: >{args.stop_fail_pct}% failed, no higher rates")
                    stopped.add(path)
                if not self.app.running:  # type: ignore[union-attr]
                    print("bench: the app died; stopping", flush=True)
                    break
                time.sleep(args.pause)
            if args.profile_rate and self.app and self.app.running:
                for path in args.paths:
                    rate = args.profile_rate
                    if path == "feature":
                        rate = min(rate, max(args.feature_rates))
                    print(f"bench: profiling {path} at {rate} calls/s "
                          "(py-spy on the app, perf on Asterisk) ...", flush=True)  # fmt: skip
                    self.wait_quiet(args.quiet_wait)
                    self.run_step(path, rate, args.duration, profile=True)
                    time.sleep(args.pause)
        finally:
            for p in self.sipp_live:
                p.stop()
            if self.app is not None:
                self.app.stop()
            if self.instance is not None:
                self.instance.stop()
            if self.database_url is not None and not args.keep_db:
                asyncio.run(drop_database(self.database_url))
        report = self.report(time.monotonic() - t_start)
        print(report)
        (self.workdir / "results.md").write_text(report)
        (RESULTS / "latest.md").write_text(report)
        print(f"bench: written {RESULTS / 'latest.md'} (raw files in {self.workdir})")
        return 0

    # -- report --------------------------------------------------------------------------

    def report(self, elapsed: float) -> str:
        a = self.args
        lines = ["# vipcall benchmark", ""]
        lines.append(f"Command: `{a.command}`  ")
        lines.append(f"Date: {dt.datetime.now().isoformat(timespec='seconds')}, "
                     f"total {elapsed / 60:.1f} min  ")  # fmt: skip
        lines += machine_info(self.ast_version, self.git)
        foreign = sorted(set(self.foreign_at_start) | self.foreign_seen)
        if foreign:
            lines.append(
                "**WARNING: other Asterisk/SIPp/vipcall/pytest processes were seen during this "
                "run** (each step first waited up to --quiet-wait for them to end; the 'other' "
                "column shows what they took during a step): "
                + "; ".join(f"`{f}`" for f in foreign[:6])
                + "  "
            )
        lines.append(
            f"Load: steps of {a.duration:g} s of calls at each rate, {a.hold} ms hold, handset "
            f"answers at once (180+200); {a.users} users, callers dial random users' mobile "
            f"numbers; app log level {a.log_level}; SIPp recv timeout {a.recv_timeout} ms.  "
        )
        if "feature" in a.paths:
            lines.append(
                "Feature path: rates "
                + ", ".join(str(r) for r in a.feature_rates)
                + f" calls/s, {a.duration:g} s each; each call from a different random user's "
                "mobile via the mobile trunk (127.0.0.3, own port), codes 983n (n=1..8) and "
                "984n (n=1..5) alternately; the app stores (directory service, one PostgreSQL "
                "transaction), then answers (200 OK), plays the confirmation prompt and hangs "
                "up; the caller answers the BYE.  "
            )
        lines.append(
            f"Idle (no calls, {5} s): app {self.idle[0]:.1f} % of a core, Asterisk "
            f"{self.idle[1]:.1f} % (included in the per-call figures, which count from the "
            "first INVITE until Asterisk has drained)."
        )
        lines.append("")
        if any(s.path != "feature" for s in self.steps):
            lines += self.main_table()
        lines += self.feature_table()
        lines += self.summary()
        return self.tail(lines)

    def main_table(self) -> list[str]:
        lines: list[str] = []
        lines.append(
            "| path | rate/s | achieved/s | attempted | ok | failed | fail-open "
            "| INVITE→180 p50 / p99 / max ms | INVITE→handset p50 / p99 ms "
            "| app CPU ms/call | Asterisk CPU ms/call | Postgres CPU ms/call | SIPp CPU ms/call "
            "| app / Asterisk / other % of a core | box busy % | notes |"
        )
        lines.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
        for s in self.steps:
            if s.path == "feature":
                continue
            lat = " / ".join(fmt(x, 1) for x in (s.p50, s.p99, s.pmax))
            hs = " / ".join(fmt(x, 1) for x in (s.hs50, s.hs99))
            notes = list(s.notes)
            if s.path == "vipcall":
                other = {
                    k: v for k, v in s.outcomes.items()
                    if k != 'outcome="handed_off"' and not k.startswith("reason=")
                }  # fmt: skip
                if other:
                    notes.append(", ".join(f"{k} {int(v)}" for k, v in other.items()))
                if s.decision_ms is not None:
                    notes.append(f"decision {s.decision_ms:.1f} ms avg")
            if s.delivered != s.attempted:
                notes.append(f"handset got {s.delivered}")
            if s.warnings:
                notes.append(f"{sum(s.warnings.values())} Asterisk warnings")
            lines.append(
                f"| {s.path} | {s.rate} | {s.achieved_rate:.0f} | {s.attempted} | {s.successful} "
                f"| {s.failed} | {s.fail_open if s.path == 'vipcall' else '–'} | {lat} | {hs} "
                f"| {fmt(s.app_ms, 2)} | {fmt(s.ast_ms, 2)} "
                f"| {fmt(s.pg_ms, 2)} | {fmt(s.sipp_ms, 2)} | {s.app_core:.0f} / {s.ast_core:.0f} / {s.other_core:.0f} "  # noqa: E501
                f"| {s.box_busy:.0f} | {'; '.join(notes)} |"
            )
        lines.append("")
        return lines

    def tail(self, lines: list[str]) -> str:
        warn_total: collections.Counter[str] = collections.Counter()
        for s in self.steps:
            for k, v in s.warnings.items():
                warn_total[f"{s.path} {s.rate}/s: {k}"] += v
        if warn_total:
            lines += ["", "Asterisk warnings/errors logged during steps (top 12):", ""]
            for k, v in warn_total.most_common(12):
                lines.append(f"- {v}× {k}")
        for text in self.profile.values():
            lines += ["", text]
        for what, text in self.perf_report.items():
            lines += [
                "",
                f"## Asterisk profile (perf, {what})",
                "",
                text,
            ]
        lines.append("")
        return "\n".join(lines)

    def feature_table(self) -> list[str]:
        steps = [s for s in self.steps if s.path == "feature"]
        if not steps:
            return []
        lines = [
            "### feature path (feature codes 983n/984n from the user's handset)",
            "",
            "Flow per call: store (PostgreSQL transaction) → answer (200 OK) → play the "
            "confirmation prompt → hang up. INVITE→200 is therefore the time until the prompt "
            "is started; INVITE→first RTP is when its first packet reached the caller "
            "(capture: the first RTP packet from the port Asterisk's 200 OK announced). "
            "'state' counts the callers whose stored activity/role (983n: activity = n and "
            "activity_changed_at renewed; 984n: role = n) shows the code after the step.",
            "",
            "| rate/s | achieved/s | attempted | ok | failed | fail-open "
            "| INVITE→200 p50 / p99 / max ms | INVITE→first RTP p50 / p99 / max ms "
            "| 200→BYE p50 ms | state took effect / checked "
            "| app CPU ms/call | Asterisk CPU ms/call | Postgres CPU ms/call | SIPp CPU ms/call "
            "| app / Asterisk / other % of a core | box busy % | notes |",
            "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for s in steps:
            lat = " / ".join(fmt(x, 1) for x in (s.p50, s.p99, s.pmax))
            rtp = " / ".join(fmt(x, 1) for x in (s.rtp50, s.rtp99, s.rtpmax))
            notes = list(s.notes)
            outs = {
                k.split('"')[1] if '"' in k else k: int(v)
                for k, v in s.outcomes.items() if not k.startswith("reason=")
            }  # fmt: skip
            if outs:
                notes.append(", ".join(f"{k} {v}" for k, v in sorted(outs.items())))
            if s.decision_ms is not None:
                notes.append(f"decision {s.decision_ms:.1f} ms avg")
            if s.warnings:
                notes.append(f"{sum(s.warnings.values())} Asterisk warnings")
            lines.append(
                f"| {s.rate} | {s.achieved_rate:.0f} | {s.attempted} | {s.successful} "
                f"| {s.failed} | {s.fail_open} | {lat} | {rtp} | {fmt(s.bye50, 0)} "
                f"| {s.state_ok} / {s.state_checked} "
                f"| {fmt(s.app_ms, 2)} | {fmt(s.ast_ms, 2)} "
                f"| {fmt(s.pg_ms, 2)} | {fmt(s.sipp_ms, 2)} | {s.app_core:.0f} / {s.ast_core:.0f} / {s.other_core:.0f} "  # noqa: E501
                f"| {s.box_busy:.0f} | {'; '.join(notes)} |"
            )
        lines.append("")
        return lines

    def summary(self) -> list[str]:
        by: dict[str, list[Step]] = collections.defaultdict(list)
        for s in self.steps:
            by[s.path].append(s)
        best: dict[str, int] = {}
        out = ["## Summary", ""]
        for path, steps in sorted(by.items(), key=lambda kv: PATHS.index(kv[0])):
            zero = [s.rate for s in steps if s.zero_fail]
            # highest rate with 0 failures such that every lower step was clean too
            clean = 0
            for s in sorted(steps, key=lambda x: x.rate):
                if not s.zero_fail:
                    break
                clean = s.rate
            best[path] = clean
            extra = ""
            if zero and max(zero) != clean:
                extra = f" (a higher step, {max(zero)}/s, was clean again)"
            tested = max(s.rate for s in steps)
            ceiling = " (not reached: every tested rate clean)" if clean == tested else ""
            usable = 0
            for s in sorted(steps, key=lambda x: x.rate):
                if not s.zero_fail or s.p99 is None or s.p99 > self.args.p99_limit:
                    break
                usable = s.rate
            what = "INVITE→200" if path == "feature" else "INVITE→180"
            clean_what = (
                " (clean = 0 failed, 0 fail-open, every code stored)" if path == "feature" else ""
            )
            out.append(
                f"- **{path}**: highest rate with 0 failed calls{clean_what}: **{clean} calls/s**{ceiling}{extra}"  # noqa: E501
                f"; with 0 failed and {what} p99 ≤ {self.args.p99_limit:g} ms: {usable} calls/s"
            )
            if path == "feature":
                out.append(
                    "- **feature** INVITE→200 (prompt started) p50 / p99 ms: "
                    + ", ".join(f"{s.rate}/s {fmt(s.p50, 1)} / {fmt(s.p99, 1)}" for s in steps)
                    + "; INVITE→first RTP of the prompt p50 / p99 ms: "
                    + ", ".join(f"{s.rate}/s {fmt(s.rtp50, 1)} / {fmt(s.rtp99, 1)}" for s in steps)
                )
        if "dialplan" in best and "vipcall" in best and best["dialplan"]:
            ratio = best["vipcall"] / best["dialplan"]
            out.append(
                f"- target vipcall ≥ 0.9× dialplan rate: {ratio:.2f}× → "
                f"{'MET' if ratio >= 0.9 else 'NOT MET'}"
                + (" (dialplan ceiling not reached: ratio is a lower bound only if vipcall's"
                   " ceiling was reached)" if best["dialplan"] == max(
                       s.rate for s in by["dialplan"]) else "")
            )  # fmt: skip
            dp = {s.rate: s for s in by["dialplan"] if s.zero_fail}
            added = [
                (s.rate, s.p99 - dp[s.rate].p99)
                for s in by["vipcall"]
                if s.zero_fail and s.rate in dp and s.p99 is not None
                and dp[s.rate].p99 is not None
            ]  # fmt: skip
            if added:
                worst = max(added, key=lambda x: x[1])
                detail = ", ".join(f"{r}/s {d:+.0f}" for r, d in added)
                out.append(
                    f"- target ≤ 5 ms added INVITE→180 p99 (vipcall − dialplan, clean steps): "
                    f"{detail} ms; worst {worst[1]:+.0f} ms at {worst[0]}/s → "
                    f"{'MET' if worst[1] <= 5 else 'NOT MET'}"
                )
            cpu = [s.app_ms for s in by["vipcall"] if s.zero_fail and s.app_ms is not None]
            if cpu:
                med = sorted(cpu)[len(cpu) // 2]
                out.append(
                    f"- target ≤ 1 ms app CPU per call: {min(cpu):.2f}–{max(cpu):.2f} ms over "
                    f"clean steps (median {med:.2f}) → {'MET' if max(cpu) <= 1 else 'NOT MET'}"
                )
            ast = [
                (s.rate, s.ast_ms - dp[s.rate].ast_ms)
                for s in by["vipcall"]
                if s.zero_fail and s.rate in dp and s.ast_ms is not None
                and dp[s.rate].ast_ms is not None
            ]  # fmt: skip
            if ast:
                out.append(
                    "- Asterisk CPU added per call by the vipcall path (Stasis, ARI, "
                    "[vipcall-ring]): " + ", ".join(f"{r}/s {d:+.2f} ms" for r, d in ast)
                )
        return out


# ---------------------------------------------------------------------------------------
# reporting helpers


def fmt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def format_step(s: Step) -> str:
    lat = "/".join(fmt(x, 1) for x in (s.p50, s.p99, s.pmax))
    extra = ""
    if s.path == "feature":
        rtp = "/".join(fmt(x, 1) for x in (s.rtp50, s.rtp99, s.rtpmax))
        extra = f"RTP p50/p99/max {rtp} ms, state {s.state_ok}/{s.state_checked}, "
    return (
        f"  {s.path:8s} {s.rate:4d}/s: {s.successful}/{s.planned} ok, {s.failed} failed, "
        f"{s.fail_open} fail-open, "
        f"{'200' if s.path == 'feature' else '180'} p50/p99/max {lat} ms, {extra}"
        f"app {fmt(s.app_ms, 2)} ms/call, "
        f"asterisk {fmt(s.ast_ms, 2)} ms/call, box {s.box_busy:.0f}% busy "
        f"{'; '.join(s.notes)}"
    )


def git_state() -> str:
    """HEAD and uncommitted changes outside bench/ (the app's code at start-up)."""
    git = "?"
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=BENCH_DIR).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench"],
            capture_output=True, text=True, cwd=BENCH_DIR.parent,
        ).stdout.split()[1::2]  # fmt: skip
        git = head + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else "")
    except OSError:
        pass
    return git


def machine_info(ast_v: str, git: str) -> list[str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) // 1024} MiB"
    sipp = subprocess.run(["sipp", "-v"], capture_output=True, text=True).stdout
    sipp_v = next((ln.strip() for ln in sipp.splitlines() if "SIPp" in ln), "?")
    pg_v = "?"
    try:
        pg_v = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
            capture_output=True, text=True, timeout=5,
        ).stdout.strip() or "?"  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        pass
    return [
        f"Code: git {git} (when the run started)  ",
        f"Machine: {os.cpu_count()} CPUs (nproc), {cpu}, {mem} RAM, Linux {platform.release()}  ",
        f"Software: {ast_v}; {sipp_v}; PostgreSQL {pg_v}; Python {platform.python_version()}  ",
    ]


def summarize_profile(
    raw: Path,
    err: Path,
    a_rate_note: str = "250 Hz, --nonblocking",
    path: str = "vipcall",
    rate: int = 0,
) -> str:
    """Top functions (self and inclusive) from py-spy's collapsed-stack output."""
    if not raw.exists():
        msg = err.read_text(errors="replace").strip()[-300:] if err.exists() else ""
        return f"## App profile\n\npy-spy produced no output. {msg}"
    self_t: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    idle = total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";") if f]
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        total += n
        if frames and frames[-1].endswith(".select (selectors.py)"):
            idle += n
            continue
        if frames:
            self_t[frames[-1]] += n
            for f in set(frames):
                incl[f] += n
    busy = total - idle
    if not busy:
        return "## App profile\n\npy-spy saw only idle samples."
    out = [
        f"## App profile (py-spy, {path} path at {rate}/s)",
        "",
        f"{total} samples ({a_rate_note}), {idle} in the event loop's epoll wait, {busy} busy. "
        "Shares below are of the busy samples.",
        "",
        "Top self time:",
        "",
    ]
    for name, n in self_t.most_common(20):
        out.append(f"- {100 * n / busy:5.1f}% {name}")
    out += ["", "Top inclusive time (vipcall, sqlalchemy, asyncpg, aiohttp, json, logging):", ""]
    keep = re.compile(r"vipcall|sqlalchemy|asyncpg|aiohttp|json|logging|prometheus|asyncio")
    shown = 0
    for name, n in incl.most_common(400):
        if keep.search(name) and 100 * n / busy < 99.5:
            out.append(f"- {100 * n / busy:5.1f}% {name}")
            shown += 1
            if shown >= 30:
                break
    return "\n".join(out)


def summarize_perf(data: Path, root: Path, top: int = 25) -> str:
    """Top symbols (self time) of Asterisk from ``perf record``; chroot binaries via --symfs."""
    if not data.exists():
        return "perf produced no data."
    try:
        res = subprocess.run(
            [
                "perf", "report", "-i", str(data), "--stdio", "--no-children", "-g", "none",
                "--sort", "dso", "--percent-limit", "1", f"--symfs={root}",
            ],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"perf report failed: {exc}"
    rows = [ln.rstrip() for ln in res.stdout.splitlines() if ln.strip() and not ln.startswith("#")]
    if not rows:
        return "perf report gave nothing: " + res.stderr.strip()[-300:]
    return "```\n" + "\n".join(rows[:top]) + "\n```"


# ---------------------------------------------------------------------------------------


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
                   help="any of dialplan, vipcall, feature (comma-separated)")  # fmt: skip
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
        if path not in PATHS:
            p.error(f"unknown path {path!r}")
    args.command = shlex.join([".venv/bin/python", "-m", "bench.run", *(argv or sys.argv[1:])])
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("sipp") is None:
        raise SystemExit("bench: sipp (Debian package sip-tester) not found")
    return Bench(args).run()


if __name__ == "__main__":
    raise SystemExit(main())
