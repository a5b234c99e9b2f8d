"""The service-number bench's own logic (bench/servicenumbers.py), without Asterisk: the
member legs and queue answers read from SIPp's traces, which calls count as connected or
lost, the waits, the load spread, the table, and the member scenario rendered for SIPp."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.servicenumbers import (
    MEMBER_SCENARIO,
    SnStep,
    member_legs,
    queued_at,
    spread,
    table,
)
from harness.party import Sipp, parse_trace
from tests.bench.trace import block

T0 = 1_800_000_000.0


def leg(call_id: str, member: str, caller: str, answered_at: float, member_hangs_up: bool) -> str:
    frm = f"<sip:{caller}@127.0.0.1>;tag=x{call_id}"
    out = block(
        answered_at - 0.2, "received", f"INVITE sip:{member}@127.0.0.3:5060 SIP/2.0",
        From=frm, Call_ID=call_id, CSeq="1 INVITE",
    )  # fmt: skip
    out += block(answered_at - 0.19, "sent", "SIP/2.0 180 Ringing", From=frm, Call_ID=call_id,
                 CSeq="1 INVITE")  # fmt: skip
    out += block(answered_at, "sent", "SIP/2.0 200 OK", From=frm, Call_ID=call_id,
                 CSeq="1 INVITE")  # fmt: skip
    if member_hangs_up:
        out += block(answered_at + 1, "sent", "BYE sip:asterisk@127.0.0.1 SIP/2.0",
                     Call_ID=call_id, CSeq="2 BYE")  # fmt: skip
        out += block(answered_at + 1.01, "received", "SIP/2.0 200 OK", Call_ID=call_id,
                     CSeq="2 BYE")  # fmt: skip
    else:
        out += block(answered_at + 0.01, "received", "BYE sip:x SIP/2.0", Call_ID=call_id,
                     CSeq="5 BYE")  # fmt: skip
        out += block(answered_at + 0.02, "sent", "SIP/2.0 200 OK", Call_ID=call_id,
                     CSeq="5 BYE")  # fmt: skip
    return out


def caller(call_id: str, number: str, answered_at: float) -> str:
    frm = f"<sip:{number}@127.0.0.2:47070>;tag=c{call_id}"
    return block(
        answered_at - 0.01, "sent", "INVITE sip:+358207001000@127.0.0.1 SIP/2.0", From=frm,
        Call_ID=call_id, CSeq="1 INVITE",
    ) + block(answered_at, "received", "SIP/2.0 200 OK", From=frm, Call_ID=call_id,
              CSeq="1 INVITE")  # fmt: skip


def test_member_legs_tell_the_connected_leg_from_one_not_taken() -> None:
    text = leg("a", "+3584071", "+3585031", T0 + 1, True) + leg(
        "b", "+3584072", "+3585031", T0 + 1.001, False
    )
    legs = member_legs(parse_trace(text))
    assert [(x.member, x.caller, x.hung_up_by_member) for x in legs] == [
        ("+3584071", "+3585031", True),
        ("+3584072", "+3585031", False),
    ]
    assert legs[0].answered == pytest.approx(T0 + 1, abs=1e-5)


def test_queued_at_is_the_callers_200() -> None:
    text = caller("1", "+3585031", T0 + 0.5) + caller("2", "+3585032", T0 + 0.7)
    found = queued_at(parse_trace(text))
    assert found == pytest.approx({"+3585031": T0 + 0.5, "+3585032": T0 + 0.7}, abs=1e-5)


def test_connected_lost_waits_and_spread() -> None:
    members = ["+3584071", "+3584072", "+3584073"]
    calls = ["+3585031", "+3585032", "+3585033", "+3585034"]
    callers = caller("1", calls[0], T0) + caller("2", calls[1], T0 + 1) + caller(
        "3", calls[2], T0 + 2
    ) + caller("4", calls[3], T0 + 3)
    legs = (
        leg("a", members[0], calls[0], T0 + 0.25, True)
        + leg("b", members[1], calls[0], T0 + 0.26, False)  # ring_all: not taken
        + leg("c", members[1], calls[1], T0 + 1.5, True)
        + leg("d", members[0], calls[2], T0 + 4.0, True)
        + leg("e", members[2], "+3585999", T0 + 4.0, True)  # another step's caller
    )  # the fourth caller never reached a member: lost
    step = SnStep(2.0, 4, calls, members=members)
    step.queued = queued_at(parse_trace(callers))
    step.legs = member_legs(parse_trace(legs))
    assert sorted(step.connected()) == calls[:3]
    assert step.lost == 1
    assert sorted(step.waits()) == pytest.approx([250.0, 500.0, 2000.0], abs=0.01)
    assert step.per_member() == [2, 1, 0]
    assert step.offers() == 4
    assert spread(step.per_member()) == "0–2 (σ 0.8)"
    row = table([step]).splitlines()[-1]
    assert row.startswith("| 2 | 4 | 3 | 1 | 4 | 500 / 2000 / 2000 | 2, 1, 0 | 0–2 (σ 0.8) |")


def test_member_scenario_gets_its_ring_and_talk_times(tmp_path: Path) -> None:
    sipp = Sipp(str(MEMBER_SCENARIO), "127.0.0.3", 5060, tmp_path, calls=None,
                keys={"ring": "200", "talk": "1000"})  # fmt: skip
    argv = sipp.argv()
    root = ET.parse(argv[argv.index("-sf") + 1]).getroot()
    assert [p.get("milliseconds") for p in root.iter("pause")] == ["200"]
    timed = [r for r in root.iter("recv") if r.get("timeout")]
    assert [(r.get("timeout"), r.get("ontimeout")) for r in timed] == [("1000", "hangup")]
