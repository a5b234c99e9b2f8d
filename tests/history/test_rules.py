"""The call history's rules: which routing outcome is which label, in/out/missed, length,
calls per day. Decisions come from the real routing rules, so a rule change that turns a
forwarding into something else shows here."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from vipcall.history.rules import (
    DIRECTION_LABELS,
    ROUTE_LABELS,
    DayCount,
    Direction,
    RecordEnd,
    Route,
    direction,
    end_from_report,
    length_seconds,
    per_day,
    route_after_ringing,
    route_from_dial,
    route_of,
)
from vipcall.presence.codes import parse_feature_code
from vipcall.presence.model import Activity, Role
from vipcall.routing.decisions import (
    ActivityMenu,
    Announce,
    Cause,
    Feature,
    Hangup,
    ListenMailbox,
    Voicemail,
)
from vipcall.routing.rules import Policy, after_ringing, route_call
from vipcall.routing.snapshot import NewCall, Organization, Subscriber, Trunk

ORG = Organization(id=1)
POLICY = Policy(ring_timeout=30)
USER = Subscriber(id=7, org=ORG, mobile="+358401234567", landline="+35891234567")
COLLEAGUE = Subscriber(id=8, org=ORG, mobile="+358501234569")
OUTSIDE = "+358451112222"


def inbound(callee: Subscriber, caller: str = OUTSIDE) -> object:
    call = NewCall(Trunk.PSTN, caller, callee.mobile, callee.mobile)
    return route_call(call, None, callee, POLICY)


def test_a_call_that_rings_the_users_phones_rang() -> None:
    assert route_of(inbound(USER)) == Route.RANG


def test_a_forwarded_call_is_forwarded() -> None:
    assert route_of(inbound(replace(USER, immediate_forward="+358409999999"))) == Route.FORWARDED


def test_an_activity_forwarding_is_forwarded_too() -> None:
    meeting = Activity.IN_MEETING
    user = replace(USER, activity=meeting, activity_forwards={meeting: OUTSIDE})
    assert route_of(inbound(user, caller="+358407777777")) == Route.FORWARDED


def test_the_absence_notice_is_the_absence_notice() -> None:
    user = replace(USER, activity=Activity.IN_MEETING, role=Role.ABSENCE_NOTICE)
    assert route_of(inbound(user)) == Route.ABSENCE_NOTICE


def test_the_landline_while_red_goes_to_voicemail() -> None:
    user = replace(USER, activity=Activity.IN_MEETING)
    call = NewCall(Trunk.PSTN, OUTSIDE, USER.landline, USER.landline)
    assert route_of(route_call(call, None, user, POLICY)) == Route.VOICEMAIL


def test_a_users_own_call_out_rang_the_far_end() -> None:
    call = NewCall(Trunk.MOBILE, USER.mobile, OUTSIDE, OUTSIDE)
    assert route_of(route_call(call, USER, None, POLICY)) == Route.RANG


def test_a_call_to_a_service_number_is_a_service_number_call() -> None:
    call = NewCall(Trunk.PSTN, OUTSIDE, "+358201234567", "+358201234567")
    assert route_of(route_call(call, None, None, POLICY, service_number=3)) == (
        Route.SERVICE_NUMBER
    )


def test_a_call_turned_away_was_not_connected() -> None:
    assert route_of(Announce("number-not-in-use", Cause.UNALLOCATED)) == Route.NOT_CONNECTED
    assert route_of(Hangup(Cause.USER_BUSY)) == Route.NOT_CONNECTED


@pytest.mark.parametrize(
    "decision",
    [ActivityMenu(7), ListenMailbox(7), ListenMailbox(None)],
)
def test_self_service_leaves_no_record(decision: object) -> None:
    assert route_of(decision) is None


def test_a_feature_code_leaves_no_record() -> None:
    request = parse_feature_code("9831")
    assert request is not None
    assert route_of(Feature(7, request)) is None


@pytest.mark.parametrize("status", ["NOANSWER", "BUSY", "CHANUNAVAIL"])
def test_nobody_answered_and_the_caller_reached_voicemail(status: str) -> None:
    assert route_after_ringing(after_ringing(USER, status)) == Route.VOICEMAIL


def test_a_caller_who_gave_up_keeps_the_route_it_had() -> None:
    assert route_after_ringing(after_ringing(USER, "CANCEL")) is None
    no_mailbox = replace(USER, voicemail_enabled=False)
    assert route_after_ringing(after_ringing(no_mailbox, "NOANSWER")) is None


def test_the_dialplans_report_tells_a_forwarding_from_a_ring() -> None:
    assert route_from_dial("7", "PJSIP/+358409999999@pstn") == Route.FORWARDED
    assert route_from_dial("7", "PJSIP/+358401234567@mobile&PJSIP/sp-7-1") == Route.RANG
    assert route_from_dial("", "PJSIP/+358451112222@pstn") == Route.RANG  # own call out


def test_every_route_and_direction_has_a_finnish_and_an_english_label() -> None:
    assert set(ROUTE_LABELS) == set(Route)
    assert set(DIRECTION_LABELS) == set(Direction)
    for fi, en in [*ROUTE_LABELS.values(), *DIRECTION_LABELS.values()]:
        assert fi and en and fi != en


# -- in, out, missed -----------------------------------------------------------------------


def test_own_calls_are_out_answered_or_not() -> None:
    assert direction(7, 7, 8, answered=True) == Direction.OUT
    assert direction(7, 7, None, answered=False) == Direction.OUT


def test_an_answered_call_to_the_user_is_in() -> None:
    assert direction(8, 7, 8, answered=True) == Direction.IN
    assert direction(8, None, 8, answered=True) == Direction.IN


def test_an_unanswered_call_to_the_user_is_missed() -> None:
    assert direction(8, 7, 8, answered=False) == Direction.MISSED


# -- length -------------------------------------------------------------------------------
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_an_answered_calls_length_is_its_talk_time() -> None:
    assert length_seconds(T0, T0 + timedelta(seconds=12), T0 + timedelta(seconds=75)) == 63


def test_an_unanswered_calls_length_is_how_long_it_lasted() -> None:
    assert length_seconds(T0, None, T0 + timedelta(seconds=31.4)) == 31


def test_a_call_whose_end_was_never_reported_has_no_length() -> None:
    assert length_seconds(T0, T0, None) is None


# -- the dialplan's end report --------------------------------------------------------------


def test_an_answered_call_reported_by_the_dialplan() -> None:
    end = end_from_report(
        "1700.1", T0, dial_status="ANSWER", answered_ms=40_000, dialed_ms=47_500,
        user="7", called="+358401234567", caller="+358451112222",
        dial="PJSIP/+358401234567@mobile",
    )  # fmt: skip
    assert end == RecordEnd(
        channel_id="1700.1",
        ended_at=T0,
        answered_at=T0 - timedelta(seconds=40),
        dial_status="ANSWER",
        started_at=T0 - timedelta(seconds=47.5),
        route=Route.RANG,
        caller_number="+358451112222",
        called_number="+358401234567",
        callee_user_id=7,
    )


def test_a_caller_who_gave_up_while_it_rang_was_not_answered() -> None:
    end = end_from_report(
        "1700.2", T0, dial_status="CANCEL", answered_ms=0, dialed_ms=5_000,
        user="", called="", caller="anonymous", dial="PJSIP/+358451112222@pstn",
    )  # fmt: skip
    assert end.answered_at is None
    assert end.started_at == T0 - timedelta(seconds=5)
    assert end.caller_number is None and end.called_number is None
    assert end.callee_user_id is None


# -- calls per day --------------------------------------------------------------------------


def test_calls_per_day_with_every_day_present() -> None:
    today = date(2026, 11, 26)
    counts = [
        (date(2026, 11, 25), Direction.IN, 1),
        (date(2026, 11, 25), Direction.MISSED, 2),
        (date(2026, 11, 25), Direction.MISSED, 1),  # rows of one day and direction add up
        (date(2026, 11, 26), Direction.OUT, 4),
        (date(2026, 11, 20), Direction.OUT, 9),  # before the range
        (date(2026, 11, 27), Direction.OUT, 9),  # after it
    ]
    assert per_day(counts, today, 3) == [
        DayCount(date(2026, 11, 24)),
        DayCount(date(2026, 11, 25), incoming=1, missed=3),
        DayCount(date(2026, 11, 26), outgoing=4),
    ]
    assert [d.total for d in per_day(counts, today, 3)] == [0, 4, 4]


def test_calls_per_day_needs_at_least_one_day() -> None:
    with pytest.raises(ValueError):
        per_day([], date(2026, 11, 26), 0)


def test_voicemail_decision_is_voicemail() -> None:
    assert route_of(Voicemail(7, "noanswer")) == Route.VOICEMAIL
