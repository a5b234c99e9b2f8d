"""SIPp as the real SIP parties of the end-to-end tests and the benchmark.

Each party is one SIPp process with its own loopback address and port (the trunks are
told apart by source address, see README "Telephony model"); the scenarios live in
``harness/sipp/``. :class:`Sipp` describes one party and builds its command line; it runs
either under asyncio (:meth:`Sipp.start` / :meth:`Sipp.wait`, the scenario tests) or as a
plain process reaped with ``wait4`` so its CPU use is known (:meth:`Sipp.spawn`, the
benchmark and the sandbox tests). After the run, :class:`SippResult` reads SIPp's message
trace so a test can assert what the party actually saw (the INVITE that reached a handset,
its headers, the final response a caller got).

Durations (``hold``, ``ring``, ``wait``) are SIPp global variables the scenarios declare
(``<Global variables="hold"/>``) and pause on; a party's ``keys`` that a scenario declares
that way go to SIPp as ``-set name value``, every other key as ``-key name value``. So
the same scenarios run by hand exactly as README shows them.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent / "sipp"
_media_ports = itertools.count(30000, 4)


@dataclass
class SipMessage:
    direction: str  # "received" | "sent"
    first_line: str
    headers: dict[str, list[str]]
    body: str
    at: float = 0.0
    """When SIPp logged it (seconds since the epoch)."""

    @property
    def method(self) -> str | None:
        return None if self.first_line.startswith("SIP/2.0") else self.first_line.split()[0]

    @property
    def status(self) -> int | None:
        if self.first_line.startswith("SIP/2.0"):
            return int(self.first_line.split()[1])
        return None

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def request_user(self) -> str:
        """User part of the Request-URI (``INVITE sip:+358...@host``)."""
        m = re.match(r"\S+ sips?:([^@;> ]+)@", self.first_line)
        return m.group(1) if m else ""


_COMPACT = {
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "v": "via",
    "l": "content-length",
}


def uri_user(value: str | None) -> str | None:
    """``"Name" <sip:+358401234567@host>;tag=x`` -> ``+358401234567``."""
    if value is None:
        return None
    m = re.search(r"sips?:([^@;>]+)@", value)
    return m.group(1) if m else None


def parse_trace(text: str) -> list[SipMessage]:
    messages = []
    parts = re.split(r"^-{10,} (\S+ \S+)\s*$", text, flags=re.M)
    stamps = [0.0] + [_stamp(p) for p in parts[1::2]]
    for block, at in zip(parts[0::2], stamps, strict=True):
        m = re.search(r"^(UDP|TCP) message (received|sent).*?:\s*\n\n?", block, flags=re.M)
        if not m:
            continue
        raw = block[m.end() :].replace("\r\n", "\n").strip("\n")
        head, _, body = raw.partition("\n\n")
        lines = head.split("\n")
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                key = name.strip().lower()
                headers.setdefault(_COMPACT.get(key, key), []).append(value.strip())
        messages.append(SipMessage(m.group(2), lines[0].strip(), headers, body, at))
    return messages


def _stamp(text: str) -> float:
    from datetime import datetime

    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").timestamp()
    except ValueError:
        return 0.0


@dataclass
class SippResult:
    returncode: int
    messages: list[SipMessage]
    log: str
    raw: str = ""
    """The message trace as SIPp wrote it."""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def received(self, what: str | int) -> list[SipMessage]:
        """Messages received: requests by method (``"INVITE"``) or responses by status."""
        return [
            m
            for m in self.messages
            if m.direction == "received" and (m.method == what or m.status == what)
        ]

    def seconds_between(self, first: str | int, then: str | int) -> float:
        """Seconds from the first received ``first`` to the first received ``then``."""
        return self.received(then)[0].at - self.received(first)[0].at

    def final_status(self) -> int | None:
        codes = [m.status for m in self.messages if m.direction == "received" and m.status]
        finals = [c for c in codes if c >= 200]
        return finals[-1] if finals else None


def port_busy(ip: str, port: int) -> bool:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.bind((ip, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return True
        raise
    finally:
        probe.close()
    return False


def scenario_variables(text: str) -> set[str]:
    """The global variables a scenario declares (``<Global variables="a,b"/>``)."""
    found: set[str] = set()
    for names in re.findall(r'<Global\s+variables="([^"]*)"', text):
        found.update(n.strip() for n in names.split(",") if n.strip())
    return found


@dataclass
class Sipp:
    """One SIPp party. ``remote`` is Asterisk's ``ip:port`` for parties that call.

    ``calls=None`` runs until stopped (a UAS for many calls); ``trace=False`` leaves out
    the message/error trace files (the benchmark keeps its own statistics instead);
    ``extra`` are further SIPp options (rates, statistics files, ...)."""

    scenario: str
    ip: str
    port: int
    workdir: Path
    remote: str | None = None
    service: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    calls: int | None = 1
    timeout: float = 40.0
    timeout_error: bool = True
    media_port: int | None = None
    trace: bool = True
    max_recv_loops: int = 1000
    extra: list[str] = field(default_factory=list)
    _proc: asyncio.subprocess.Process | None = None
    _trace: Path | None = None
    _log: Path | None = None

    @property
    def path(self) -> Path:
        return SCENARIOS / self.scenario

    def argv(self) -> list[str]:
        name = f"{Path(self.scenario).stem}-{self.ip}-{self.port}-{time.monotonic_ns()}"
        media = self.media_port if self.media_port is not None else next(_media_ports)
        argv = [
            "sipp", "-sf", str(self._render(name)),
            "-i", self.ip, "-p", str(self.port), "-mi", self.ip, "-mp", str(media),
            "-timeout", f"{int(self.timeout)}s", "-nostdin",
            "-max_recv_loops", str(self.max_recv_loops),
        ]  # fmt: skip
        if self.calls is not None:
            argv += ["-m", str(self.calls)]
        if self.timeout_error:
            argv.append("-timeout_error")
        if self.trace:
            self._trace = self.workdir / f"{name}.msg"
            self._log = self.workdir / f"{name}.log"
            argv += ["-trace_msg", "-message_file", str(self._trace)]
            argv += ["-trace_err", "-error_file", str(self._log)]
        if self.service is not None:
            argv += ["-s", self.service]
        if self.auth is not None:
            argv += ["-au", self.auth[0], "-ap", self.auth[1]]
        variables = scenario_variables(self.path.read_text())
        for key, value in self.keys.items():
            argv += ["-set" if key in variables else "-key", key, str(value)]
        argv += self.extra
        if self.remote is not None:
            argv.append(self.remote)
        return argv

    def _render(self, name: str) -> Path:
        """SIPp takes ``[key]`` values in messages and ``-set`` variables in pauses, but
        not in file names (``play_pcap_audio``); those are written ``@@key@@`` and filled
        in here."""
        text = self.path.read_text()
        if "@@" not in text:
            return self.path
        for key, value in {"sipp_dir": str(SCENARIOS), **self.keys}.items():
            text = text.replace(f"@@{key}@@", str(value))
        if "@@" in text:
            missing = re.findall(r"@@(\w+)@@", text)
            raise ValueError(f"{self.scenario}: no value for {missing}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / f"{name}.xml"
        path.write_text(text)
        return path

    # -- under asyncio (the scenario tests) -----------------------------------------------

    async def start(self) -> Sipp:
        if port_busy(self.ip, self.port):
            raise RuntimeError(f"{self.ip}:{self.port} is taken by another process")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await self._wait_bound()
        return self

    async def _wait_bound(self, timeout: float = 5.0) -> None:
        """Return once SIPp holds its UDP port, so nothing is sent to it too early."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.returncode is not None:
                return
            if port_busy(self.ip, self.port):
                return
            await asyncio.sleep(0.02)
        raise TimeoutError(f"SIPp did not bind {self.ip}:{self.port}")

    async def wait(self, timeout: float | None = None) -> SippResult:
        assert self._proc is not None, "start() first"
        try:
            _, stderr = await asyncio.wait_for(
                self._proc.communicate(), timeout or self.timeout + 10
            )
        except TimeoutError:
            self.kill()
            _, stderr = await self._proc.communicate()
        rc = self._proc.returncode if self._proc.returncode is not None else -1
        return self.result(rc, stderr.decode(errors="replace"))

    def result(self, returncode: int, output: str = "") -> SippResult:
        """What the party saw, from its trace files."""
        text = (
            self._trace.read_text(errors="replace") if self._trace and self._trace.exists() else ""
        )
        errors = self._log.read_text(errors="replace") if self._log and self._log.exists() else ""
        return SippResult(returncode, parse_trace(text), output + errors, text)

    def kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()

    async def run(self) -> SippResult:
        await self.start()
        return await self.wait()

    # -- as a plain process (the benchmark, the sandbox tests) --------------------------

    def spawn(self, cwd: Path | None = None, output: Path | None = None) -> SippProcess:
        """Start SIPp in its own session; ``output`` receives its stdout and stderr. The
        call returns once SIPp holds its port (or has exited)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if port_busy(self.ip, self.port):
            raise RuntimeError(f"{self.ip}:{self.port} is taken by another process")
        proc = SippProcess(self, self.argv(), cwd or self.workdir, output)
        proc.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not proc.poll():
            if port_busy(self.ip, self.port):
                break
            time.sleep(0.02)
        return proc


@dataclass
class SippProcess:
    """One running SIPp, reaped with ``wait4`` so its own CPU use is known."""

    party: Sipp
    argv: list[str]
    cwd: Path
    output: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    rc: int | None = None
    cpu_s: float = 0.0
    killed: bool = False

    def start(self) -> SippProcess:
        out = open(self.output, "wb") if self.output is not None else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(
                self.argv, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        finally:
            if not isinstance(out, int):
                out.close()
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

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
        """Wait up to ``timeout`` seconds; True if it has exited."""
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

    def finish(self, timeout: float) -> SippResult:
        """Wait for the end (stopped after ``timeout`` s) and read what the party saw."""
        if not self.wait(timeout):
            self.stop()
        output = ""
        if self.output is not None and self.output.exists():
            output = self.output.read_text(errors="replace")
        return self.party.result(self.rc if self.rc is not None else -1, output)


def media_seconds(media: list[str]) -> float:
    """How long a list of ``sound:vipcall/<lang>/<id>`` prompts plays (from the wav files)."""
    import wave

    sounds = Path(__file__).resolve().parents[1] / "sounds"
    total = 0.0
    for uri in media:
        rel = uri.split(":", 1)[1].split("/", 1)[1]
        with wave.open(str(sounds / f"{rel}.wav")) as w:
            total += w.getnframes() / w.getframerate()
    return total
