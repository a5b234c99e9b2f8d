"""Toll fraud: no path the service places on a user's behalf (forwarding, transfer, the
greeting's key 1, the absence notice's key 1, service-number overflow) reaches a premium-rate,
shared-cost or blocked destination. One rule decides (destination_refusal, inside
forward_refusal); these tests walk every path through it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vipcall.presence.absence import AbsenceSettings
from vipcall.presence.forwarding import (
    OPEN,
    DialPolicy,
    Refusal,
    destination_refusal,
    dial_policy,
    forward_refusal,
)
from vipcall.presence.model import Activity, Role
from vipcall.routing.decisions import AbsenceNotice, Announce, Handset, Pstn, Ring
from vipcall.routing.rules import LANDLINE_RED, Policy, route_inbound
from vipcall.routing.snapshot import Organization, Subscriber
from vipcall.servicenumbers.rules import Overflow, OverflowKind, overflow_decision
from vipcall.store.mailbox import MailboxProfile
from vipcall.transfer.rules import Accepted, Refused, check
from vipcall.voicemail.deposit import plan_greeting
from vipcall.voicemail.limits import MailboxLimits

SWEDEN = "+46701234567"  # a Swedish mobile
FINLAND = "+358451112222"
PREMIUM = "+358600123456"  # Finnish premium rate (0600)
SATELLITE = "+88216123456"  # an international network (toll-fraud favourite)
FI_ONLY = DialPolicy(allowed_countries=frozenset({"FI"}))
DENY_SAT = DialPolicy(denied_prefixes=("+882",))
MOBILE, LANDLINE = "+358401234567", "+35891234567"


def user(policy: DialPolicy, **changes: object) -> Subscriber:
    base = Subscriber(id=7, org=Organization(id=1, dial_policy=policy), mobile=MOBILE,
                      landline=LANDLINE)  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_premium_and_shared_cost_are_refused_whatever_the_policy() -> None:
    assert destination_refusal(PREMIUM) == Refusal.PREMIUM_OR_SHARED_COST
    assert destination_refusal(PREMIUM, DialPolicy(allowed_countries=frozenset({"FI"}))) == (
        Refusal.PREMIUM_OR_SHARED_COST
    )


def test_by_default_any_country_may_be_called() -> None:
    assert destination_refusal(SWEDEN) is None
    assert destination_refusal(SATELLITE) is None


def test_a_country_outside_the_allowed_ones_is_blocked() -> None:
    assert destination_refusal(SWEDEN, FI_ONLY) == Refusal.BLOCKED_DESTINATION
    assert destination_refusal(FINLAND, FI_ONLY) is None


def test_a_denied_prefix_is_blocked() -> None:
    assert destination_refusal(SATELLITE, DENY_SAT) == Refusal.BLOCKED_DESTINATION
    assert destination_refusal(SWEDEN, DENY_SAT) is None


def test_the_stored_columns_make_the_policy() -> None:
    assert dial_policy(None, []) == OPEN
    assert dial_policy(["fi", "SE"], ["+882"]) == DialPolicy(frozenset({"FI", "SE"}), ("+882",))


@given(st.sampled_from([SWEDEN, FINLAND, SATELLITE, PREMIUM, "+37255512345", "+4915112345678"]),
       st.sampled_from([OPEN, FI_ONLY, DENY_SAT]))  # fmt: skip
def test_forwarding_is_refused_at_least_wherever_the_destination_is(
    target: str, policy: DialPolicy
) -> None:
    if destination_refusal(target, policy) is not None:
        assert forward_refusal({MOBILE}, target, {}, policy) == destination_refusal(target, policy)


def test_a_forwarding_to_a_blocked_country_is_passed_over_and_the_user_rings() -> None:
    forwarded = user(FI_ONLY, immediate_forward=SWEDEN)
    decision = route_inbound(forwarded, MOBILE, Policy())
    assert isinstance(decision, Ring)
    assert decision.targets[0] == Handset(MOBILE)
    allowed = user(OPEN, immediate_forward=SWEDEN)
    assert route_inbound(allowed, MOBILE, Policy()).targets == (Pstn(SWEDEN),)  # type: ignore[union-attr]


def test_the_absence_notice_does_not_offer_a_blocked_customer_service_number() -> None:
    notice = {"activity": Activity.ON_HOLIDAY, "role": Role.ABSENCE_NOTICE,
              "absence": AbsenceSettings(customer_service=SATELLITE)}  # fmt: skip
    assert route_inbound(user(DENY_SAT, **notice), MOBILE, Policy()) == AbsenceNotice(7, 6)
    offered = route_inbound(user(OPEN, **notice), MOBILE, Policy())
    assert offered == AbsenceNotice(7, 6, customer_service=SATELLITE)


def test_transfer_to_a_blocked_destination_is_refused() -> None:
    assert check(user(FI_ONLY), "1" + "0046701234567#", "FI") == Refused(
        Refusal.BLOCKED_DESTINATION
    )
    assert check(user(OPEN), "1" + "0046701234567#", "FI") == Accepted(SWEDEN)


@pytest.mark.parametrize(("policy", "offered"), [(OPEN, True), (DENY_SAT, False)])
def test_the_greetings_key_1_is_not_offered_to_a_blocked_number(
    policy: DialPolicy, offered: bool
) -> None:
    profile = MailboxProfile(user_id=7, mobile=MOBILE, limits=MailboxLimits(), messages=0,
                             key1_target=SATELLITE, dial_policy=policy)  # fmt: skip
    from datetime import UTC, datetime

    plan = plan_greeting(profile, user(policy), LANDLINE_RED, LANDLINE, "http://x",
                         datetime(2026, 11, 26, tzinfo=UTC), 180)  # fmt: skip
    assert (plan.key1 == SATELLITE) is offered


def test_overflow_to_a_blocked_number_plays_the_announcement_instead() -> None:
    overflow = Overflow(OverflowKind.NUMBER, SATELLITE)
    assert overflow_decision(overflow, OPEN) == Ring((Pstn(SATELLITE),), 0)
    assert isinstance(overflow_decision(overflow, DENY_SAT), Announce)
