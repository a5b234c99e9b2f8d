"""The end-to-end stack shared by the scenario folders below this one.

Session-wide: one sandboxed Asterisk (own ports), one throwaway database, one vipcall
process. Each scenario makes its own organisation and users, so scenarios never share
state; the SIPp parties are started fresh per test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from harness import sandbox
from harness.app import AppProcess
from harness.db import drop_database, fresh_database
from harness.party import Sipp
from tests.support.people import People
from tests.support.sync import run_sync
from vipcall.sandbox import Instance

SIP_PORT = 15060
ARI_PORT = 18088
ASTERISK = f"127.0.0.1:{SIP_PORT}"
# The tests' own loopback addresses, apart from the defaults (127.0.0.2/.3) that `make run`
# and the benchmark use, so a running service or benchmark never receives a test's calls.
PSTN = "127.0.1.2"  # the carrier: external callers come from here, PSTN calls go here:5060
MOBILE_CORE = "127.0.1.3"  # the mobile core: handsets call from here, deliveries go here:5060
SOFTPHONES = "127.0.1.4"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    sandbox.require(tools=("sipp",))  # skips, or fails under CI=true / make test
    instance = Instance(
        name="e2e",
        sip_port=SIP_PORT,
        ari_port=ARI_PORT,
        rtp_start=20000,
        rtp_end=24999,
        pstn_host=PSTN,
        mobile_host=MOBILE_CORE,
        ring_timeout=4,
    )
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    url = run_sync(fresh_database("vipcall_e2e"))
    yield url
    run_sync(drop_database(url))


@pytest.fixture(scope="session")
def app(
    asterisk: Instance, database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppProcess]:
    log = tmp_path_factory.mktemp("app") / "vipcall.log"
    process = AppProcess(asterisk, database, log)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def vipcall(app: AppProcess) -> AppProcess:
    """The running app; restarted first if an earlier test left it stopped."""
    if not app.running:
        app.start()
    return app


@pytest_asyncio.fixture(loop_scope="function")  # the scenarios' tests: a loop each
async def people(database: str) -> AsyncIterator[People]:
    p = People(database)
    yield p
    await p.close()


class Parties:
    """Builds the SIP parties of a scenario (each a fresh SIPp process)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._ports = iter(range(5070, 5200))
        self.started: list[Sipp] = []

    def _sipp(self, **kw: object) -> Sipp:
        sipp = Sipp(workdir=self.workdir, **kw)  # type: ignore[arg-type]
        self.started.append(sipp)
        return sipp

    def external_caller(
        self, number: str, dialled: str, scenario: str = "uac_call.xml", **keys: object
    ) -> Sipp:
        """Someone outside calling in through the PSTN trunk."""
        return self._sipp(
            scenario=scenario, ip=PSTN, port=next(self._ports), remote=ASTERISK,
            service=dialled, keys={"from": number, "hold": "1000", "wait": "20000", **keys},
        )  # fmt: skip

    def handset_caller(
        self, mobile: str, dialled: str, scenario: str = "uac_call.xml", **keys: object
    ) -> Sipp:
        """A user's own handset calling out through the mobile core."""
        return self._sipp(
            scenario=scenario, ip=MOBILE_CORE, port=next(self._ports), remote=ASTERISK,
            service=dialled, keys={"from": mobile, "hold": "1000", "wait": "20000", **keys},
        )  # fmt: skip

    def softphone_caller(self, endpoint: str, password: str, dialled: str, **keys: object) -> Sipp:
        return self._sipp(
            scenario="uac_call_auth.xml", ip=SOFTPHONES, port=next(self._ports), remote=ASTERISK,
            service=dialled, auth=(endpoint, password),
            keys={"from": endpoint, "hold": "1000", **keys},
        )  # fmt: skip

    def softphone_registration(self, endpoint: str, password: str, contact_port: int) -> Sipp:
        """Registers from the port the softphone then answers on: Asterisk rewrites the
        contact to the REGISTER's source (rewrite_contact, as for softphones behind NAT)."""
        return self._sipp(
            scenario="uac_register.xml", ip=SOFTPHONES, port=contact_port, remote=ASTERISK,
            auth=(endpoint, password), keys={"from": endpoint, "contact_port": str(contact_port)},
        )  # fmt: skip

    def softphone(
        self, contact_port: int, scenario: str = "uas_answer.xml", ring_ms: int = 300
    ) -> Sipp:
        return self._sipp(
            scenario=scenario, ip=SOFTPHONES, port=contact_port, keys={"ring": str(ring_ms)}
        )

    def handset(self, scenario: str = "uas_answer.xml", ring_ms: int = 300) -> Sipp:
        """Every handset, as the mobile core delivers calls to it (127.0.0.3:5060)."""
        return self._sipp(scenario=scenario, ip=MOBILE_CORE, port=5060, keys={"ring": str(ring_ms)})

    def pstn_far_end(self, scenario: str = "uas_answer.xml", ring_ms: int = 300) -> Sipp:
        """Whoever answers calls sent out through the PSTN trunk (127.0.0.2:5060)."""
        return self._sipp(scenario=scenario, ip=PSTN, port=5060, keys={"ring": str(ring_ms)})

    async def end_unanswered_invite(self, timeout: float = 6.0) -> None:
        """After a test in which nobody listened on the handset's port: Asterisk keeps
        retransmitting that INVITE (every 4 s at most) until Timer B ends it after 32 s,
        since it may not CANCEL before a provisional answer; the next test's handset would
        take it for a call of its own ("unexpected CANCEL"). A busy answer to the next
        retransmission ends the transaction (bounded by ``timeout``)."""
        sink = await self.handset("uas_busy.xml").start()
        await sink.wait(timeout=timeout)

    def kill_all(self) -> None:
        for sipp in self.started:
            sipp.kill()


@pytest.fixture
def parties(tmp_path: Path) -> Iterator[Parties]:
    p = Parties(tmp_path)
    yield p
    p.kill_all()
