"""A second sandboxed Asterisk whose PSTN carrier is NOT trusted (``pstn_trusted=False``),
with its own ports, loopback addresses (127.0.2.x) and app process, beside the session's
trusted one. It shares the session's database, so the same users call through either."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import sandbox
from harness.app import AppProcess
from harness.party import Sipp
from vipcall.sandbox import Instance

SIP_PORT = 16060
ARI_PORT = 19088
ASTERISK = f"127.0.0.1:{SIP_PORT}"
PSTN = "127.0.2.2"
MOBILE_CORE = "127.0.2.3"


@pytest.fixture(scope="module")
def untrusted_asterisk() -> Iterator[Instance]:
    sandbox.require(tools=("sipp",))
    instance = Instance(
        name="e2e-untrusted",
        sip_port=SIP_PORT,
        ari_port=ARI_PORT,
        rtp_start=25000,
        rtp_end=25999,
        pstn_host=PSTN,
        mobile_host=MOBILE_CORE,
        ring_timeout=4,
        pstn_trusted=False,
    )
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def untrusted_vipcall(
    untrusted_asterisk: Instance, database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppProcess]:
    log = tmp_path_factory.mktemp("untrusted-app") / "vipcall.log"
    process = AppProcess(untrusted_asterisk, database, log, http_port=19110)
    process.start()
    yield process
    process.stop()


class UntrustedParties:
    """The handset side and the PSTN far end of the untrusted instance."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Sipp] = []

    def _sipp(self, **kw: object) -> Sipp:
        sipp = Sipp(workdir=self.workdir, **kw)  # type: ignore[arg-type]
        self.started.append(sipp)
        return sipp

    def handset_caller(self, mobile: str, dialled: str) -> Sipp:
        return self._sipp(
            scenario="uac_call.xml", ip=MOBILE_CORE, port=5071, remote=ASTERISK,
            service=dialled, keys={"from": mobile, "hold": "1000"},
        )  # fmt: skip

    def pstn_far_end(self) -> Sipp:
        return self._sipp(scenario="uas_answer.xml", ip=PSTN, port=5060, keys={"ring": "300"})

    def kill_all(self) -> None:
        for sipp in self.started:
            sipp.kill()


@pytest.fixture
def untrusted_parties(tmp_path: Path) -> Iterator[UntrustedParties]:
    p = UntrustedParties(tmp_path)
    yield p
    p.kill_all()
