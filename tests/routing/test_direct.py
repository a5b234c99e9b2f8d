"""Direct routes (vipcall.routing.direct): which calls Asterisk may ring without asking the
app, and the proofs that doing so changes nothing for any caller."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from vipcall.numbers import try_normalize
from vipcall.presence.absence import AbsenceSettings
from vipcall.presence.activity import Period
from vipcall.presence.model import Activity, Role
from vipcall.routing.decisions import Handset, Ring
from vipcall.routing.direct import (
    CALLER_ID_PATTERN,
    NAME_PATTERN,
    direct_ring,
    entry_value,
    valid_until,
)
from vipcall.routing.rules import Policy, caller_id_change, route_inbound
from vipcall.routing.snapshot import NewCall, Organization, Subscriber, Trunk

ORG = Organization(id=1)
MOBILE, LANDLINE, ELSEWHERE = "+358401234567", "+35891234567", "+358451112222"
POLICY = Policy()
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def user(**changes: object) -> Subscriber:
    base = Subscriber(id=7, org=ORG, mobile=MOBILE, landline=LANDLINE)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_green_user_who_forwards_nowhere_is_rung_directly_on_both_numbers() -> None:
    ring = direct_ring(user(), MOBILE, POLICY)
    assert ring == Ring((Handset(MOBILE),), POLICY.ring_timeout, 7, None)
    assert direct_ring(user(), LANDLINE, POLICY) == ring


def test_the_landline_of_a_red_user_goes_to_the_app_the_mobile_still_rings_directly() -> None:
    red = user(activity=Activity.ON_HOLIDAY)
    assert direct_ring(red, LANDLINE, POLICY) is None
    assert direct_ring(red, MOBILE, POLICY) is not None


def test_an_absence_notice_goes_to_the_app() -> None:
    notice = user(activity=Activity.ON_HOLIDAY, role=Role.ABSENCE_NOTICE)
    assert direct_ring(notice, MOBILE, POLICY) is None


def test_a_forwarding_in_effect_goes_to_the_app() -> None:
    assert direct_ring(user(immediate_forward=ELSEWHERE), MOBILE, POLICY) is None
    lunch = user(activity=Activity.LUNCH, activity_forwards={Activity.LUNCH: ELSEWHERE})
    assert direct_ring(lunch, MOBILE, POLICY) is None


def test_a_forwarding_of_another_activity_does_not_keep_the_user_from_a_direct_route() -> None:
    later = user(activity_forwards={Activity.IN_MEETING: ELSEWHERE})
    assert direct_ring(later, MOBILE, POLICY) is not None


def test_the_services_own_numbers_never_get_a_direct_route() -> None:
    """Even if a user were given the activity or the voicemail number, those have their own
    rules (the menu, the mailbox)."""
    for number in (POLICY.activity_number, POLICY.voicemail_number):
        assert direct_ring(user(mobile=number), number, POLICY) is None


def test_a_user_with_softphones_goes_to_the_app() -> None:
    assert direct_ring(user(softphones=("sp-7-1",)), MOBILE, POLICY) is None


def test_a_direct_route_ends_at_the_next_start_or_end_of_a_scheduled_activity() -> None:
    meeting = Period(4, NOW + timedelta(hours=1), NOW + timedelta(hours=2))
    holiday = Period(6, NOW - timedelta(days=1), NOW + timedelta(days=3))
    assert valid_until([meeting, holiday], NOW) == NOW + timedelta(hours=1)
    assert valid_until([holiday], NOW) == NOW + timedelta(days=3)
    assert valid_until([], NOW) is None


def test_the_entry_carries_the_token_and_its_end_in_whole_seconds_rounded_down() -> None:
    until = datetime(2026, 11, 26, 13, 0, 0, 900_000, tzinfo=UTC)
    assert entry_value("ab12", until, "30|7|x") == f"ab12|{int(until.timestamp())}|30|7|x"
    assert entry_value("ab12", None, "30|7|x") == "ab12|0|30|7|x"


@given(
    activity=st.sampled_from(Activity),
    role=st.sampled_from(Role),
    scheduled=st.booleans(),
    on_scheduled=st.booleans(),
    vip=st.booleans(),
    earlier=st.integers(0, 5),
    repeat=st.none() | st.integers(2, 4),
    landline=st.booleans(),
    voicemail=st.booleans(),
    forward=st.sampled_from(["none", "immediate", "this activity", "another activity"]),
    softphone=st.booleans(),
)
def test_whoever_calls_a_direct_route_gets_exactly_that_ring(
    activity: Activity,
    role: Role,
    scheduled: bool,
    on_scheduled: bool,
    vip: bool,
    earlier: int,
    repeat: int | None,
    landline: bool,
    voicemail: bool,
    forward: str,
    softphone: bool,
) -> None:
    """VIP and repeat callers change nothing about a direct route: when the answer without
    caller facts is the handset's ring, it is the answer with any of them."""
    forwards = {
        "none": {},
        "immediate": {"immediate_forward": ELSEWHERE},
        "this activity": {"activity_forwards": {activity: ELSEWHERE}},
        "another activity": {
            "activity_forwards": {Activity(activity % 8 + 1): ELSEWHERE},
        },
    }[forward]
    callee = user(
        activity=activity,
        role=role,
        activity_scheduled=scheduled,
        absence=AbsenceSettings(notice_on_scheduled_red=on_scheduled, repeat_calls=repeat),
        voicemail_enabled=voicemail,
        softphones=("sp-7-1",) if softphone else (),
        **forwards,
    )
    called = LANDLINE if landline else MOBILE
    ring = direct_ring(callee, called, POLICY)
    if ring is None:
        return
    seen_by_caller = replace(callee, caller_is_vip=vip, earlier_stopped_calls=earlier)
    assert route_inbound(seen_by_caller, called, POLICY) == ring


ASCII_NAMES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@given(number=st.from_regex(CALLER_ID_PATTERN, fullmatch=True), name=ASCII_NAMES)
def test_every_caller_id_the_dialplan_lets_through_is_passed_on_unchanged(
    number: str, name: str
) -> None:
    """The dialplan takes a direct route only for these caller IDs and names; for each the
    app's own rule changes nothing (the ring keeps the caller's own caller ID)."""
    assert re.fullmatch(NAME_PATTERN, name)
    call = NewCall(
        Trunk.PSTN, try_normalize(number, "FI"), MOBILE, MOBILE,
        caller_sent=number, caller_name=name,
    )  # fmt: skip
    assert call.caller == number, "a valid number, already in E.164"
    assert caller_id_change(call) is None


@given(name=st.text(max_size=20))
def test_a_name_with_a_control_or_format_character_never_matches_the_name_pattern(
    name: str,
) -> None:
    if re.fullmatch(NAME_PATTERN, name):
        assert caller_id_change(NewCall(Trunk.PSTN, MOBILE, MOBILE, caller_sent=MOBILE,
                                        caller_name=name)) is None  # fmt: skip


def test_the_patterns_are_plain_posix_extended_regular_expressions() -> None:
    """Asterisk's REGEX is POSIX ERE: no escapes, no braces (they would need escaping in a
    dialplan), anchored at both ends."""
    for pattern in (CALLER_ID_PATTERN, NAME_PATTERN):
        assert pattern.startswith("^") and pattern.endswith("$")
        assert "\\" not in pattern and "{" not in pattern and '"' not in pattern
    assert not re.fullmatch(CALLER_ID_PATTERN, "+3584912345678")  # 049...: not a mobile
    assert not re.fullmatch(CALLER_ID_PATTERN, "0401234567")  # national format: the app
