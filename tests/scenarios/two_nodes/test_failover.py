"""Kill one Asterisk node (SIGKILL) under a steady SIPp load through Kamailio: the calls
already up on the other node are untouched, new calls go to the survivor within the probing
interval, and the calls lost are counted (the figures go to README "Two nodes behind
Kamailio"; ``-s`` prints them).

Run under one lock: ``flock /tmp/vipcall-asterisk.lock .venv/bin/pytest -s
tests/scenarios/two_nodes/test_failover.py``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections import defaultdict
from dataclasses import dataclass, field

from harness.app import eventually
from harness.party import SipMessage, Sipp
from tests.scenarios.two_nodes.conftest import LAYOUT, PSTN, PUBLIC, Cluster, Parties
from tests.support.people import fresh_external

RATE = 20  # new calls per second
HOLD_MS = 4000  # each call lasts this long once answered
CALLS = 400  # 20 s of load
KILL_AFTER = 8.0  # seconds into the load


@dataclass
class Call:
    """One caller's call, from the caller's message trace."""

    call_id: str
    invited_at: float = 0.0
    answered_at: float | None = None
    node: str | None = None
    """The answering node's address (the 200 OK's Contact)."""
    bye_at: float | None = None
    """When the caller sent its (first) BYE: the call was up until then."""
    ok: bool = False
    """The caller's BYE was answered with 200 (the call went through to its end)."""
    statuses: list[int] = field(default_factory=list)


def calls_of(messages: list[SipMessage]) -> list[Call]:
    by_id: dict[str, Call] = {}
    for m in messages:
        cid = m.header("call-id") or ""
        call = by_id.setdefault(cid, Call(cid))
        cseq = m.header("cseq") or ""
        if m.direction == "sent" and m.method == "INVITE" and not call.invited_at:
            call.invited_at = m.at
        elif m.direction == "sent" and m.method == "BYE" and call.bye_at is None:
            call.bye_at = m.at
        elif m.direction == "received" and m.status is not None:
            call.statuses.append(m.status)
            if m.status == 200 and cseq.endswith("INVITE") and call.answered_at is None:
                call.answered_at = m.at
                found = re.search(r"sip:(?:[^@>]*@)?([\d.]+)", m.header("contact") or "")
                call.node = found.group(1) if found else None
            elif m.status == 200 and cseq.endswith("BYE"):
                call.ok = True
    return list(by_id.values())


async def watch_states(cluster: Cluster, log: list[tuple[float, list[str]]], stop: asyncio.Event):
    """Kamailio's view of the nodes every 50 ms (time, flags per node)."""
    while not stop.is_set():
        states = await asyncio.to_thread(cluster.node_states)
        log.append((time.time(), states))
        await asyncio.sleep(0.05)


async def test_kill_one_node_under_load(cluster: Cluster, people, parties: Parties) -> None:  # type: ignore[no-untyped-def]
    org = await people.org()
    maija = await people.user(org)
    a, b = (node.sip_host for node in LAYOUT.nodes)
    assert cluster.node_states() == ["AP", "AP"]

    handset = await parties.handset(ring_ms=100, calls=None, trace=False, timeout=300).start()
    load = Sipp(
        scenario="uac_call.xml", ip=PSTN, port=5090, remote=PUBLIC, workdir=parties.workdir,
        service=maija.mobile, keys={"from": fresh_external(), "hold": str(HOLD_MS)},
        calls=CALLS, timeout=120,
        # a call ringing on the node that dies gets no final answer: give up after 10 s
        extra=["-r", str(RATE), "-l", str(RATE * 10), "-recv_timeout", "10000"],
    )  # fmt: skip
    parties.started.append(load)
    states: list[tuple[float, list[str]]] = []
    stop_watch = asyncio.Event()
    watcher = asyncio.create_task(watch_states(cluster, states, stop_watch))

    await load.start()
    await asyncio.sleep(KILL_AFTER)
    up_on_a = cluster.live_calls(0)
    up_on_b = cluster.live_calls(1)
    pid = int(cluster.nodes[0].pid_file.read_text().strip())
    killing_at = time.time()
    os.kill(pid, signal.SIGKILL)  # node A's Asterisk, and only it
    killed_at = time.time()

    result = await load.wait(timeout=120)
    stop_watch.set()
    await watcher
    handset.kill()
    await handset.wait()

    calls = calls_of(result.messages)
    assert len(calls) == CALLS, f"{len(calls)} calls traced"
    lost = [c for c in calls if not c.ok]
    # calls up (answered) on each node when A died, and still to end after it: by when the
    # caller sent its BYE, not by answer + HOLD_MS (the BYE leaves a few ms after that)
    up_then = [c for c in calls if c.answered_at and c.answered_at < killed_at]
    spanning = [c for c in up_then if c.bye_at is None or c.bye_at >= killing_at]
    spanning_b = [c for c in spanning if c.node == b]
    spanning_a = [c for c in spanning if c.node == a]
    in_setup = [c for c in calls if c.invited_at < killed_at and c not in up_then]
    out_at = next((t for t, s in states if t > killed_at and s[0] != "AP"), None)
    after = [c for c in calls if c.invited_at > killed_at]
    after_detection = [c for c in after if out_at is not None and c.invited_at > out_at]
    by_node: dict[str | None, int] = defaultdict(int)
    for c in calls:
        by_node[c.node] += 1

    figures = {
        "calls": len(calls),
        "answered by node": dict(by_node),
        "live calls at the kill (Asterisk A / B)": (up_on_a, up_on_b),
        "calls up at the kill, A / B (caller's trace)": (len(spanning_a), len(spanning_b)),
        "seconds from the kill until Kamailio marked A out": (
            round(out_at - killed_at, 2) if out_at else None
        ),
        "calls being set up at the kill": len(in_setup),
        "of those lost": sum(1 for c in in_setup if not c.ok),
        "new calls between the kill and the mark": len(after) - len(after_detection),
        "of those lost ": sum(1 for c in after if c not in after_detection and not c.ok),
        "lost in all": len(lost),
        "lost that were up on A": sum(1 for c in lost if c in spanning_a),
    }
    print("\nfailover figures:", figures)

    assert all(c.ok for c in spanning_b), "calls up on the survivor were untouched"
    assert spanning_b, "the survivor had calls up when A died"
    assert out_at is not None, "Kamailio marked the dead node out"
    assert out_at - killed_at <= LAYOUT.ping_interval + LAYOUT.fr_timer_ms / 1000 + 1.0
    assert after_detection and all(c.ok and c.node == b for c in after_detection), (
        "every call after the mark went to the survivor and went through"
    )
    # node A back: Asterisk restarted, its app reconnects by itself, the next probe
    # brings the node back into the set and calls reach it again
    cluster.nodes[0].start()
    started = time.time()
    await eventually(lambda: cluster.node_states()[0] == "AP", timeout=10, interval=0.05)
    back_after = time.time() - started
    print(f"node A back in Kamailio's set {back_after:.2f} s after its Asterisk answered ARI")
    # A handset for many calls: a BYE of the load that the killed handset never answered
    # is retransmitted to this port for up to 32 s, and a single-call handset would take it
    # for its one call and quit before the calls it is there for.
    handset = await parties.handset(calls=None).start()
    for _ in range(4):  # round robin: one of two calls goes to A
        await cluster.reports_taken()
        before = cluster.handled()[0]
        call = await parties.external_caller(fresh_external(), maija.mobile).run()
        assert call.ok, call.log
        # counted as the call ends: by the app, or by the end report of a direct route
        # (vipcall.service.direct), which the app takes from its spool within about a second
        try:
            await eventually(lambda b=before: cluster.handled()[0] > b, timeout=3, interval=0.05)  # type: ignore[misc]
        except AssertionError:
            continue  # node B took it
        break
    else:
        raise AssertionError("no call reached node A after it came back")
    handset.kill()

    # the only calls lost: those up on the dead node, being set up at the kill, or sent
    # to the dead node before it was marked out
    between = [c for c in after if c not in after_detection]
    unexpected = [c for c in lost if c not in spanning_a + in_setup + between]
    assert unexpected == [], (unexpected, figures)
