"""Node A's app SIGKILLed while its Asterisk keeps answering SIP: Kamailio's probe goes to
the app (vipcall.service.probe), so node A is taken out within the probe interval and the
proxy's fr_timer, and every new call is routed by node B's app instead of failing open on
node A (ring the handset, nothing more). With both apps away the calls still ring the
handset, through a node whose Asterisk answers (the fail-open set). Once the apps are back
and connected, their nodes are back in.

Run under one lock: ``flock /tmp/vipcall-asterisk.lock .venv/bin/pytest -s
tests/scenarios/two_nodes/test_app_away.py``.
"""

from __future__ import annotations

import time

from harness.app import eventually
from tests.scenarios.two_nodes.conftest import LAYOUT, Cluster, Parties
from tests.support.people import fresh_external
from vipcall.cluster import FAIL_OPEN_SET

CALLS = 6


async def test_a_node_whose_app_is_gone_gets_no_new_calls(
    cluster: Cluster, people, parties: Parties
) -> None:  # type: ignore[no-untyped-def]
    org = await people.org()
    maija = await people.user(org)
    await eventually(lambda: cluster.node_states() == ["AP", "AP"], timeout=10, interval=0.1)
    # both apps have written her handset into their Asterisk (what a node fails open with)
    await eventually(
        lambda: all(maija.mobile in n.cli(f"database get vipcall-ring {maija.mobile}")
                    for n in cluster.nodes),
        timeout=10, interval=0.1,
    )  # fmt: skip

    cluster.apps[0].kill9()
    killed = time.monotonic()
    await eventually(lambda: cluster.node_states()[0] != "AP", timeout=5, interval=0.05)
    out_after = time.monotonic() - killed
    print(f"node A out {out_after:.2f} s after its app was killed")
    assert out_after <= LAYOUT.ping_interval + LAYOUT.fr_timer_ms / 1000 + 1.0
    assert cluster.node_states()[1] == "AP", "node B stays in"

    await cluster.reports_taken()
    before = cluster.apps[1].handled()
    # one handset for every call: a stray retransmission at its port ends no call of ours
    handset = await parties.handset(calls=None, timeout=60).start()
    for _ in range(CALLS):
        call = await parties.external_caller(fresh_external(), maija.mobile).run()
        assert call.ok, call.log
    handset.kill()
    assert len((await handset.wait()).received("INVITE")) == CALLS, "the handset rang each time"
    # every call was routed by node B's app (a call failed open on node A would ring the
    # handset too, but B would not count it)
    await eventually(lambda: cluster.apps[1].handled() - before == CALLS, timeout=5)

    # both apps away: no node is in the apps' set, and the proxy sends calls to a node whose
    # Asterisk answers (the fail-open set), whose dialplan rings the handset
    cluster.apps[1].kill9()
    await eventually(lambda: cluster.node_states() == ["IP", "IP"], timeout=5, interval=0.05)
    assert set(cluster.kamailio.node_states(FAIL_OPEN_SET).values()) == {"AP"}
    handset = await parties.handset(calls=None, timeout=60).start()
    for _ in range(2):
        call = await parties.external_caller(fresh_external(), maija.mobile).run()
        assert call.ok, call.log
    handset.kill()
    assert len((await handset.wait()).received("INVITE")) == 2, "failed open: the handset rang"
    assert "which fails open" in cluster.kamailio.log_tail(200)

    for app in cluster.apps:
        app.start()
    restarted = time.monotonic()
    await eventually(lambda: cluster.node_states() == ["AP", "AP"], timeout=10, interval=0.05)
    print(f"nodes back {time.monotonic() - restarted:.2f} s after their apps were healthy")
