"""What a caller hears at the absence notice and what each key does
(:mod:`vipcall.absence.rules`): one test per rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vipcall.absence.rules import (
    ANNOUNCEMENTS,
    CustomerService,
    RingUser,
    after_notice,
    choice,
    customer_service_ring,
    notice_media,
    ring_past_notice,
    shown_caller_id,
)
from vipcall.presence.model import Role
from vipcall.prompts.media import prompt_text
from vipcall.routing.decisions import (
    AbsenceNotice,
    Announce,
    Cause,
    Handset,
    Presentation,
    Pstn,
    Ring,
    Softphone,
    Voicemail,
)
from vipcall.routing.rules import ABSENCE_NOTICE, ANONYMOUS, ROUTED_TO_VOICEMAIL, Policy
from vipcall.routing.snapshot import NewCall, Organization, Subscriber, Trunk

ORG = Organization(id=1)
USER = Subscriber(id=7, org=ORG, mobile="+358401234567", softphones=("sp-7-1",))
COLLEAGUE = Subscriber(
    id=8, org=Organization(id=1, switchboard="+35891110000"), mobile="+358401112222"
)
SERVICE = "+358201234567"
HOLIDAY = AbsenceNotice(7, 6)


def said(media: list[str]) -> str:
    """The sentence a list of ``sound:vipcall/<lang>/<id>`` URIs speaks."""
    parts = [uri.rsplit("/", 2) for uri in media]
    return " ".join(prompt_text(pid, lang) for _, lang, pid in parts)


def test_notice_media_names_the_activity_and_offers_key_2() -> None:
    assert said(notice_media(HOLIDAY, "fi")) == (
        "Tavoittelemasi henkilö on lomalla Jos haluat puhelun siirtyvän tavoittelemallesi"
        " henkilölle, valitse 2."
    )
    assert said(notice_media(AbsenceNotice(7, 3), "en")) == (
        "The person you called is at lunch To have the call put through to the person you"
        " called, press 2."
    )


@pytest.mark.parametrize("activity", range(1, 9))
def test_notice_media_speaks_each_activity(activity: int) -> None:
    media = notice_media(AbsenceNotice(7, activity), "fi")
    assert media[1] == f"sound:vipcall/fi/activity-is-{activity}"


def test_notice_media_offers_key_1_only_with_a_customer_service_number() -> None:
    offered = notice_media(AbsenceNotice(7, 5, customer_service=SERVICE), "fi")
    assert offered == [*notice_media(AbsenceNotice(7, 5), "fi"),
                       "sound:vipcall/fi/absence-press-1-customer-service"]  # fmt: skip
    assert said(offered[-1:]) == "Asiakaspalveluun pääset valitsemalla 1."


def test_notice_media_does_not_depend_on_voicemail() -> None:
    assert notice_media(AbsenceNotice(7, 6, voicemail=False), "fi") == notice_media(HOLIDAY, "fi")


def test_choice_key_2_rings_the_user() -> None:
    assert choice(HOLIDAY, "2") == RingUser()


def test_choice_key_1_only_when_offered() -> None:
    assert choice(AbsenceNotice(7, 6, SERVICE), "1") == CustomerService(SERVICE)
    assert choice(HOLIDAY, "1") is None


@pytest.mark.parametrize("digit", [None, "0", "3", "9", "*", "#"])
def test_choice_no_key_or_another_key_is_no_choice(digit: str | None) -> None:
    assert choice(AbsenceNotice(7, 6, SERVICE), digit) is None


def test_notice_is_played_twice() -> None:
    assert ANNOUNCEMENTS == 2


def test_after_notice_the_caller_may_leave_a_message() -> None:
    then = after_notice(HOLIDAY)
    assert then == Voicemail(7, reason=ABSENCE_NOTICE)
    assert then.reason in ROUTED_TO_VOICEMAIL


def test_after_notice_without_voicemail_the_user_cannot_be_reached() -> None:
    assert after_notice(AbsenceNotice(7, 6, voicemail=False)) == Announce(
        "user-cannot-be-reached", Cause.UNREACHABLE
    )


def test_key_2_rings_the_handset_and_softphones() -> None:
    ring = ring_past_notice(USER, Policy(ring_timeout=30), None)
    assert ring == Ring((Handset(USER.mobile), Softphone("sp-7-1")), 30, 7, None)


def test_key_1_calls_the_number_out_without_voicemail_after_it() -> None:
    assert customer_service_ring(SERVICE, Policy(), None) == Ring((Pstn(SERVICE),), 0, None, None)
    limited = customer_service_ring(SERVICE, Policy(outbound_timeout=60), ANONYMOUS)
    assert limited == Ring((Pstn(SERVICE),), 60, None, ANONYMOUS)


def test_caller_id_from_outside_is_kept_or_made_anonymous() -> None:
    plain = NewCall(Trunk.PSTN, "+358501110001", USER.mobile)
    assert shown_caller_id(plain, USER, 7) is None
    odd = NewCall(Trunk.PSTN, None, USER.mobile, caller_sent="x" * 40)
    assert shown_caller_id(odd, USER, 7) == ANONYMOUS


def test_caller_id_of_a_colleagues_own_call_is_their_roles_number() -> None:
    own = NewCall(Trunk.MOBILE, COLLEAGUE.mobile, USER.mobile)
    assert shown_caller_id(own, COLLEAGUE, 7) == Presentation(COLLEAGUE.mobile)
    switchboard = replace(COLLEAGUE, role=Role.SWITCHBOARD)
    assert shown_caller_id(own, switchboard, 7) == Presentation("+35891110000")
