"""Mid-call transfer rules (pure): what the keys after ``*#*`` mean, which numbers are
refused like forwarding targets, the reply the dialplan reads, and the new call."""

from __future__ import annotations

import pytest

from vipcall.calls.entry import TransferEntry, UnknownEntry, parse_entry
from vipcall.presence.forwarding import Refusal
from vipcall.routing.decisions import Handset, Pstn, Ring, Softphone
from vipcall.routing.rules import Policy
from vipcall.routing.snapshot import Organization, Subscriber
from vipcall.transfer.rules import (
    Accepted,
    Problem,
    Refused,
    TransferRing,
    Who,
    answer,
    check,
    dialled_number,
    extension,
    parse_who,
    transfer_decision,
)

ORG = Organization(id=1, language="en")
MAIJA = Subscriber(id=7, org=ORG, mobile="+358401234567", landline="+358912345678")
PEKKA = Subscriber(id=8, org=ORG, mobile="+358401234568", softphones=("sp-8-1",))
POLICY = Policy(ring_timeout=20)


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("u7", Who(user_id=7)),
        ("n+358401234567", Who(number="+358401234567")),
        ("esp-7-1", Who(endpoint="sp-7-1")),
        ("", None),
        ("u", None),
        ("ux", None),
        ("x12", None),
    ],
)
def test_who_pressed_the_keys(text: str, who: Who | None) -> None:
    assert parse_who(text) == who


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("10401234568#", "0401234568"),
        ("1#", ""),
        ("2040#", Problem.NOT_A_TRANSFER),
        ("", Problem.NOT_A_TRANSFER),
        ("#", Problem.NOT_A_TRANSFER),
        ("10401234568", Problem.NO_END_KEY),
        ("1", Problem.NO_END_KEY),
    ],
)
def test_keys_are_1_number_hash(keys: str, expected: str | Problem) -> None:
    assert dialled_number(keys) == expected


@pytest.mark.parametrize(
    ("keys", "verdict"),
    [
        ("10401234568#", Accepted("+358401234568")),  # a colleague
        ("100358501112222#", Accepted("+358501112222")),  # international form
        ("10501112222#", Accepted("+358501112222")),  # outside
        ("112345#", Refused(Refusal.INVALID_NUMBER)),
        ("1#", Refused(Refusal.INVALID_NUMBER)),
        ("10600123456#", Refused(Refusal.PREMIUM_OR_SHARED_COST)),
        ("10401234567#", Refused(Refusal.OWN_NUMBER)),
        ("10912345678#", Refused(Refusal.OWN_NUMBER)),  # the landline, national form
        ("10401234568", Refused(Problem.NO_END_KEY)),
        ("30401234568#", Refused(Problem.NOT_A_TRANSFER)),
    ],
)
def test_check_refuses_like_forwarding(keys: str, verdict: object) -> None:
    assert check(MAIJA, keys, "FI") == verdict


def test_a_loop_back_to_the_user_is_refused() -> None:
    # Pekka forwards to Maija: sending a call to Pekka would come straight back.
    maija = Subscriber(
        id=7, org=ORG, mobile="+358401234567", forward_hops={PEKKA.mobile: (MAIJA.mobile,)}
    )
    assert check(maija, "10401234568#", "FI") == Refused(Refusal.LOOP)


def test_nobodys_channel_transfers_nothing() -> None:
    assert check(None, "10401234568#", "FI") == Refused(Problem.NOT_A_USER)


def test_the_reply_names_the_extension_and_the_language() -> None:
    assert extension(7, "+358401234568") == "7+358401234568"
    assert answer(Accepted("+358401234568"), 7, "en") == "ok|7+358401234568|en"
    assert answer(Refused(Refusal.LOOP), 7, "fi") == "no|fi"
    assert answer(Accepted("+358401234568"), None, "fi") == "no|fi"


def test_the_dialplan_hands_the_transferred_party_back_as_a_transfer_entry() -> None:
    # [vipcall-transfer]: Stasis(app,transfer,+${CUT(EXTEN,+,2)},${CUT(EXTEN,+,1)})
    ext = extension(7, "+358401234568")
    user, digits = ext.split("+")
    assert parse_entry(["transfer", f"+{digits}", user]) == TransferEntry("+358401234568", 7)
    assert isinstance(parse_entry(["transfer", "0401", "7"]), UnknownEntry)
    assert isinstance(parse_entry(["transfer", "+358401234568", "x"]), UnknownEntry)


def test_a_colleague_rings_as_an_inbound_call_with_their_voicemail_after() -> None:
    decision = transfer_decision(MAIJA, PEKKA.mobile, PEKKA, POLICY)
    assert isinstance(decision, Ring)
    assert decision.targets == (Handset(PEKKA.mobile), Softphone("sp-8-1"))
    assert decision.user_id == PEKKA.id  # unanswered: Pekka's voicemail
    assert decision.caller_id is not None and decision.caller_id.number == MAIJA.mobile


def test_an_outside_number_goes_out_and_comes_back_to_the_user_unanswered() -> None:
    maija = Subscriber(id=7, org=ORG, mobile="+358401234567", softphones=("sp-7-1",))
    decision = transfer_decision(maija, "+358501112222", None, POLICY)
    assert isinstance(decision, TransferRing)
    assert decision.ring.targets == (Pstn("+358501112222"),)
    assert decision.ring.user_id is None
    assert decision.ring.timeout == POLICY.ring_timeout  # not the outgoing call's "no limit"
    assert decision.ring.caller_id is not None and decision.ring.caller_id.number == maija.mobile
    assert decision.back.targets == (Handset(maija.mobile), Softphone("sp-7-1"))
    assert decision.back.user_id is None  # nobody's voicemail: an announcement after
