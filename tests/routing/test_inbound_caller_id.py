"""The inbound caller-ID rule (``inbound_caller_id``): what a rung party is shown for the
caller ID a call came in with. A valid number is shown in E.164; anything else is shown as
anonymous, presentation restricted, on every leg."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import example, given
from hypothesis import strategies as st

from vipcall.numbers import is_e164, try_normalize
from vipcall.routing.decisions import Handset, Presentation, Pstn, Ring
from vipcall.routing.rules import (
    ANONYMOUS,
    Policy,
    caller_id_change,
    inbound_caller_id,
    route_call,
)
from vipcall.routing.snapshot import NewCall, Organization, Subscriber, Trunk

ORG = Organization(id=1)
MOBILE = "+358401234567"
CALLEE = Subscriber(id=7, org=ORG, mobile=MOBILE)
POLICY = Policy(ring_timeout=30)


def arriving(sent: str, trunk: Trunk = Trunk.PSTN) -> NewCall:
    """A call to the callee as the front door builds it from the caller ID ``sent``."""
    return NewCall(trunk, try_normalize(sent), MOBILE, caller_sent=sent)


def shown_to_the_handset(sent: str, callee: Subscriber = CALLEE) -> Presentation | None:
    decision = route_call(arriving(sent), None, callee, POLICY)
    assert isinstance(decision, Ring), decision
    return decision.caller_id


def test_inbound_caller_id_shows_a_valid_number_in_e164() -> None:
    assert inbound_caller_id(arriving("+358501110001")) == Presentation("+358501110001")
    assert inbound_caller_id(arriving("0501110001")) == Presentation("+358501110001")
    assert inbound_caller_id(arriving("00358501110001")) == Presentation("+358501110001")


def test_inbound_caller_id_of_a_thousand_digits_is_anonymous() -> None:
    assert inbound_caller_id(arriving("9" * 1000)) == ANONYMOUS
    assert shown_to_the_handset("9" * 1000) == Presentation("anonymous", restricted=True)


def test_inbound_caller_id_of_letters_is_anonymous() -> None:
    assert shown_to_the_handset("abcdef") == ANONYMOUS
    assert shown_to_the_handset("Matti Meikäläinen") == ANONYMOUS


def test_inbound_caller_id_that_is_empty_or_missing_is_anonymous() -> None:
    assert shown_to_the_handset("") == ANONYMOUS
    assert route_call(NewCall(Trunk.PSTN, None, MOBILE), None, CALLEE, POLICY) == Ring(
        (Handset(MOBILE),), 30, 7, ANONYMOUS
    )


def test_inbound_caller_id_of_digits_no_numbering_plan_has_is_anonymous() -> None:
    assert shown_to_the_handset("12") == ANONYMOUS
    assert shown_to_the_handset("+999123456789") == ANONYMOUS


def test_inbound_caller_id_already_in_e164_is_passed_on_unchanged() -> None:
    """Nothing to rewrite: the caller's own ID (and any restriction they asked for) stays."""
    assert shown_to_the_handset("+358501110001") is None
    assert caller_id_change(NewCall(Trunk.PSTN, "+358501110001", MOBILE)) is None


def test_inbound_caller_id_in_another_spelling_is_rewritten_to_e164() -> None:
    assert shown_to_the_handset("050 111 0001") == Presentation("+358501110001")


def test_inbound_caller_id_applies_to_a_forwarded_call_too() -> None:
    forwarding = replace(CALLEE, immediate_forward="+358451112222")
    decision = route_call(arriving("x" * 300), None, forwarding, POLICY)
    assert decision == Ring((Pstn("+358451112222"),), 30, 7, ANONYMOUS)


def test_inbound_caller_id_never_replaces_a_users_own_role_caller_id() -> None:
    """A user's own call shows their role's number, whatever their handset sent."""
    colleague = Subscriber(id=8, org=ORG, mobile="+358501234569")
    call = NewCall(Trunk.MOBILE, MOBILE, colleague.mobile, caller_sent="0401234567")
    decision = route_call(call, CALLEE, colleague, POLICY)
    assert isinstance(decision, Ring) and decision.caller_id == Presentation(MOBILE)


odd_strings = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789+", min_size=0, max_size=1200),
    st.text(alphabet='0123456789 ()-./+#*abcXYZ;@<>"|,', max_size=60),
    st.integers(min_value=0, max_value=10**40).map(str),
)


@given(odd_strings)
@example("9" * 1000)
@example("anonymous")
@example("+358501110001|PJSIP/evil@pstn")
@example("")
def test_inbound_caller_id_is_always_e164_or_anonymous(sent: str) -> None:
    shown = inbound_caller_id(arriving(sent))
    if shown.restricted:
        assert shown == ANONYMOUS
    else:
        assert shown.number is not None and is_e164(shown.number), shown
        assert shown.number == try_normalize(sent)
    # What actually changes on the call is the same thing, or nothing when the caller
    # already sent exactly that E.164 number.
    change = shown_to_the_handset(sent)
    assert change == shown or (change is None and sent == shown.number)
    # Nothing of a string that is not a number reaches the rung party.
    if change is not None and change.number is not None:
        assert len(change.number) <= 16
        assert change.number == "anonymous" or change.number.lstrip("+").isdigit()


def test_inbound_caller_id_reaches_the_dialplan_as_anonymous_and_prohib() -> None:
    """The ``VIP_RING`` fields ``[vipcall-ring]`` sets CALLERID(num)/(num-pres) from."""
    from vipcall.calls.dialplan import ring_spec

    ring = route_call(arriving("9" * 1000), None, CALLEE, POLICY)
    assert isinstance(ring, Ring)
    assert ring_spec(ring, MOBILE) == f"30|7|{MOBILE}|anonymous|prohib|PJSIP/{MOBILE}@mobile"
    ring = route_call(arriving("0501110001"), None, CALLEE, POLICY)
    assert isinstance(ring, Ring)
    assert ring_spec(ring, MOBILE) == f"30|7|{MOBILE}|+358501110001||PJSIP/{MOBILE}@mobile"


def test_a_display_name_with_control_characters_is_dropped_the_number_shown() -> None:
    call = replace(arriving("+358501110051"), caller_name="\x1b[31mEvil\x7f")
    assert caller_id_change(call) == Presentation("+358501110051")


def test_a_bidi_override_in_the_name_is_dropped_too() -> None:
    call = replace(arriving("+358501110051"), caller_name="Maija \u202eakkiS")
    assert caller_id_change(call) == Presentation("+358501110051")


def test_letters_of_any_script_in_the_name_pass_unchanged() -> None:
    call = replace(arriving("+358501110050"), caller_name="Äijä Öhman 名前 😀")
    assert caller_id_change(call) is None
