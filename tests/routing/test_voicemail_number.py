"""The voicemail number's rules (:func:`vipcall.routing.rules.route_voicemail_number`) and
the diverting number read from Diversion / History-Info headers, named as the service
guide states them."""

from __future__ import annotations

from dataclasses import replace

from vipcall.calls.entry import NewCallEntry, parse_entry
from vipcall.routing.decisions import Announce, Cause, ListenMailbox, Voicemail
from vipcall.routing.diversion import diverting_number, header_entries
from vipcall.routing.rules import DIVERTED, Policy, route_call, voicemail_number_lookup
from vipcall.routing.snapshot import NewCall, Organization, Trunk
from vipcall.routing.snapshot import Subscriber as User

ORG = Organization(id=1)
MOBILE = "+358401234567"
LANDLINE = "+35891234567"
OUTSIDER = "+358451112222"
POLICY = Policy()
VM = POLICY.voicemail_number
USER = User(id=7, org=ORG, mobile=MOBILE, landline=LANDLINE)


def call(trunk: Trunk, caller: str | None, diverted_from: str | None = None) -> NewCall:
    return NewCall(trunk, caller, VM, VM, diverted_from=diverted_from)


def test_own_handset_call_opens_own_mailbox() -> None:
    assert route_call(call(Trunk.MOBILE, MOBILE), USER, USER, POLICY) == ListenMailbox(7)


def test_own_softphone_call_opens_own_mailbox() -> None:
    assert route_call(call(Trunk.SOFTPHONE, MOBILE), USER, None, POLICY) == ListenMailbox(7)


def test_call_from_users_landline_opens_that_mailbox() -> None:
    # A desk phone calls in through the PSTN: the store found the user by the caller ID.
    assert route_call(call(Trunk.PSTN, LANDLINE), None, USER, POLICY) == ListenMailbox(7)


def test_users_mobile_number_from_outside_is_not_trusted_asks_for_mailbox_and_pin() -> None:
    assert route_call(call(Trunk.PSTN, MOBILE), None, USER, POLICY) == ListenMailbox(None)


def test_caller_who_is_no_user_asks_for_mailbox_and_pin() -> None:
    assert route_call(call(Trunk.PSTN, OUTSIDER), None, None, POLICY) == ListenMailbox(None)
    assert route_call(call(Trunk.PSTN, None), None, None, POLICY) == ListenMailbox(None)


def test_call_diverted_from_users_number_leaves_a_message_for_that_user() -> None:
    for number in (MOBILE, LANDLINE):
        diverted = call(Trunk.MOBILE, OUTSIDER, diverted_from=number)
        assert route_call(diverted, None, USER, POLICY) == Voicemail(7, reason=DIVERTED)


def test_diverted_call_wins_over_the_callers_own_mailbox() -> None:
    colleague = User(id=8, org=ORG, mobile="+358501234569")
    diverted = call(Trunk.MOBILE, colleague.mobile, diverted_from=MOBILE)
    assert route_call(diverted, colleague, USER, POLICY) == Voicemail(7, reason=DIVERTED)


def test_diverted_call_for_a_number_that_is_no_users_is_refused() -> None:
    diverted = call(Trunk.PSTN, OUTSIDER, diverted_from="+358409998877")
    assert route_call(diverted, None, None, POLICY) == Announce(
        "number-not-in-use", Cause.UNALLOCATED
    )


def test_diverted_call_for_user_without_voicemail_cannot_be_reached() -> None:
    no_vm = replace(USER, voicemail_enabled=False)
    diverted = call(Trunk.PSTN, OUTSIDER, diverted_from=MOBILE)
    assert route_call(diverted, None, no_vm, POLICY) == Announce(
        "user-cannot-be-reached", Cause.UNREACHABLE
    )


def test_store_looks_up_the_diverting_user_else_the_caller_id() -> None:
    assert voicemail_number_lookup(call(Trunk.PSTN, LANDLINE), POLICY) == LANDLINE
    assert voicemail_number_lookup(call(Trunk.PSTN, OUTSIDER, MOBILE), POLICY) == MOBILE
    other = NewCall(Trunk.PSTN, OUTSIDER, MOBILE, MOBILE)
    assert voicemail_number_lookup(other, POLICY) == MOBILE


def test_diversion_names_the_last_diverting_number_first() -> None:
    header = (
        "<sip:+358401234567@core.example;user=phone>;reason=no-answer;counter=1|"
        "<sip:0501112233@core.example>;reason=unconditional"
    )
    assert diverting_number(header, target=VM) == MOBILE


def test_diversion_in_national_form_and_tel_uri_is_normalised() -> None:
    assert diverting_number("<sip:0401234567@10.0.0.1>;reason=user-busy") == MOBILE
    assert diverting_number('"Aino" <tel:+358-40-1234567>;reason=unavailable') == MOBILE
    assert diverting_number("<sip:%2B358401234567@core>") == MOBILE


def test_history_info_names_the_last_number_before_the_voicemail_number() -> None:
    header = (
        "<sip:+358501112233@core>;index=1|<sip:+358401234567@core>;index=1.1|"
        "<sip:+358401621485@core?Reason=SIP%3Bcause%3D408>;index=1.1.1"
    )
    assert diverting_number(None, header, target=VM) == MOBILE


def test_no_header_or_no_number_is_not_diverted() -> None:
    assert diverting_number(None, None) is None
    assert diverting_number("", "") is None
    assert diverting_number("<sip:anonymous@anonymous.invalid>") is None
    assert diverting_number(f"<sip:{VM}@core>", target=VM) is None


def test_header_entries_keep_commas_inside_quotes_and_brackets() -> None:
    assert header_entries('"Doe, John" <sip:1@h>, <sip:2@h;a=b,c>') == [
        '"Doe, John" <sip:1@h>',
        "<sip:2@h;a=b,c>",
    ]


def test_stasis_arguments_carry_the_diversion_headers() -> None:
    assert parse_entry(["in", "mobile", "", "<sip:+358401234567@c>", ""]) == NewCallEntry(
        Trunk.MOBILE, None, "<sip:+358401234567@c>", None
    )
    assert parse_entry(["in", "pstn"]) == NewCallEntry(Trunk.PSTN)
    assert parse_entry(["in", "softphone", "sp-7-1"]) == NewCallEntry(Trunk.SOFTPHONE, "sp-7-1")
