"""What the benchmark measures and how: CPU time of the processes involved (from /proc),
SIPp's statistics and response-time files, percentiles, and the per-step record
(:class:`Step`) the report is made from."""

from __future__ import annotations

import collections
import math
import os
import re
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.pcap import analyse

PATHS = ("dialplan", "vipcall", "feature")

CLK_TCK = os.sysconf("SC_CLK_TCK")


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


@dataclass(frozen=True)
class CpuSample:
    """CPU ticks of the app, Asterisk, PostgreSQL and the whole machine at one moment."""

    app: int
    asterisk: int
    postgres: int
    system: tuple[int, int]

    @classmethod
    def take(cls, app_pid: int, asterisk_pid: int, postgres: bool = True) -> CpuSample:
        return cls(
            proc_cpu_ticks(app_pid) or 0,
            proc_cpu_ticks(asterisk_pid) or 0,
            postgres_ticks() if postgres else 0,
            system_ticks(),
        )


# ---------------------------------------------------------------------------------------
# SIPp statistics


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
# the app's and Asterisk's own counters


def app_metrics(port: int) -> dict[str, float]:
    """The app's ``vipcall_*`` Prometheus samples (empty if it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
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


def log_warnings(messages_log: Path, since: int) -> collections.Counter[str]:
    """Asterisk WARNING/ERROR lines logged after byte ``since``, numbers folded to N."""
    counts: collections.Counter[str] = collections.Counter()
    try:
        with open(messages_log, "rb") as fh:
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
    rereads: int = 0  # routing-cache re-read queries during the step
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

    def count_sipp(self, folder: Path, caller_rc: int | None, feature: bool) -> list[float]:
        """Calls placed, answered and delivered, from SIPp's statistics; returns SIPp's own
        rtd times (INVITE->180, or INVITE->200 on the feature path)."""
        stats = read_stats(folder / "uac_stat.csv")
        ustats = read_stats(folder / "uas_stat.csv")
        self.attempted = int(stats.get("OutgoingCall(C)", 0) or 0)
        self.successful = int(stats.get("SuccessfulCall(C)", 0) or 0)
        self.failed = self.planned - self.successful
        self.delivered = int(ustats.get("IncomingCall(C)", 0) or 0)
        self.achieved_rate = achieved_rate(folder)
        if caller_rc not in (0, None) and self.failed == 0:
            self.notes.append(f"caller SIPp exit {caller_rc}")
        rtts = read_rtt(folder, "answer" if feature else "ring")
        self.sipp50, self.sipp99 = percentile(rtts, 50), percentile(rtts, 99)
        return rtts

    def count_cpu(
        self, before: CpuSample, calls_end: CpuSample, after: CpuSample, sipp_cpu_s: float,
        calls_wall: float,
    ) -> None:  # fmt: skip
        """Per-call CPU of each process from the samples taken before the calls, when the
        caller finished and after Asterisk drained; shares of a core; other load."""
        tick_ms = 1000.0 / CLK_TCK
        ok = max(1, self.successful)
        app = after.app - before.app
        ast = after.asterisk - before.asterisk
        pg = after.postgres - before.postgres
        self.app_ms = app * tick_ms / ok
        self.ast_ms = ast * tick_ms / ok
        self.pg_ms = pg * tick_ms / ok
        self.sipp_ms = sipp_cpu_s * 1000 / ok
        # CPU the machine spent on anything but this bench's processes (another test run?)
        ours = app + ast + pg + sipp_cpu_s * CLK_TCK
        n_cpu = os.cpu_count() or 1
        other_ticks = (after.system[0] - before.system[0]) - ours * 1.0  # per-CPU jiffies
        self.other_core = max(0.0, 100.0 * other_ticks / CLK_TCK / self.wall)
        if self.other_core > 15 * n_cpu / 2:
            self.notes.append(f"OTHER LOAD {self.other_core:.0f}% of a core")
        busy = calls_end.system[0] - before.system[0]
        total = calls_end.system[1] - before.system[1]
        self.box_busy = 100.0 * busy / total if total else 0.0
        self.app_core = 100.0 * (calls_end.app - before.app) / CLK_TCK / calls_wall
        self.ast_core = 100.0 * (calls_end.asterisk - before.asterisk) / CLK_TCK / calls_wall

    def count_app(self, m0: dict[str, float], m1: dict[str, float]) -> None:
        """Outcomes, fail-open calls and the mean decision time from the app's metrics."""
        for key, value in m1.items():
            if key.startswith("vipcall_calls_total{") or key.startswith("vipcall_fail_open_total{"):
                diff = value - m0.get(key, 0.0)
                if diff:
                    self.outcomes[key.split("{", 1)[1].rstrip("}")] = diff
                if key.startswith("vipcall_fail_open_total{"):
                    self.fail_open += int(diff)
        dsum = m1.get("vipcall_decision_seconds_sum", 0) - m0.get("vipcall_decision_seconds_sum", 0)
        dcnt = m1.get("vipcall_decision_seconds_count", 0) - m0.get(
            "vipcall_decision_seconds_count", 0
        )
        if dcnt:
            self.decision_ms = 1000 * dsum / dcnt
        self.rereads = int(
            m1.get("vipcall_routing_rereads_total", 0) - m0.get("vipcall_routing_rereads_total", 0)
        )

    def count_latency(
        self,
        pcap: Path | None,
        rtts: list[float],
        caller_port: int,
        handset: tuple[str, int],
        media: tuple[str, int] | None = None,
        keep_pcap: bool = False,
    ) -> None:
        """Latencies from the step's packet capture (kernel timestamps): INVITE->180 and
        INVITE->handset, or on the feature path (``media``: the caller's RTP address)
        INVITE->200, INVITE->first RTP packet and 200->BYE. Without a capture: SIPp's own
        rtd times (4 ms steps)."""
        if pcap is None or not pcap.exists():
            self.p50, self.p99 = self.sipp50, self.sipp99
            self.pmax = max(rtts) if rtts else None
            return
        folder = pcap.parent
        legs = analyse(pcap, caller_port, handset[0], handset[1], media=media)
        if media is not None:
            ans = legs.answer_ms()
            rtp = legs.first_rtp_ms()
            self.p50, self.p99 = percentile(ans, 50), percentile(ans, 99)
            self.pmax = max(ans) if ans else None
            self.rtp50, self.rtp99 = percentile(rtp, 50), percentile(rtp, 99)
            self.rtpmax = max(rtp) if rtp else None
            self.bye50 = percentile(legs.answer_to_bye_ms(), 50)
            (folder / "latency.txt").write_text(
                f"packets {legs.packets} rtp {legs.rtp_packets} invites {len(legs.invite)} "
                f"answered {len(ans)} rtp-matched {len(rtp)} byes {len(legs.bye)}\n"
            )
        else:
            ring = legs.ring_ms()
            hs = legs.to_handset_ms()
            self.p50, self.p99 = percentile(ring, 50), percentile(ring, 99)
            self.pmax = max(ring) if ring else None
            self.hs50, self.hs99 = percentile(hs, 50), percentile(hs, 99)
            (folder / "latency.txt").write_text(
                f"packets {legs.packets} invites {len(legs.invite)} ringing {len(ring)} "
                f"handset-matched {len(hs)}\n"
            )
        if not keep_pcap:
            pcap.unlink()
