"""The real stack an end-to-end test runs against: sandboxed Asterisk, a throwaway
PostgreSQL database and the vipcall app as its own process (so it can be killed -9)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from vipcall.sandbox import Instance

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class AppProcess:
    """``vipcall serve`` as a subprocess, configured for one Asterisk and one database."""

    asterisk: Instance
    database_url: str
    log_path: Path
    http_port: int = 19108
    ring_timeout: int = 4
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.asterisk.app_env())
        env.update(
            VIPCALL_DATABASE_URL=self.database_url,
            VIPCALL_HTTP_PORT=str(self.http_port),
            VIPCALL_RING_TIMEOUT=str(self.ring_timeout),
            VIPCALL_SYNC_INTERVAL="0.5",
            VIPCALL_MAX_MESSAGE_SECONDS="20",
            VIPCALL_MENU_TIMEOUT="2",
            VIPCALL_LOG_LEVEL="DEBUG",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 20.0) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vipcall", "serve"],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            self.wait_healthy(timeout)
        except BaseException:
            self.kill9()
            raise

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"vipcall exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("/health"), timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"vipcall not healthy in {timeout}s:\n{self.log_tail()}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def metrics(self) -> str:
        with urllib.request.urlopen(self.url("/metrics"), timeout=2) as resp:
            return resp.read().decode()

    def outcomes(self) -> dict[str, float]:
        """``vipcall_calls_total`` by outcome, as the app counts them now."""
        found: dict[str, float] = {}
        for line in self.metrics().splitlines():
            m = re.match(r'vipcall_calls_total\{outcome="([^"]+)"\} (\S+)', line)
            if m:
                found[m.group(1)] = float(m.group(2))
        return found

    def direct_calls(self) -> float:
        """``vipcall_direct_calls_total``: calls Asterisk rang from a direct route
        (vipcall.service.direct) without asking the app, counted from their end reports."""
        found = re.search(r"^vipcall_direct_calls_total (\S+)$", self.metrics(), re.M)
        return float(found.group(1)) if found else 0.0

    def reports_pending(self) -> bool:
        """Whether end-of-call reports wait in the spool folder (the app takes them within
        about a second: vipcall.service.reports.ReportSpool)."""
        folder = self.env().get("VIPCALL_END_SPOOL", "")
        return bool(folder) and any(Path(folder).iterdir())

    async def reports_taken(self, timeout: float = 5.0) -> None:
        """Until every end-of-call report written so far is taken (counters such as
        :meth:`direct_calls` include them)."""
        await eventually(lambda: not self.reports_pending(), timeout=timeout, interval=0.1)

    def handled(self) -> float:
        """Calls this app has routed: every outcome of its own, and the direct routes'."""
        return sum(self.outcomes().values()) + self.direct_calls()

    async def count_outcome(self, outcome: str, calls):  # type: ignore[no-untyped-def]
        """How many calls, started by awaiting ``calls``, ended with ``outcome``; returns
        (that count, what ``calls`` returned)."""
        before = self.outcomes().get(outcome, 0.0)
        result = await calls
        # The call task records its outcome as it ends, about when the caller sees the BYE.
        deadline = time.monotonic() + 5
        while self.outcomes().get(outcome, 0.0) == before and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.outcomes().get(outcome, 0.0) - before, result

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


async def eventually(check, timeout: float = 10.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met in {timeout}s (last: {last!r})")
