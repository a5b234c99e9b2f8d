"""Service numbers' pure rules: who is offered a waiting call (ring all, longest-idle hunt,
logged-out and busy members skipped), the maximum wait, overflow, queue position; the
routing rule for a service number's number and the log in/out feature codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vipcall.presence.codes import InvalidCode, ServiceLogin, parse_feature_code
from vipcall.routing.decisions import (
    Announce,
    Cause,
    Feature,
    Pstn,
    Ring,
    ServiceNumberCall,
    Voicemail,
)
from vipcall.routing.rules import Policy, route_call
from vipcall.routing.snapshot import NewCall, Organization, Subscriber, Trunk
from vipcall.servicenumbers.rules import (
    DEFAULT_OVERFLOW_PROMPT,
    OVERFLOW_VOICEMAIL,
    Member,
    Overflow,
    OverflowKind,
    QueueSettings,
    Strategy,
    first_in_line,
    free_members,
    idle_order,
    next_offer,
    overflow_decision,
    queue_position,
    ring_seconds,
    waited_too_long,
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
HUNT = QueueSettings(strategy=Strategy.LONGEST_IDLE, member_ring_seconds=10, max_wait_seconds=60)
ALL = QueueSettings(strategy=Strategy.RING_ALL, member_ring_seconds=10, max_wait_seconds=60)


def m(uid: int, idle_min: int | None = None, **kw: object) -> Member:
    """A member idle for ``idle_min`` minutes (None: never had a call, no login time)."""
    end = None if idle_min is None else T0 - timedelta(minutes=idle_min)
    return Member(uid, last_call_end=end, **kw)  # type: ignore[arg-type]


# -- who is offered -------------------------------------------------------------------


def test_longest_idle_is_offered_first_then_the_next_longest() -> None:
    members = [m(1, idle_min=5), m(2, idle_min=30), m(3, idle_min=10)]
    first = next_offer(HUNT, members)
    assert first is not None and first.user_ids == (2,)
    second = next_offer(HUNT, members, first.tried)
    assert second is not None and second.user_ids == (3,)
    third = next_offer(HUNT, members, second.tried)
    assert third is not None and third.user_ids == (1,)


def test_after_every_free_member_the_hunt_starts_a_new_round() -> None:
    members = [m(1, idle_min=5), m(2, idle_min=30)]
    offer = next_offer(HUNT, members, frozenset({1, 2}))
    assert offer is not None and offer.user_ids == (2,) and offer.tried == frozenset({2})


def test_a_member_who_never_had_a_call_counts_as_idle_longest() -> None:
    assert [x.user_id for x in idle_order([m(1, 1), m(2, None), m(3, 60)])] == [2, 3, 1]


def test_idle_since_is_the_later_of_last_call_and_login() -> None:
    relogged = Member(1, last_call_end=T0 - timedelta(hours=2), logged_in_at=T0)
    waiting = Member(2, last_call_end=T0 - timedelta(minutes=30))
    assert [x.user_id for x in idle_order([relogged, waiting])] == [2, 1]


def test_logged_out_and_busy_members_are_skipped() -> None:
    members = [m(1, 50, logged_in=False), m(2, 40, busy=True), m(3, 1)]
    assert [x.user_id for x in free_members(members)] == [3]
    hunt = next_offer(HUNT, members)
    assert hunt is not None and hunt.user_ids == (3,)
    everyone = next_offer(ALL, members)
    assert everyone is not None and everyone.user_ids == (3,)


def test_ring_all_offers_every_free_member_at_once() -> None:
    offer = next_offer(ALL, [m(1, 5), m(2, 30), m(3, 10, logged_in=False)])
    assert offer is not None and offer.user_ids == (2, 1)


def test_nobody_free_means_keep_waiting() -> None:
    assert next_offer(HUNT, [m(1, busy=True), m(2, logged_in=False)]) is None
    assert next_offer(ALL, []) is None


# -- waiting and overflow ---------------------------------------------------------------


def test_maximum_wait() -> None:
    assert not waited_too_long(T0, T0 + timedelta(seconds=59), HUNT)
    assert waited_too_long(T0, T0 + timedelta(seconds=60), HUNT)


def test_the_last_offer_rings_only_for_the_wait_left() -> None:
    assert ring_seconds(T0, T0, HUNT) == 10
    assert ring_seconds(T0, T0 + timedelta(seconds=55), HUNT) == 5
    assert ring_seconds(T0, T0 + timedelta(seconds=70), HUNT) == 1


def test_overflow_to_a_number_a_voicemail_or_an_announcement() -> None:
    number = overflow_decision(Overflow(OverflowKind.NUMBER, "+358501234567"))
    assert number == Ring((Pstn("+358501234567"),), 0)
    assert overflow_decision(Overflow(OverflowKind.VOICEMAIL, "42")) == Voicemail(
        42, OVERFLOW_VOICEMAIL
    )
    assert overflow_decision(Overflow()) == Announce(DEFAULT_OVERFLOW_PROMPT, Cause.NORMAL)
    assert overflow_decision(Overflow(OverflowKind.ANNOUNCEMENT, "user-cannot-be-reached")) == (
        Announce("user-cannot-be-reached", Cause.NORMAL)
    )
    # A target that went missing: the announcement rather than nowhere.
    assert overflow_decision(Overflow(OverflowKind.NUMBER, None)) == Announce(
        DEFAULT_OVERFLOW_PROMPT, Cause.NORMAL
    )


def test_position_and_who_is_served_first() -> None:
    calls = [(T0 + timedelta(seconds=5), 7), (T0, 9), (T0 + timedelta(seconds=9), 3)]
    assert [queue_position(calls, c) for c in (9, 7, 3)] == [1, 2, 3]
    assert first_in_line(calls, 9) and not first_in_line(calls, 7)
    assert first_in_line([], 7)


# -- routing and feature codes ----------------------------------------------------------

SWITCHBOARD = "+358290001000"
ORG = Organization(1)


def test_a_call_to_a_service_number_queues_whoever_calls() -> None:
    policy = Policy()
    outside = NewCall(Trunk.PSTN, "+358501111111", SWITCHBOARD, SWITCHBOARD)
    assert route_call(outside, None, None, policy, 5) == ServiceNumberCall(5)
    user = Subscriber(3, ORG, "+358401111111", immediate_forward="+358501234567")
    own = NewCall(Trunk.MOBILE, user.mobile, SWITCHBOARD, SWITCHBOARD)
    assert route_call(own, user, None, policy, 5) == ServiceNumberCall(5)
    # Not a service number: as before (not in use).
    assert route_call(outside, None, None, policy) == Announce("number-not-in-use", Cause(1))


def test_feature_codes_985_log_in_and_out() -> None:
    assert parse_feature_code("98517") == ServiceLogin(7, True)
    assert parse_feature_code("985012") == ServiceLogin(12, False)
    for bad in ("985", "9851", "98520", "98510", "9851x"):
        assert parse_feature_code(bad) == InvalidCode(bad), bad
    user = Subscriber(3, ORG, "+358401111111")
    call = NewCall(Trunk.MOBILE, user.mobile, None, "98513")
    assert route_call(call, user, None, Policy()) == Feature(3, ServiceLogin(3, True))
