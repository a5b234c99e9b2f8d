"""Two real Asterisk nodes behind a real Kamailio, each with its own vipcall app, one
PostgreSQL database (vipcall.cluster builds the layout; README "Two nodes behind Kamailio").

Own addresses 127.0.10.x (and ports), apart from `make run` (127.0.0.x) and the other
scenarios (127.0.1.x, 127.0.2.x), so they never receive each other's calls:

    127.0.10.1:5060   Kamailio, the service's public address: every party sends here
    127.0.10.2        the PSTN (callers from here; calls out arrive at :5060)
    127.0.10.3        the mobile core (handsets call from here; deliveries at :5060)
    127.0.10.12/13/14 Kamailio's pstn / mobile / softphone side sockets (what the nodes see)
    127.0.10.21/22    node A / node B (Asterisk SIP :5060; ARI 28188/28189; app 29208/29209)

The whole stack is per test module: run each module under one
``flock /tmp/vipcall-asterisk.lock``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import sandbox
from harness.app import AppProcess, eventually
from harness.db import drop_database, fresh_database
from tests.support.parties import SippParties
from tests.support.sync import run_sync
from vipcall.cluster import Kamailio, Layout, Node
from vipcall.config import Settings
from vipcall.sandbox import Instance

PROXY = "127.0.10.1"
PSTN = "127.0.10.2"
MOBILE_CORE = "127.0.10.3"
SOFTPHONES = "127.0.10.4"
PUBLIC = f"{PROXY}:5060"

LAYOUT = Layout(
    public_ip=PROXY,
    pstn_ip=PSTN,
    mobile_ip=MOBILE_CORE,
    pstn_side_ip="127.0.10.12",
    mobile_side_ip="127.0.10.13",
    softphone_side_ip="127.0.10.14",
    nodes=(
        Node("2n-a", "127.0.10.21", 28188, 29208, rtp_start=26000, rtp_end=26999),
        Node("2n-b", "127.0.10.22", 28189, 29209, rtp_start=27000, rtp_end=27999),
    ),
)

pytestmark = pytest.mark.e2e


@dataclass
class Cluster:
    kamailio: Kamailio
    nodes: list[Instance]
    apps: list[AppProcess]
    database: str

    def handled(self) -> list[float]:
        """Calls each node has routed so far (its app's outcomes and direct routes), node A
        first."""
        return [app.handled() for app in self.apps]

    async def reports_taken(self) -> None:
        """Until each app has taken every end-of-call report written so far (:meth:`handled`
        counts a direct route's call from its report, which comes within about a second)."""
        for app in self.apps:
            if app.running:
                await app.reports_taken()

    def holders(self, endpoint: str) -> list[int]:
        """The nodes that hold a registered contact of ``endpoint``."""
        return [
            i
            for i, n in enumerate(self.nodes)
            if f"{endpoint}/sip:" in n.cli("pjsip show contacts")
        ]

    async def register_on_both(
        self, parties: Parties, endpoint: str, password: str, contact_port: int
    ) -> None:
        """Register the softphone through the proxy until both nodes hold it (once both
        apps have pushed its endpoint)."""

        async def on_both() -> bool:
            await parties.softphone_registers(endpoint, password, contact_port)
            return self.holders(endpoint) == [0, 1]

        await eventually(on_both, timeout=15, interval=0.5)

    def node_states(self) -> list[str]:
        """Each node's dispatcher flags in Kamailio (``AP`` up, ``IP``/``TP`` out)."""
        states = self.kamailio.node_states()
        return [states.get(node.uri, "?") for node in LAYOUT.nodes]

    def live_calls(self, index: int) -> int:
        """Calls up on a node now, as its Asterisk counts them."""
        out = self.nodes[index].cli("core show channels count")
        m = re.search(r"(\d+) active calls?", out)
        return int(m.group(1)) if m else -1


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    url = run_sync(fresh_database("vipcall_e2e_two_nodes"))
    yield url
    run_sync(drop_database(url))


@pytest.fixture(scope="module")
def cluster(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    sandbox.require(tools=("sipp", "kamailio"))
    workdir = tmp_path_factory.mktemp("two-nodes")
    settings = Settings(ring_timeout=4)
    nodes: list[Instance] = []
    apps: list[AppProcess] = []
    kamailio = Kamailio(LAYOUT, workdir / "kamailio", database)
    try:
        for node in LAYOUT.nodes:
            instance = LAYOUT.instance(node, settings)
            instance.start()
            nodes.append(instance)
        kamailio.start()
        for node, instance in zip(LAYOUT.nodes, nodes, strict=True):
            env = LAYOUT.app_env(node, instance, workdir / "state")
            app = AppProcess(
                instance, database, workdir / f"{node.name}.log",
                http_port=node.http_port, extra_env=env,
            )  # fmt: skip
            app.start()
            apps.append(app)
        cluster = Cluster(kamailio, nodes, apps, database)
        # the proxy takes a node in once its app answers the probe (connected to Asterisk)
        deadline = time.monotonic() + 15
        while cluster.node_states() != ["AP", "AP"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nodes not in the proxy's set: {cluster.node_states()}")
            time.sleep(0.1)
        yield cluster
    finally:
        for app in apps:
            app.stop()
        kamailio.stop()
        for instance in nodes:
            instance.stop()


class Parties(SippParties):
    """SIP parties of the two-node layout; every caller sends to the proxy."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(
            workdir, pstn=PSTN, mobile_core=MOBILE_CORE, softphones=SOFTPHONES,
            remote=PUBLIC, ports=range(5070, 5400), caller_keys={"hold": "1000"},
        )  # fmt: skip


@pytest.fixture
def parties(tmp_path: Path) -> Iterator[Parties]:
    p = Parties(tmp_path)
    yield p
    p.kill_all()
