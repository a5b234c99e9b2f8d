"""In-dialog requests through Kamailio go only the way a dialog may run: from outside (the
public address) to a node, from a node (a side socket) to outside. The proxy keeps no
dialogs: a request with a To-tag is routed by its Route set and Request-URI, which the
sender writes. A forged one (a Route through the proxy to elsewhere, straight at the PSTN
trunk, the shape of a genuine double Record-Route, a softphone alias, a node's request to
the other node) would turn the proxy into an open relay around the nodes, which decide
every call: it is refused (403), its ACK goes nowhere either, and the proxy logs it. Calls
whose parties follow the Record-Route, as real phones and trunks do (the other tests' SIPp
parties send in-dialog requests to the Contact), still reach the far end both ways:
re-INVITE and BYE from the caller, ACK and BYE from the node, BYE from the answerer, and a
softphone behind NAT by the alias the proxy gave its Contact.

Run under one lock: ``flock /tmp/vipcall-asterisk.lock .venv/bin/pytest
tests/scenarios/two_nodes/test_in_dialog_route.py``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.party import SCENARIOS, SipMessage
from tests.scenarios.two_nodes.conftest import (
    LAYOUT,
    PROXY,
    PSTN,
    PUBLIC,
    SOFTPHONES,
    Cluster,
    Parties,
)
from tests.support.people import fresh_external

#: Somewhere outside that is neither a trunk nor a node: anybody's address.
ELSEWHERE = "127.0.10.9"
NODE_A, NODE_B = (node.sip_host for node in LAYOUT.nodes)
PSTN_SIDE = f"{LAYOUT.pstn_side_ip}:{LAYOUT.side_port}"
SOFTPHONE_SIDE = f"{LAYOUT.softphone_side_ip}:{LAYOUT.side_port}"
DIALLED = "+358501110099"
SENDER_PORT = 5090
#: A softphone's own address behind NAT, which its Contact names (the proxy adds the alias).
NAT_INSIDE = "192.168.77.7"


@contextmanager
def udp_sink(ip: str, port: int) -> Iterator[list[str]]:
    """A UDP socket at ``ip:port`` for the block; on leaving it, the list holds the first
    line of every datagram that arrived there."""
    heard: list[str] = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, port))
    sock.setblocking(False)
    try:
        yield heard
    finally:
        while True:
            try:
                data = sock.recv(65535)
            except BlockingIOError:
                break
            heard.append(data.decode(errors="replace").split("\r\n", 1)[0])
        sock.close()


# sender's address, where it sends, Request-URI, Route set, where it would leave for
CASES = [
    pytest.param(
        PSTN, PUBLIC, f"sip:{DIALLED}@{ELSEWHERE}:5060",
        f"<sip:{PUBLIC};lr>, <sip:{ELSEWHERE}:5060;lr>", (ELSEWHERE, 5060),
        id="trunk-peer-through-the-proxy-to-elsewhere",
    ),
    pytest.param(
        SOFTPHONES, PUBLIC, f"sip:{DIALLED}@{PSTN}:5060",
        f"<sip:{PSTN}:5060;lr>", (PSTN, 5060),
        id="softphone-straight-to-the-pstn-trunk",
    ),
    pytest.param(
        SOFTPHONES, PUBLIC, f"sip:{DIALLED}@{PSTN}:5060",
        f"<sip:{PUBLIC};r2=on;lr>, <sip:{PSTN_SIDE};r2=on;lr>", (PSTN, 5060),
        id="softphone-as-if-record-routed-to-the-pstn-trunk",
    ),
    # the Contact of a softphone behind NAT, with the alias where the proxy reaches it
    pytest.param(
        SOFTPHONES, PUBLIC, f"sip:{DIALLED}@{NAT_INSIDE}:5060;alias={ELSEWHERE}~5060~1",
        f"<sip:{PUBLIC};r2=on;lr>, <sip:{SOFTPHONE_SIDE};r2=on;lr>", (ELSEWHERE, 5060),
        id="softphone-alias-to-elsewhere",
    ),
    pytest.param(
        PSTN, PSTN_SIDE, f"sip:{DIALLED}@{ELSEWHERE}:5060",
        f"<sip:{PSTN_SIDE};r2=on;lr>, <sip:{PUBLIC};r2=on;lr>", (ELSEWHERE, 5060),
        id="trunk-peer-at-a-side-socket",
    ),
    # the proxy knows the nodes by address (any port): a node's request to the other node
    pytest.param(
        NODE_A, PSTN_SIDE, f"sip:{DIALLED}@{NODE_B}:5099",
        f"<sip:{PSTN_SIDE};r2=on;lr>, <sip:{PUBLIC};r2=on;lr>", (NODE_B, 5099),
        id="node-to-the-other-node",
    ),
]  # fmt: skip


def refusals(cluster: Cluster) -> list[str]:
    return [
        line
        for line in cluster.kamailio.log_tail(100_000).splitlines()
        if "in-dialog" in line and "refused" in line
    ]


@pytest.mark.parametrize(("sender", "proxy", "target", "route", "sink"), CASES)
async def test_a_forged_route_leads_nowhere(
    cluster: Cluster,
    parties: Parties,
    sender: str,
    proxy: str,
    target: str,
    route: str,
    sink: tuple[str, int],
) -> None:
    before = len(refusals(cluster))
    with udp_sink(*sink) as heard:
        forged = parties._sipp(
            scenario="uac_forged_in_dialog.xml", ip=sender, port=SENDER_PORT, remote=proxy,
            service=DIALLED, keys={"from": fresh_external(), "target": target, "route": route},
            timeout=10,
        )  # fmt: skip
        result = await forged.run()
    assert heard == [], f"relayed to {sink[0]}:{sink[1]}: {heard}"
    assert result.ok, result.log
    assert result.final_status() == 403
    logged = refusals(cluster)[before:]
    assert [line for line in logged if f"INVITE from {sender}:{SENDER_PORT} " in line], logged
    assert [line for line in logged if f"ACK from {sender}:{SENDER_PORT} " in line], logged


def through_proxy(message: SipMessage) -> bool:
    """The message was relayed by the proxy (its Via), not sent straight by a node."""
    return PROXY in " ".join(message.headers.get("via", []))


async def test_a_caller_following_the_record_route_reinvites_and_hangs_up_through_the_proxy(
    cluster: Cluster, people, parties: Parties
) -> None:  # type: ignore[no-untyped-def]
    org = await people.org()
    maija = await people.user(org)
    before = len(refusals(cluster))
    handset = await parties.handset("uas_answer_routed.xml").start()
    caller = parties.external_caller(fresh_external(), maija.mobile, "uac_call_routed.xml")
    call = await caller.run()
    answered = await handset.wait(timeout=15)
    assert call.ok, call.log
    assert answered.ok, answered.log

    # the route set the caller followed: the proxy's double Record-Route (public, side)
    answer = call.received(200)[0]
    assert PROXY in " ".join(answer.headers.get("record-route", [])), answer.headers
    reinvite_ok = [m for m in call.received(200) if (m.header("CSeq") or "").endswith("2 INVITE")]
    assert reinvite_ok, "the node answered the re-INVITE that came through the proxy"
    # the node's ACK and BYE followed the handset's Record-Route back through the proxy
    for method in ("INVITE", "ACK", "BYE"):
        [message] = answered.received(method)
        assert through_proxy(message), (method, message.headers.get("via"))
    assert refusals(cluster)[before:] == []


async def test_an_answerer_following_the_record_route_hangs_up_through_the_proxy(
    cluster: Cluster, people, parties: Parties
) -> None:  # type: ignore[no-untyped-def]
    org = await people.org()
    maija = await people.user(org)
    before = len(refusals(cluster))
    handset = await parties.handset("uas_answer_hangup_routed.xml").start()
    call = await parties.external_caller(fresh_external(), maija.mobile, "uac_until_bye.xml").run()
    hung_up = await handset.wait(timeout=15)
    assert hung_up.ok, hung_up.log
    assert call.ok, call.log
    assert hung_up.received(200), "the node answered the handset's BYE through the proxy"
    [bye] = call.received("BYE")
    assert through_proxy(bye), bye.headers.get("via")
    assert refusals(cluster)[before:] == []


async def test_a_softphone_behind_nat_gets_the_nodes_requests_by_its_alias(
    cluster: Cluster, people, parties: Parties, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The softphone answers with its address behind NAT in its Contact; the proxy adds the
    alias (where it really is) and takes the node's ACK and BYE there by it. The handset
    that rang alongside is cancelled through the proxy."""
    org = await people.org()
    liisa = await people.user(org, softphone=True)
    assert liisa.softphone and liisa.softphone_password
    contact_port = 5061

    await cluster.register_on_both(parties, liisa.softphone, liisa.softphone_password, contact_port)
    behind_nat = tmp_path / "uas_answer_routed_behind_nat.xml"
    behind_nat.write_text(
        (SCENARIOS / "uas_answer_routed.xml")
        .read_text()
        .replace("<sip:[local_ip]:[local_port]", f"<sip:{NAT_INSIDE}:[local_port]")
    )
    before = len(refusals(cluster))
    for attempt in range(2):
        softphone = await parties.softphone(contact_port, str(behind_nat)).start()
        handset = await parties.handset("uas_ring.xml").start()
        call = await parties.external_caller(fresh_external(), liisa.mobile).run()
        answered = await softphone.wait(timeout=15)
        cancelled = await handset.wait(timeout=15)
        if answered.received("INVITE") or attempt:
            break
        # KNOWN ISSUE (stop 16, test_routing.py): a node at times does not ring a softphone
        # registered through the proxy right after its endpoint was pushed; once more, the
        # softphone registering again first
        await parties.softphone_registers(liisa.softphone, liisa.softphone_password, contact_port)
    assert call.ok, call.log
    assert answered.ok, answered.log
    for method in ("ACK", "BYE"):
        [message] = answered.received(method)
        assert through_proxy(message), (method, message.headers.get("via"))
        # to its Contact, the alias taken off by the proxy
        assert f"sip:{NAT_INSIDE}:{contact_port}" in message.first_line, message.first_line
        assert "alias=" not in message.first_line, message.first_line
    assert cancelled.ok, cancelled.log
    assert cancelled.received("CANCEL"), "the handset's ringing was cancelled through the proxy"
    assert refusals(cluster)[before:] == []
