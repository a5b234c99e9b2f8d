"""Fixtures for the Asterisk sandbox tests.

The e2e fixture starts ONE instance per session (``pytest-sandbox``) on non-default
ports, chosen not to clash with the other e2e suites (tests/scenarios: 15060/18088 and
peers on 5060; tests/ari: 25060/28088). Override with environment variables:
``VIPCALL_TEST_SIP_PORT`` (35060), ``VIPCALL_TEST_ARI_PORT`` (38088),
``VIPCALL_TEST_RTP_START`` (33000), ``VIPCALL_TEST_PEER_PORT`` (35070: the trunk peers'
SIPp UAS port on 127.0.0.2 / 127.0.0.3; production/default is 5060).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vipcall.sandbox import Instance, default_root, ensure_chroot

SIPP_DIR = Path(__file__).parent / "sipp"
PSTN_HOST = "127.0.0.2"
MOBILE_HOST = "127.0.0.3"
SOFTPHONE_HOST = "127.0.0.4"


def _port(env: str, default: int) -> int:
    return int(os.environ.get(env, default))


@dataclass(frozen=True)
class Ports:
    sip: int = _port("VIPCALL_TEST_SIP_PORT", 35060)
    ari: int = _port("VIPCALL_TEST_ARI_PORT", 38088)
    rtp_start: int = _port("VIPCALL_TEST_RTP_START", 33000)
    peer: int = _port("VIPCALL_TEST_PEER_PORT", 35070)


def free_udp_port(ip: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])


def udp_port_taken(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((ip, port))
        except OSError:
            return True
    return False


@dataclass
class SippResult:
    returncode: int
    messages: str
    output: str


class Sipp:
    """Runs SIPp roles; every role gets fresh processes and its own ports."""

    def __init__(self, instance: Instance, workdir: Path) -> None:
        self.instance = instance
        self.workdir = workdir
        self._n = 0

    def _argv(self, scenario: str, ip: str, port: int, tag: str, extra: list[str]) -> list[str]:
        return [
            "sipp",
            "-sf",
            str(SIPP_DIR / scenario),
            "-i",
            ip,
            "-p",
            str(port),
            "-mp",
            str(free_udp_port(ip)),
            "-m",
            "1",
            "-timeout",
            "20s",
            "-timeout_error",
            "-nostdin",
            "-trace_msg",
            "-message_file",
            str(self.workdir / f"{tag}.msg"),
            "-trace_err",
            "-error_file",
            str(self.workdir / f"{tag}.err"),
            *extra,
        ]

    def _tag(self, scenario: str) -> str:
        self._n += 1
        return f"{self._n:02d}-{scenario.removesuffix('.xml')}"

    def start_uas(self, scenario: str, ip: str, port: int) -> tuple[subprocess.Popen[str], str]:
        tag = self._tag(scenario)
        proc = subprocess.Popen(
            self._argv(scenario, ip, port, tag, []),
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 5
        while not udp_port_taken(ip, port) and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(f"SIPp UAS {scenario} exited early ({proc.returncode}): {out}")
        return proc, tag

    def finish(self, proc: subprocess.Popen[str], tag: str, timeout: float = 30) -> SippResult:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        return self._result(proc.returncode, tag, out or "")

    def run(
        self, scenario: str, ip: str, service: str, extra: list[str] | None = None
    ) -> SippResult:
        tag = self._tag(scenario)
        argv = self._argv(scenario, ip, free_udp_port(ip), tag, ["-s", service, *(extra or [])])
        argv.append(f"127.0.0.1:{self.instance.sip_port}")
        res = subprocess.run(argv, cwd=self.workdir, capture_output=True, text=True, timeout=40)
        return self._result(res.returncode, tag, res.stdout + res.stderr)

    def _result(self, rc: int, tag: str, output: str) -> SippResult:
        msg = self.workdir / f"{tag}.msg"
        err = self.workdir / f"{tag}.err"
        messages = msg.read_text(errors="replace") if msg.exists() else ""
        errors = err.read_text(errors="replace") if err.exists() else ""
        return SippResult(rc, messages, output[-2000:] + errors[-2000:])


@pytest.fixture(scope="session")
def ports() -> Ports:
    return Ports()


@pytest.fixture(scope="session")
def sandbox(ports: Ports, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """One running Asterisk for the whole session (no Stasis app connected)."""
    if os.geteuid() != 0:
        pytest.skip("the Asterisk sandbox needs root (chroot, mount)")
    root = default_root()
    ensure_chroot(root)  # builds it on a fresh machine (~1-2 min), else a no-op
    inst = Instance(
        name="pytest-sandbox",
        root=root,
        sip_port=ports.sip,
        ari_port=ports.ari,
        rtp_start=ports.rtp_start,
        rtp_end=ports.rtp_start + 999,
        peer_port=ports.peer,
    )
    if inst.is_running():  # a leftover of an interrupted run: ours by name
        inst.stop()
    inst.start(timeout=60)
    try:
        inst.write_password(tmp_path_factory.mktemp("state"))
        yield inst
    finally:
        inst.stop()


@pytest.fixture
def sipp(sandbox: Instance, tmp_path: Path) -> Sipp:
    if shutil.which("sipp") is None:
        pytest.skip("sipp (Debian sip-tester) is not installed")
    return Sipp(sandbox, tmp_path)
