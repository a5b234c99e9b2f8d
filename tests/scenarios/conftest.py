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
from tests.support.parties import SippParties
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


class Parties(SippParties):
    """The SIP parties of a scenario against the one Asterisk (each a fresh SIPp process)."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(
            workdir, pstn=PSTN, mobile_core=MOBILE_CORE, softphones=SOFTPHONES,
            remote=ASTERISK, ports=range(5070, 5200), caller_keys={"hold": "1000", "wait": "20000"},
        )  # fmt: skip

    async def end_unanswered_invite(self, timeout: float = 6.0) -> None:
        """After a test in which nobody listened on the handset's port: Asterisk keeps
        retransmitting that INVITE (every 4 s at most) until Timer B ends it after 32 s,
        since it may not CANCEL before a provisional answer; the next test's handset would
        take it for a call of its own ("unexpected CANCEL"). A busy answer to the next
        retransmission ends the transaction (bounded by ``timeout``)."""
        sink = await self.handset("uas_busy.xml").start()
        await sink.wait(timeout=timeout)


@pytest.fixture
def parties(tmp_path: Path) -> Iterator[Parties]:
    p = Parties(tmp_path)
    yield p
    p.kill_all()
