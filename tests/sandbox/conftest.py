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
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import sandbox as requirement
from harness.party import Sipp as Party
from harness.party import SippProcess
from harness.party import SippResult as PartyResult
from vipcall.sandbox import Instance, ensure_chroot

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


@dataclass
class SippResult:
    returncode: int
    messages: str
    output: str


class Sipp:
    """Runs SIPp roles (harness/party.py, scenarios in harness/sipp/); every role gets a
    fresh process and its own ports."""

    # what the shared scenarios need beyond the called number
    DEFAULT_KEYS = {"from": "+358501112233", "hold": "500"}

    def __init__(self, instance: Instance, workdir: Path) -> None:
        self.instance = instance
        self.workdir = workdir

    def _party(
        self, scenario: str, ip: str, port: int, extra: list[str], keys: dict[str, str]
    ) -> Party:
        return Party(
            scenario=scenario, ip=ip, port=port, workdir=self.workdir,
            keys={**self.DEFAULT_KEYS, "contact_port": str(port), **keys},
            media_port=free_udp_port(ip), timeout=20, extra=extra,
        )  # fmt: skip

    def start_uas(self, scenario: str, ip: str, port: int) -> tuple[SippProcess, str]:
        proc = self._party(scenario, ip, port, [], {}).spawn(
            output=self.workdir / f"uas-{port}-{time.monotonic_ns()}.out"
        )
        if proc.poll():
            res = proc.finish(0)
            raise RuntimeError(f"SIPp UAS {scenario} exited early ({proc.rc}): {res.log}")
        return proc, scenario

    def finish(self, proc: SippProcess, tag: str, timeout: float = 30) -> SippResult:
        return self._result(proc.finish(timeout))

    def run(
        self,
        scenario: str,
        ip: str,
        service: str,
        extra: list[str] | None = None,
        keys: dict[str, str] | None = None,
    ) -> SippResult:
        party = self._party(scenario, ip, free_udp_port(ip), extra or [], keys or {})
        party.service = service
        party.remote = f"127.0.0.1:{self.instance.sip_port}"
        proc = party.spawn(output=self.workdir / f"uac-{time.monotonic_ns()}.out")
        return self._result(proc.finish(40))

    @staticmethod
    def _result(res: PartyResult) -> SippResult:
        return SippResult(res.returncode, res.raw, res.log[-4000:])


@pytest.fixture(scope="session")
def ports() -> Ports:
    return Ports()


@pytest.fixture(scope="session")
def sandbox(ports: Ports, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """One running Asterisk for the whole session (no Stasis app connected)."""
    # skips without root, or fails under CI=true / make test
    root = requirement.require(buildable=True)
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
    reason = requirement.missing(tools=("sipp",))
    if reason is not None:
        requirement.unavailable(reason)
    return Sipp(sandbox, tmp_path)
