"""Steady SIPp load through a sandboxed Asterisk: the fault tests, the soak (bench/soak.py).

A caller SIPp on the PSTN address places calls at a fixed rate (``-r``), each to one of the
given users' numbers, holds each for ``hold_ms`` and hangs up (``bench_uac.xml``); one
handset SIPp on the mobile core's address answers every call (``bench_uas.xml``) and keeps a
message trace, so a test can tell, call by call, who routed it:

* **the app**: it shows the handset the caller ID in E.164 (``+35850...``);
* **the fail-open dialplan** (app away, or the app could not read the database): the caller
  ID as the caller sent it (national form, ``050...``), since only the app rewrites it.

The caller's statistics (SIPp ``-trace_stat``) say how many calls succeeded: a call counts
only if it got 180 and 200, and its BYE was answered, so an established call that was cut
(Asterisk or the handset lost it) is a failed call.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import read_stats
from harness.party import SipMessage, Sipp, SippProcess, SippResult, uri_user

CALLER_PORT = 5301


def national(n: int) -> str:
    """The ``n``-th caller number, in national form (the app shows it as ``+35850...``)."""
    return f"050{7000000 + n % 3000000:07d}"


@dataclass
class LoadResult:
    planned: int
    attempted: int
    successful: int
    failed: int
    handset: SippResult
    caller_log: str = ""
    dialled: frozenset[str] = frozenset()
    """The numbers this load called: an INVITE for another number at the shared handset
    port is a leftover of an earlier test (Asterisk retransmits an unanswered INVITE for
    32 s), not one of these calls."""

    @property
    def invites(self) -> list[SipMessage]:
        """The calls delivered to the handset: the first INVITE of each Call-ID. A
        retransmission (Asterisk resends an INVITE the busy handset has not answered within
        500 ms) is the same call; a second delivery of one caller's call is a new leg with
        a Call-ID of its own, so it still counts twice."""
        first: dict[str, SipMessage] = {}
        for m in self.handset.received("INVITE"):
            if self.dialled and m.request_user not in self.dialled:
                continue
            first.setdefault(m.header("call-id") or str(id(m)), m)
        return list(first.values())

    def routed(self) -> list[SipMessage]:
        """INVITEs at the handset the app routed (caller ID rewritten to E.164)."""
        return [m for m in self.invites if (uri_user(m.header("From")) or "").startswith("+")]

    def failed_open(self) -> list[SipMessage]:
        """INVITEs at the handset the fail-open dialplan sent (caller ID as sent)."""
        return [m for m in self.invites if (uri_user(m.header("From")) or "").startswith("0")]

    def first_routed_after(self, t: float) -> float | None:
        """Wall-clock time of the first app-routed INVITE at the handset after ``t``."""
        times = [m.at for m in self.routed() if m.at > t]
        return min(times) if times else None

    def up_at(self, t: float, hold_s: float) -> int:
        """Calls delivered to the handset (and so answered: it answers at once) that were
        still up at ``t``: delivered before ``t``, their hold not yet over."""
        return sum(1 for m in self.invites if m.at < t < m.at + hold_s)


@dataclass
class Load:
    """``calls``: (dialled number, caller number) per call, used in turn."""

    workdir: Path
    calls: list[tuple[str, str]]
    rate: float
    count: int
    asterisk: str  # Asterisk's SIP ip:port
    caller_ip: str  # the PSTN trunk's address
    handset_ip: str  # the mobile core's address (its port 5060 answers every call)
    hold_ms: int = 2000
    recv_timeout_ms: int = 8000
    caller_port: int = CALLER_PORT
    handset_trace: bool = True
    _uas: SippProcess | None = None
    _uac: SippProcess | None = None
    _stats: Path = field(init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._stats = self.workdir / "caller_stat.csv"

    def _csv(self) -> Path:
        path = self.workdir / "calls.csv"
        rows = (self.calls[i % len(self.calls)] for i in range(self.count))
        path.write_text("SEQUENTIAL\n" + "".join(f"{d};{c};\n" for d, c in rows))
        return path

    def start(self) -> Load:
        handset = Sipp(
            "bench_uas.xml", self.handset_ip, 5060, self.workdir, calls=None, timeout=3600,
            timeout_error=False, trace=self.handset_trace, max_recv_loops=10000,
        )  # fmt: skip
        self._uas = handset.spawn(cwd=self.workdir, output=self.workdir / "handset.out")
        time.sleep(0.2)
        if self._uas.poll():
            raise RuntimeError(f"handset SIPp exited: {self._output('handset.out')}")
        duration = self.count / self.rate + self.hold_ms / 1000 + self.recv_timeout_ms / 1000
        caller = Sipp(
            "bench_uac.xml", self.caller_ip, self.caller_port, self.workdir, remote=self.asterisk,
            calls=self.count, timeout=duration + 20, timeout_error=False, trace=False,
            max_recv_loops=10000,
            extra=[
                "-inf", str(self._csv()), "-r", str(self.rate), "-rp", "1000",
                "-d", str(self.hold_ms), "-l", "5000",
                "-recv_timeout", str(self.recv_timeout_ms),
                "-trace_stat", "-stf", str(self._stats), "-fd", "1",
                "-trace_err", "-error_file", str(self.workdir / "caller_errors.log"),
            ],
        )  # fmt: skip
        self._uac = caller.spawn(cwd=self.workdir, output=self.workdir / "caller.out")
        self.started_at = time.time()
        return self

    def _output(self, name: str) -> str:
        path = self.workdir / name
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def finish(self, timeout: float | None = None) -> LoadResult:
        """Wait for the caller to place and end every call, then stop the handset."""
        assert self._uac is not None and self._uas is not None
        if timeout is None:
            timeout = self.count / self.rate + self.hold_ms / 1000 + self.recv_timeout_ms / 1000
            timeout += 30
        if not self._uac.wait(timeout):
            self._uac.stop()
        time.sleep(0.5)  # the last BYEs reach the handset
        handset = self._uas.finish(0)
        stats = read_stats(self._stats)
        successful = int(stats.get("SuccessfulCall(C)", 0) or 0)
        attempted = int(stats.get("OutgoingCall(C)", 0) or 0)
        errors = self.workdir / "caller_errors.log"
        log = errors.read_text(errors="replace")[-3000:] if errors.exists() else ""
        return LoadResult(
            self.count, attempted, successful, self.count - successful, handset,
            self._output("caller.out") + log, frozenset(d for d, _ in self.calls),
        )  # fmt: skip

    def stop(self) -> None:
        for proc in (self._uac, self._uas):
            if proc is not None:
                proc.stop()


def channels(asterisk) -> int:  # type: ignore[no-untyped-def]
    """Channels Asterisk has now."""
    out = asterisk.cli("core show channels count")
    m = re.search(r"(\d+) active channels?", out)
    return int(m.group(1)) if m else -1


def in_stasis(asterisk) -> int:  # type: ignore[no-untyped-def]
    """Channels sitting in a Stasis application now (ARI's channel list)."""
    found = asterisk.ari("GET", "/channels")
    return sum(1 for ch in found if ch.get("dialplan", {}).get("app_name") == "Stasis")


def bridges(asterisk) -> int:  # type: ignore[no-untyped-def]
    found = asterisk.ari("GET", "/bridges")
    return len(found)


async def drained(asterisk, timeout: float = 20.0) -> int:  # type: ignore[no-untyped-def]
    """Wait (bounded) until Asterisk has no channel; the count left."""
    import asyncio

    deadline = time.monotonic() + timeout
    left = channels(asterisk)
    while left != 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        left = channels(asterisk)
    return left


async def provisioned(asterisk, numbers: list[str], timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until every number is in AstDB ``vipcall-ring`` (what the fail-open reads)."""
    from harness.app import eventually

    def all_there() -> bool:
        out = asterisk.cli("database show vipcall-ring")
        return all(n in out for n in numbers)

    await eventually(all_there, timeout=timeout, interval=0.3)
