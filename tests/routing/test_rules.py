"""The routing rules, one test per rule, named as the service guide states them."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from vipcall.presence.model import Activity, Role
from vipcall.routing.decisions import (
    Announce,
    Cause,
    Handset,
    Hangup,
    Pstn,
    Ring,
    Softphone,
    Voicemail,
)
from vipcall.routing.decisions import (
    Presentation as CallerId,
)
from vipcall.routing.rules import Policy, after_ringing, route_call, route_inbound
from vipcall.routing.snapshot import NewCall, Organization, Trunk
from vipcall.routing.snapshot import Subscriber as User

ORG = Organization(id=1, switchboard="+35851234000")
MOBILE = "+358401234567"
LANDLINE = "+35891234567"
COLLEAGUE_MOBILE = "+358501234569"
EXTERNAL = "+358451112222"
POLICY = Policy(ring_timeout=30)


def user(**changes: object) -> User:
    base = User(id=7, org=ORG, mobile=MOBILE, landline=LANDLINE)
    return replace(base, **changes)  # type: ignore[arg-type]


def colleague(**changes: object) -> User:
    return replace(User(id=8, org=ORG, mobile=COLLEAGUE_MOBILE), **changes)  # type: ignore[arg-type]


def external_call(to: str | None) -> NewCall:
    return NewCall(Trunk.PSTN, caller=EXTERNAL, dialled=to)


def own_call(to: str | None, trunk: Trunk = Trunk.MOBILE) -> NewCall:
    return NewCall(trunk, caller=MOBILE, dialled=to)


# --- calls to a user ---------------------------------------------------------------


def test_call_to_mobile_rings_handset_and_softphones_together() -> None:
    callee = user(softphones=("sp-1", "sp-2"))
    decision = route_call(external_call(MOBILE), None, callee, POLICY)
    assert decision == Ring((Handset(MOBILE), Softphone("sp-1"), Softphone("sp-2")), 30, 7)


def test_call_to_landline_rings_the_same_phones() -> None:
    decision = route_call(external_call(LANDLINE), None, user(), POLICY)
    assert decision == Ring((Handset(MOBILE),), 30, 7)


def test_landline_call_while_at_lunch_goes_to_voicemail() -> None:
    decision = route_inbound(user(activity=Activity.LUNCH), LANDLINE, POLICY)
    assert decision == Voicemail(7, reason="landline-red")


def test_mobile_call_while_at_lunch_still_rings() -> None:
    decision = route_inbound(user(activity=Activity.LUNCH), MOBILE, POLICY)
    assert isinstance(decision, Ring)


def test_organisation_chooses_which_activities_are_red() -> None:
    org = Organization(id=1, red_activities=frozenset({Activity.REMOTE_WORK}))
    assert isinstance(route_inbound(user(org=org, activity=Activity.LUNCH), LANDLINE, POLICY), Ring)
    assert isinstance(
        route_inbound(user(org=org, activity=Activity.REMOTE_WORK), LANDLINE, POLICY), Voicemail
    )


def test_immediate_forwarding_beats_everything() -> None:
    callee = user(
        immediate_forward=EXTERNAL,
        activity=Activity.IN_MEETING,
        activity_forwards={Activity.IN_MEETING: "+35851234000"},
    )
    assert route_inbound(callee, LANDLINE, POLICY) == Ring((Pstn(EXTERNAL),), 30, 7)


def test_activity_forwarding_applies_while_that_activity_is_on() -> None:
    callee = user(
        activity=Activity.IN_MEETING, activity_forwards={Activity.IN_MEETING: "+35851234000"}
    )
    assert route_inbound(callee, LANDLINE, POLICY) == Ring((Pstn("+35851234000"),), 30, 7)
    other = replace(callee, activity=Activity.AVAILABLE)
    assert isinstance(route_inbound(other, LANDLINE, POLICY), Ring)
    assert route_inbound(other, LANDLINE, POLICY).targets == (Handset(MOBILE),)  # type: ignore[union-attr]


def test_number_nobody_has_is_not_in_use() -> None:
    assert route_call(external_call("+358409999999"), None, None, POLICY) == Announce(
        "number-not-in-use", Cause.UNALLOCATED
    )


# --- a user's own calls -------------------------------------------------------------


def test_handset_call_to_external_number_goes_out_showing_the_mobile_number() -> None:
    decision = route_call(own_call(EXTERNAL), user(), None, POLICY)
    assert decision == Ring((Pstn(EXTERNAL),), 0, None, CallerId(MOBILE))


def test_softphone_call_to_colleague_rings_the_colleague() -> None:
    decision = route_call(own_call(COLLEAGUE_MOBILE, Trunk.SOFTPHONE), user(), colleague(), POLICY)
    assert decision == Ring((Handset(COLLEAGUE_MOBILE),), 30, 8, CallerId(MOBILE))


def test_dialling_something_that_is_not_a_number_is_refused() -> None:
    assert route_call(own_call(None), user(), None, POLICY) == Announce(
        "number-not-in-use", Cause.INVALID_NUMBER
    )


def test_pstn_call_from_a_users_number_is_still_an_inbound_call() -> None:
    """Only the mobile core and softphones carry a user's own calls: a PSTN caller ID
    that happens to match a user is not trusted as the user."""
    decision = route_call(
        NewCall(Trunk.PSTN, MOBILE, COLLEAGUE_MOBILE), user(), colleague(), POLICY
    )
    assert decision == Ring((Handset(COLLEAGUE_MOBILE),), 30, 8)


def test_role_chooses_the_caller_id() -> None:
    def shown(**changes: object) -> CallerId | None:
        decision = route_call(own_call(EXTERNAL), user(**changes), None, POLICY)
        assert isinstance(decision, Ring)
        return decision.caller_id

    assert shown(role=Role.MOBILE) == CallerId(MOBILE)
    assert shown(role=Role.LANDLINE) == CallerId(LANDLINE)
    assert shown(role=Role.SWITCHBOARD) == CallerId("+35851234000")
    assert shown(role=Role.HIDDEN) == CallerId(MOBILE, restricted=True)
    assert shown(role=Role.ABSENCE_NOTICE) == CallerId(MOBILE)


def test_role_without_its_number_falls_back_to_the_mobile_number() -> None:
    no_switchboard = Organization(id=2)
    decision = route_call(
        own_call(EXTERNAL), user(role=Role.SWITCHBOARD, org=no_switchboard), None, POLICY
    )
    assert isinstance(decision, Ring) and decision.caller_id == CallerId(MOBILE)
    decision = route_call(own_call(EXTERNAL), user(role=Role.LANDLINE, landline=None), None, POLICY)
    assert isinstance(decision, Ring) and decision.caller_id == CallerId(MOBILE)


# --- when nobody answers ------------------------------------------------------------


def test_no_answer_busy_or_unreachable_goes_to_voicemail() -> None:
    for status in ("NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"):
        assert after_ringing(user(), status) == Voicemail(7, reason=status.lower())


def test_caller_who_gave_up_is_just_hung_up() -> None:
    assert after_ringing(user(), "CANCEL") == Hangup(Cause.NORMAL)


def test_user_without_voicemail_gives_the_caller_the_reason() -> None:
    no_voicemail = user(voicemail_enabled=False)
    assert after_ringing(no_voicemail, "BUSY") == Hangup(Cause.USER_BUSY)
    assert after_ringing(no_voicemail, "NOANSWER") == Hangup(Cause.NO_ANSWER)
    assert after_ringing(no_voicemail, "CHANUNAVAIL") == Hangup(Cause.UNREACHABLE)
    assert after_ringing(no_voicemail, "CONGESTION") == Hangup(Cause.CONGESTION)


def test_unanswered_outgoing_call_is_hung_up_with_the_far_ends_cause() -> None:
    assert after_ringing(None, "BUSY") == Hangup(Cause.USER_BUSY)


# --- properties over all combinations -------------------------------------------------

activities = st.sampled_from(list(Activity))
maybe_number = st.one_of(st.none(), st.sampled_from([EXTERNAL, "+35851234000", "+358407777777"]))


@given(
    activity=activities,
    immediate=maybe_number,
    forward_for=st.dictionaries(activities, st.sampled_from([EXTERNAL, "+358407777777"])),
    called=st.sampled_from([MOBILE, LANDLINE]),
)
def test_precedence_over_all_combinations(
    activity: Activity, immediate: str | None, forward_for: dict[Activity, str], called: str
) -> None:
    callee = user(activity=activity, immediate_forward=immediate, activity_forwards=forward_for)
    decision = route_inbound(callee, called, POLICY)
    if immediate is not None:
        assert decision == Ring((Pstn(immediate),), 30, 7)
    elif activity in forward_for:
        assert decision == Ring((Pstn(forward_for[activity]),), 30, 7)
    elif called == LANDLINE and callee.is_red:
        assert isinstance(decision, Voicemail)
    else:
        assert decision == Ring((Handset(MOBILE),), 30, 7)


@given(activity=activities, role=st.sampled_from(list(Role)))
def test_a_users_own_call_never_goes_to_their_voicemail(activity: Activity, role: Role) -> None:
    decision = route_call(own_call(EXTERNAL), user(activity=activity, role=role), None, POLICY)
    assert isinstance(decision, Ring) and decision.targets == (Pstn(EXTERNAL),)


# --- self-service (issue 3) ------------------------------------------------------------

ACTIVITY_NUMBER = "+358401621486"


def test_feature_code_from_own_phone_is_self_service() -> None:
    from vipcall.presence.codes import SetActivity
    from vipcall.routing.decisions import Feature

    call = NewCall(Trunk.MOBILE, MOBILE, None, raw="9833")
    assert route_call(call, user(), None, POLICY) == Feature(7, SetActivity(Activity.LUNCH))


def test_feature_code_from_outside_is_not_in_use() -> None:
    call = NewCall(Trunk.PSTN, EXTERNAL, None, raw="9833")
    assert route_call(call, None, None, POLICY) == Announce("number-not-in-use", Cause.UNALLOCATED)


def test_activity_number_from_own_handset_opens_the_menu() -> None:
    from vipcall.routing.decisions import ActivityMenu

    call = NewCall(Trunk.MOBILE, MOBILE, ACTIVITY_NUMBER, raw="0401621486")
    assert route_call(call, user(), None, POLICY) == ActivityMenu(7)


def test_activity_number_from_someone_else_says_not_a_service_user() -> None:
    call = NewCall(Trunk.MOBILE, EXTERNAL, ACTIVITY_NUMBER)
    assert route_call(call, None, None, POLICY) == Announce("not-service-user", Cause.NORMAL)


def test_forwarding_that_became_a_loop_is_passed_over_when_the_call_comes() -> None:
    callee = user(immediate_forward=COLLEAGUE_MOBILE, forward_hops={COLLEAGUE_MOBILE: (MOBILE,)})
    assert route_inbound(callee, MOBILE, POLICY) == Ring((Handset(MOBILE),), 30, 7)


def test_refused_immediate_forwarding_falls_back_to_activity_forwarding() -> None:
    callee = user(
        immediate_forward="+358600123456",
        activity=Activity.IN_MEETING,
        activity_forwards={Activity.IN_MEETING: EXTERNAL},
    )
    assert route_inbound(callee, MOBILE, POLICY) == Ring((Pstn(EXTERNAL),), 30, 7)


def test_role_without_a_number_is_reported_as_falling_back() -> None:
    from vipcall.routing.rules import role_falls_back

    assert role_falls_back(user(landline=None), Role.LANDLINE)
    assert not role_falls_back(user(), Role.LANDLINE)
    assert role_falls_back(user(org=Organization(id=3)), Role.SWITCHBOARD)
    assert not role_falls_back(user(), Role.HIDDEN)


def test_emergency_number_from_own_phone_goes_out_as_dialled() -> None:
    call = NewCall(Trunk.SOFTPHONE, MOBILE, None, raw="112", short="112")
    assert route_call(call, user(), None, POLICY) == Ring((Pstn("112"),), 0, None, CallerId(MOBILE))


def test_short_numbers_are_recognised() -> None:
    from vipcall.numbers import short_number

    assert short_number("112") == "112"
    assert short_number("116117") == "116117"
    assert short_number("12") is None
    assert short_number("9833") is None


def test_without_the_database_an_unanswered_caller_can_still_leave_a_message() -> None:
    from vipcall.routing.rules import after_ringing_without_state

    assert after_ringing_without_state(7, "NOANSWER") == Voicemail(7, reason="noanswer")
    assert after_ringing_without_state(7, "CANCEL") == Hangup(Cause.NORMAL)
    assert after_ringing_without_state(None, "BUSY") == Hangup(Cause.USER_BUSY)


# --- invalid dialled strings (issue 6): one rule whatever was dialled ----------------------


@given(st.sampled_from(["abc", "a", "x1", "*#", "12", "0000000", "sip:foo", "x98", ""]))
def test_own_call_to_anything_that_is_not_a_number_is_an_invalid_number(raw: str) -> None:
    from vipcall.numbers import short_number, try_normalize

    call = NewCall(Trunk.MOBILE, MOBILE, try_normalize(raw), raw=raw, short=short_number(raw))
    assert route_call(call, user(), None, POLICY) == Announce(
        "number-not-in-use", Cause.INVALID_NUMBER
    )


@given(st.sampled_from(["abc", "a", "x1", "*#", "12", "0000000", "sip:foo", "9833", ""]))
def test_call_from_outside_to_anything_no_user_has_is_not_in_use(raw: str) -> None:
    from vipcall.numbers import try_normalize

    call = NewCall(Trunk.PSTN, EXTERNAL, try_normalize(raw), raw=raw)
    assert route_call(call, None, None, POLICY) == Announce("number-not-in-use", Cause.UNALLOCATED)
