"""The absence notice, VIP contacts and repeat callers: one test per rule of the guide.

Precedence: immediate forwarding > activity forwarding > absence notice (VIP and repeat
callers excepted) > landline while red -> voicemail > ring.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from vipcall.presence.absence import AbsenceSettings, breaks_through, recent_calls
from vipcall.presence.model import Activity, Role
from vipcall.routing.decisions import AbsenceNotice, Announce, Cause, Pstn, Ring, Voicemail
from vipcall.routing.rules import Policy, route_inbound
from vipcall.routing.snapshot import Organization, Subscriber

ORG = Organization(id=1)
MOBILE, LANDLINE, ELSEWHERE = "+358401234567", "+35891234567", "+358451112222"
POLICY = Policy()
REPEAT = AbsenceSettings(repeat_calls=3, repeat_minutes=10)


def user(**changes: object) -> Subscriber:
    base = Subscriber(id=7, org=ORG, mobile=MOBILE, landline=LANDLINE)
    return replace(base, **changes)  # type: ignore[arg-type]


ON_HOLIDAY_ROLE_5 = {"activity": Activity.ON_HOLIDAY, "role": Role.ABSENCE_NOTICE}


def test_role_5_and_a_red_activity_sends_every_call_to_the_notice() -> None:
    for called in (MOBILE, LANDLINE):
        assert route_inbound(user(**ON_HOLIDAY_ROLE_5), called, POLICY) == AbsenceNotice(7, 6)


def test_role_5_while_green_rings() -> None:
    decision = route_inbound(user(role=Role.ABSENCE_NOTICE), MOBILE, POLICY)
    assert isinstance(decision, Ring)


def test_a_red_activity_without_role_5_does_not_play_the_notice() -> None:
    assert isinstance(route_inbound(user(activity=Activity.ON_HOLIDAY), MOBILE, POLICY), Ring)


def test_with_the_setting_a_scheduled_red_activity_alone_switches_the_notice_on() -> None:
    setting = AbsenceSettings(notice_on_scheduled_red=True)
    scheduled = user(activity=Activity.AWAY, activity_scheduled=True, absence=setting)
    assert route_inbound(scheduled, MOBILE, POLICY) == AbsenceNotice(7, 5)
    manual = replace(scheduled, activity_scheduled=False)
    assert isinstance(route_inbound(manual, MOBILE, POLICY), Ring)


def test_vip_contacts_bypass_the_notice() -> None:
    decision = route_inbound(user(**ON_HOLIDAY_ROLE_5, caller_is_vip=True), MOBILE, POLICY)
    assert isinstance(decision, Ring)


def test_vip_contacts_bypass_only_the_notice_not_the_red_landline_rule() -> None:
    vip = user(activity=Activity.LUNCH, caller_is_vip=True)
    assert route_inbound(vip, LANDLINE, POLICY) == Voicemail(7, reason="landline-red")


def test_forwarding_comes_before_the_notice() -> None:
    forwarded = user(**ON_HOLIDAY_ROLE_5, immediate_forward=ELSEWHERE)
    assert route_inbound(forwarded, MOBILE, POLICY) == Ring((Pstn(ELSEWHERE),), 30, 7)


def test_the_notice_offers_customer_service_when_the_user_set_it() -> None:
    cs = AbsenceSettings(customer_service="+358201234567")
    decision = route_inbound(user(**ON_HOLIDAY_ROLE_5, absence=cs), MOBILE, POLICY)
    assert decision == AbsenceNotice(7, 6, customer_service="+358201234567")


def test_no_voicemail_user_the_notice_ends_without_a_message() -> None:
    decision = route_inbound(user(**ON_HOLIDAY_ROLE_5, voicemail_enabled=False), MOBILE, POLICY)
    assert decision == AbsenceNotice(7, 6, voicemail=False)


def test_no_voicemail_user_red_landline_hears_cannot_be_reached() -> None:
    decision = route_inbound(user(activity=Activity.LUNCH, voicemail_enabled=False), LANDLINE,
                             POLICY)  # fmt: skip
    assert decision == Announce("user-cannot-be-reached", Cause.UNREACHABLE)


def test_repeat_caller_breaks_through_the_notice_on_the_nth_call() -> None:
    second = user(**ON_HOLIDAY_ROLE_5, absence=REPEAT, earlier_stopped_calls=1)
    assert isinstance(route_inbound(second, MOBILE, POLICY), AbsenceNotice)
    third = replace(second, earlier_stopped_calls=2)
    assert isinstance(route_inbound(third, MOBILE, POLICY), Ring)


def test_repeat_caller_breaks_through_the_red_landline_rule() -> None:
    third = user(activity=Activity.LUNCH, absence=REPEAT, earlier_stopped_calls=2)
    assert isinstance(route_inbound(third, LANDLINE, POLICY), Ring)


def test_repeat_callers_are_off_by_default() -> None:
    assert not breaks_through(50, AbsenceSettings())


def test_only_calls_within_the_window_count() -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    times = [now - timedelta(minutes=m) for m in (1, 9, 11, 30)]
    assert recent_calls(times, now, REPEAT) == 2


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
)
def test_precedence_over_all_combinations(
    activity: Activity,
    role: Role,
    scheduled: bool,
    on_scheduled: bool,
    vip: bool,
    earlier: int,
    repeat: int | None,
    landline: bool,
    voicemail: bool,
) -> None:
    settings = AbsenceSettings(notice_on_scheduled_red=on_scheduled, repeat_calls=repeat)
    callee = user(
        activity=activity,
        role=role,
        activity_scheduled=scheduled,
        absence=settings,
        caller_is_vip=vip,
        earlier_stopped_calls=earlier,
        voicemail_enabled=voicemail,
    )
    decision = route_inbound(callee, LANDLINE if landline else MOBILE, POLICY)
    red = callee.is_red
    through = repeat is not None and earlier >= repeat - 1
    notice = red and (role == Role.ABSENCE_NOTICE or (on_scheduled and scheduled))
    if notice and not vip and not through:
        assert isinstance(decision, AbsenceNotice)
    elif landline and red and not through:
        assert isinstance(decision, Voicemail if voicemail else Announce)
    else:
        assert isinstance(decision, Ring)
