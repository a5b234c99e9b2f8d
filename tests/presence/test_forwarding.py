"""Which forwarding targets are refused."""

from __future__ import annotations

from vipcall.presence.forwarding import Refusal, forward_refusal

A_MOBILE, A_LANDLINE = "+358401234567", "+35891234567"
B, C = "+358501234569", "+358451112222"
OWN = {A_MOBILE, A_LANDLINE}


def test_an_ordinary_number_is_allowed() -> None:
    assert forward_refusal(OWN, B, {}) is None


def test_premium_rate_numbers_are_refused() -> None:
    """Finland has no shared-cost range in phonenumbers' metadata; 0600/0700 are premium."""
    assert forward_refusal(OWN, "+358600123456", {}) == Refusal.PREMIUM_OR_SHARED_COST
    assert forward_refusal(OWN, "+358700123456", {}) == Refusal.PREMIUM_OR_SHARED_COST


def test_shared_cost_numbers_abroad_are_refused() -> None:
    assert forward_refusal(OWN, "+33884012345", {}) == Refusal.PREMIUM_OR_SHARED_COST


def test_own_numbers_are_refused() -> None:
    assert forward_refusal(OWN, A_MOBILE, {}) == Refusal.OWN_NUMBER
    assert forward_refusal(OWN, A_LANDLINE, {}) == Refusal.OWN_NUMBER


def test_a_forwards_to_b_and_b_forwards_to_a_is_a_loop() -> None:
    assert forward_refusal(OWN, B, {B: [A_MOBILE]}) == Refusal.LOOP


def test_longer_loops_are_refused_too() -> None:
    assert forward_refusal(OWN, B, {B: [C], C: [A_LANDLINE]}) == Refusal.LOOP


def test_a_chain_that_ends_elsewhere_is_fine() -> None:
    assert forward_refusal(OWN, B, {B: [C]}) is None


def test_a_cycle_not_through_the_user_is_cut_off_as_a_loop() -> None:
    assert forward_refusal(OWN, B, {B: [C], C: [B]}) == Refusal.LOOP


def test_a_loop_through_an_activity_bound_forwarding_is_refused() -> None:
    """B forwards to A only while in a meeting: B can switch it on any time."""
    assert forward_refusal(OWN, B, {B: [C, A_MOBILE]}) == Refusal.LOOP


def test_two_ways_to_the_same_number_are_not_a_loop() -> None:
    d, e = "+358451113333", "+358451114444"
    assert forward_refusal(OWN, B, {B: [C, d], C: [e], d: [e]}) is None
