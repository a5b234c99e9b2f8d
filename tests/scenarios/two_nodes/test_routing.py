"""Calls through Kamailio to either of two Asterisk nodes are routed the same, the trunks'
identity survives the proxy hop, and a feature code dialled through one node takes effect
on the very next call through the other (the state is in the one PostgreSQL).

Run under one lock: ``flock /tmp/vipcall-asterisk.lock .venv/bin/pytest
tests/scenarios/two_nodes/test_routing.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from harness.app import eventually
from harness.party import SipMessage, SippResult, uri_user
from tests.scenarios.two_nodes.conftest import LAYOUT, PROXY, Cluster, Parties
from tests.support.people import fresh_external, state_of

MAX_TRIES = 6
#: Calls on which a registered softphone may not ring (a known issue, see its test).
MISSES = 2
#: The parties at the shared ports (handset, PSTN far end) take any number of calls until
#: killed: a single-call one would take a stray retransmission of an earlier test's call (a
#: BYE or 200 nobody answered, resent for up to 32 s) for its one call and be gone when ours
#: came (480, cause 20). Each check then looks only at the INVITEs for its own number.
ANY_CALLS: dict[str, object] = {"calls": None, "timeout": 60}


def ours(invites: list[SipMessage], number: str) -> list[SipMessage]:
    """The INVITEs for ``number`` (a stray retransmission at a shared port is not ours)."""
    return [invite for invite in invites if invite.request_user == number]


async def on_node(
    cluster: Cluster, call: Callable[[], Awaitable[SippResult]]
) -> tuple[int, SippResult]:
    """Place one call and tell which node's app routed it (0 = A, 1 = B)."""
    await cluster.reports_taken()  # the last call is counted by now
    before = cluster.handled()
    result = await call()

    def moved() -> list[int]:
        return [i for i, (a, b) in enumerate(zip(before, cluster.handled(), strict=True)) if b > a]

    nodes = await eventually(moved, timeout=5)
    assert len(nodes) == 1, f"one call, routed by {nodes}"
    return nodes[0], result


async def until_both(
    cluster: Cluster, call: Callable[[], Awaitable[SippResult]], check: Callable[[SippResult], None]
) -> dict[int, int]:
    """Place calls (each checked) until both nodes have routed at least one; calls per node."""
    seen = {0: 0, 1: 0}
    for _ in range(MAX_TRIES):
        node, result = await on_node(cluster, call)
        check(result)
        seen[node] += 1
        if all(seen.values()):
            return seen
    raise AssertionError(f"calls did not reach both nodes in {MAX_TRIES} tries: {seen}")


async def test_external_call_rings_the_handset_on_either_node(
    cluster: Cluster, people, parties: Parties
) -> None:  # type: ignore[no-untyped-def]
    org = await people.org()
    maija = await people.user(org)
    caller = fresh_external()

    async def call() -> SippResult:
        handset = await parties.handset(**ANY_CALLS).start()
        result = await parties.external_caller(caller, maija.mobile).run()
        handset.kill()
        delivered = ours((await handset.wait()).received("INVITE"), maija.mobile)
        assert result.ok, result.log
        assert len(delivered) == 1, "the handset rang once"
        invite = delivered[0]
        assert invite.request_user == maija.mobile
        assert invite.header("X-Vipcall") == "delivered"
        assert uri_user(invite.header("From")) == caller
        # delivered through the proxy's public address, not by the node itself
        assert PROXY in (invite.header("Via") or ""), invite.headers.get("via")
        return result

    seen = await until_both(cluster, call, lambda r: None)
    assert cluster.node_states() == ["AP", "AP"], "both nodes up and probed"
    assert sum(seen.values()) <= 3, f"round robin: {seen}"


async def test_trunk_identity_survives_the_proxy_on_either_node(
    cluster: Cluster, people, parties: Parties
) -> None:  # type: ignore[no-untyped-def]
    """The same caller ID and dialled number from the two trunks: from the mobile core it is
    the user's own call (out through the PSTN with the user's number), from the PSTN it is
    a stranger calling a number no user has (announcement, cause 1)."""
    org = await people.org()
    maija = await people.user(org)
    target = fresh_external()

    async def own_call() -> SippResult:
        far_end = await parties.pstn_far_end(**ANY_CALLS).start()
        result = await parties.handset_caller(maija.mobile, target).run()
        far_end.kill()
        invites = ours((await far_end.wait()).received("INVITE"), target)
        assert result.ok, result.log
        assert len(invites) == 1
        assert uri_user(invites[0].header("From")) == maija.mobile
        return result

    async def spoofed() -> SippResult:
        far_end = await parties.pstn_far_end(**ANY_CALLS).start()
        result = await parties.external_caller(maija.mobile, target, "uac_until_bye.xml").run()
        far_end.kill()
        assert not ours((await far_end.wait()).received("INVITE"), target), "nothing went out"
        assert result.ok, result.log
        bye = result.received("BYE")[0]
        assert "cause=1" in (bye.header("Reason") or "")
        # the node's BYE followed the Record-Route back through the proxy
        assert PROXY in (bye.header("Via") or ""), bye.headers.get("via")
        return result

    await until_both(cluster, own_call, lambda r: None)
    await until_both(cluster, spoofed, lambda r: None)


async def test_feature_code_on_one_node_takes_effect_through_the_other(
    cluster: Cluster, people, parties: Parties
) -> None:  # type: ignore[no-untyped-def]
    org = await people.org()
    maija = await people.user(org, landline=True)
    caller = fresh_external()

    async def landline_call() -> tuple[int, bool, SippResult]:
        await cluster.reports_taken()  # before the handset listens (on_node waits for them)
        handset = await parties.handset(**ANY_CALLS).start()
        node, result = await on_node(cluster, parties.external_caller(caller, maija.landline).run)
        handset.kill()
        rang = bool(ours((await handset.wait()).received("INVITE"), maija.mobile))
        assert result.ok, result.log  # answered by the handset or by voicemail
        return node, rang, result

    _, rang, _ = await landline_call()
    assert rang, "available: a landline call rings the handset"

    code_node, _ = await on_node(
        cluster, parties.handset_caller(maija.mobile, "9833", "uac_until_bye.xml").run
    )
    assert (await state_of(cluster.database, maija.id))["activity"] == 3

    for _ in range(MAX_TRIES):
        node, rang, _ = await landline_call()
        assert not rang, f"at lunch (set through node {code_node}), node {node} rang the handset"
        if node != code_node:
            return
    raise AssertionError("no landline call reached the other node")


def answered(result: SippResult) -> None:
    assert result.ok, result.log


async def test_softphone_logs_in_at_the_proxy_and_rings_through_either_node(
    cluster: Cluster, people, parties: Parties
) -> None:  # type: ignore[no-untyped-def]
    """A softphone logs in at Kamailio (digest against PostgreSQL), which registers it with
    both nodes: it calls out as its user, and a call for its user rings it whichever node
    routes the call (Kamailio finds it again by the Contact alias)."""
    org = await people.org()
    liisa = await people.user(org, softphone=True)
    assert liisa.softphone and liisa.softphone_password
    contact_port = 5061

    await cluster.register_on_both(parties, liisa.softphone, liisa.softphone_password, contact_port)
    for node in cluster.nodes:
        # the node reaches it through the proxy's softphone side; the alias says where it is
        contacts = node.cli("pjsip show contacts")
        assert f"{liisa.softphone}@{LAYOUT.softphone_side_ip}:5060;alias=" in contacts, contacts

    far_end = await parties.pstn_far_end().start()
    target = fresh_external()
    call = await parties.softphone_caller(liisa.softphone, liisa.softphone_password, target).run()
    far_end.kill()
    assert call.ok, call.log
    invite = (await far_end.wait()).received("INVITE")[0]
    assert invite.request_user == target
    assert uri_user(invite.header("From")) == liisa.mobile

    # Each node must ring the softphone through the proxy. A call on which it did not is
    # tried again, at most MISSES times in all, the softphone registering again first.
    # KNOWN ISSUE (stop 16): about one folder run in three, one node's first calls after the
    # softphone's endpoint was pushed did not ring it (CI: that node had answered the first
    # REGISTER "No matching endpoint", the endpoint not pushed yet; the later REGISTER was
    # taken and `pjsip show contacts` listed it). Not understood yet; see issue 10's note.
    rang_on: set[int] = set()
    misses = 0
    for _ in range(MAX_TRIES + MISSES):
        await parties.softphone_registers(liisa.softphone, liisa.softphone_password, contact_port)
        softphone = await parties.softphone(contact_port, **ANY_CALLS).start()
        handset = await parties.handset("uas_ring.xml", **ANY_CALLS).start()
        node, result = await on_node(
            cluster, parties.external_caller(fresh_external(), liisa.mobile).run
        )
        softphone.kill()
        handset.kill()
        answered(result)
        if (await softphone.wait()).received("INVITE"):
            rang_on.add(node)
        else:
            misses += 1
            assert misses <= MISSES, f"the softphone was not rung through node {node} again"
        if rang_on == {0, 1}:
            return
    raise AssertionError(f"the softphone rang only through nodes {sorted(rang_on)}")


async def test_only_the_softphones_own_password_gets_in_and_never_past_the_proxy(
    cluster: Cluster, people, parties: Parties
) -> None:  # type: ignore[no-untyped-def]
    """A wrong password is challenged again at the proxy; a softphone that logged in may
    not speak as another one; and the nodes take no SIP but the proxy's (pjsip ACL), so
    nobody registers past it without a password."""
    org = await people.org()
    liisa = await people.user(org, softphone=True)
    kalle = await people.user(org, softphone=True)
    assert liisa.softphone and liisa.softphone_password and kalle.softphone
    assert not await parties.softphone_registers(liisa.softphone, "wrong-password", 5062)
    assert cluster.holders(liisa.softphone) == []

    # Liisa's own login, Kalle's name: refused
    impostor = parties._sipp(
        scenario="uac_register.xml", ip=parties.softphones, port=5063, remote=parties.remote,
        auth=(liisa.softphone, liisa.softphone_password),
        keys={"from": kalle.softphone, "contact_port": "5063"},
    )  # fmt: skip
    assert not (await impostor.run()).ok
    assert cluster.holders(kalle.softphone) == []

    # straight to a node, around the proxy
    for node in LAYOUT.nodes:
        around = parties._sipp(
            scenario="uac_register.xml", ip=parties.softphones, port=5064,
            remote=f"{node.sip_host}:{node.sip_port}",
            auth=(liisa.softphone, liisa.softphone_password),
            keys={"from": liisa.softphone, "contact_port": "5064"},
        )  # fmt: skip
        assert not (await around.run()).ok
    assert cluster.holders(liisa.softphone) == []
