"""What a caller sent to voicemail hears and which keys work (vipcall.voicemail.deposit's pure
part: plan_greeting, shown_caller_id)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from vipcall.calls.media import MediaKind, media_uri
from vipcall.presence.model import Activity, Role
from vipcall.prompts.media import number_pieces, sound
from vipcall.routing.decisions import Presentation
from vipcall.routing.rules import ABSENCE_NOTICE, ANONYMOUS, LANDLINE_RED
from vipcall.routing.snapshot import NewCall, Organization, Subscriber, Trunk
from vipcall.store.mailbox import MailboxProfile
from vipcall.voicemail.deposit import full_mailbox, plan_greeting, shown_caller_id
from vipcall.voicemail.limits import MailboxLimits

URL = "http://127.0.0.1:9108"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 12.00 in Helsinki
LANDLINE = "+35891234567"
MOBILE = "+358401234567"
ORG = Organization(id=1)
GREEN = Subscriber(id=7, org=ORG, mobile=MOBILE, landline=LANDLINE)
AT_LUNCH = replace(
    GREEN, activity=Activity.LUNCH, red_until=datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
)
PROFILE = MailboxProfile(user_id=7, mobile=MOBILE, limits=MailboxLimits(), messages=0)


def plan(profile: MailboxProfile = PROFILE, user: Subscriber | None = GREEN,
         reason: str = "noanswer", service_max: int = 180):  # type: ignore[no-untyped-def]  # fmt: skip
    return plan_greeting(profile, user, reason, LANDLINE, URL, NOW, service_max)


def test_nothing_recorded_the_dialled_number_is_spoken_and_no_keys() -> None:
    p = plan()
    assert p.media == [
        sound("number-word", "fi"),
        *number_pieces(LANDLINE, "fi"),
        sound("voicemail-cannot-answer", "fi"),
        sound("voicemail-leave-message", "fi"),
    ]
    assert not p.offers_keys and p.key1 is None and not p.key2


def test_the_users_own_greeting_is_played_from_the_apps_media_url() -> None:
    p = plan(replace(PROFILE, greeting_version=123, name_version=123))
    assert p.media == [media_uri(URL, MediaKind.GREETING, 7, 123)]


def test_the_recorded_name_stands_for_the_number() -> None:
    p = plan(replace(PROFILE, name_version=5))
    assert p.media[0] == media_uri(URL, MediaKind.NAME, 7, 5)
    assert sound("number-word", "fi") not in p.media


def test_activity_and_end_time_while_red_when_the_user_wants_them() -> None:
    on = replace(PROFILE, announce_activity=True, announce_end_time=True)
    p = plan(on, AT_LUNCH, LANDLINE_RED)
    assert sound("activity-is-3", "fi") in p.media
    assert sound("until", "fi") in p.media  # 14.30 Helsinki time
    assert sound("num-14", "fi") in p.media and sound("num-30", "fi") in p.media
    # Off by default; a green user has no activity to tell.
    assert sound("activity-is-3", "fi") not in plan(PROFILE, AT_LUNCH, LANDLINE_RED).media
    assert not any("activity-is" in m for m in plan(on, GREEN).media)
    # Activity without end time.
    only = plan(replace(on, announce_end_time=False), AT_LUNCH, LANDLINE_RED).media
    assert sound("activity-is-3", "fi") in only and sound("until", "fi") not in only


def test_the_organisations_time_zone_says_the_end_time() -> None:
    on = replace(PROFILE, announce_activity=True, announce_end_time=True, time_zone="UTC")
    media = plan(on, AT_LUNCH, LANDLINE_RED).media
    assert sound("num-12", "fi") in media and sound("num-14", "fi") not in media


def test_key_1_offered_when_the_user_set_a_number() -> None:
    p = plan(replace(PROFILE, key1_target="+358501234000"))
    assert p.key1 == "+358501234000" and p.offers_keys
    assert p.media[-1] == sound("voicemail-press-1-other-number", "fi")


def test_key_2_only_after_a_routing_rule_and_with_the_setting_on() -> None:
    bypass = replace(PROFILE, offer_bypass=True)
    red = plan(bypass, AT_LUNCH, LANDLINE_RED)
    assert red.key2 and red.media[-1] == sound("voicemail-press-2-reach", "fi")
    for reason in ("noanswer", "busy", "chanunavail"):
        unanswered = plan(bypass, AT_LUNCH, reason)
        assert not unanswered.key2
        assert sound("voicemail-press-2-reach", "fi") not in unanswered.media
    assert not plan(PROFILE, AT_LUNCH, LANDLINE_RED).key2  # setting off
    assert not plan(bypass, None, LANDLINE_RED).key2  # the user could not be read


def test_after_the_absence_notice_only_leave_a_message() -> None:
    everything = replace(
        PROFILE, announce_activity=True, announce_end_time=True, offer_bypass=True,
        key1_target="+358501234000", greeting_version=1, name_version=1,
    )  # fmt: skip
    p = plan(everything, AT_LUNCH, ABSENCE_NOTICE)
    assert p.media == [sound("voicemail-leave-message", "fi")]
    assert not p.offers_keys


def test_a_full_mailbox_says_so_and_still_offers_the_greetings_keys() -> None:
    keys = replace(PROFILE, key1_target="+358501234000", offer_bypass=True, greeting_version=1)
    full = full_mailbox(plan(keys, AT_LUNCH, LANDLINE_RED), "fi")
    assert full.media == [
        sound("voicemail-mailbox-full", "fi"),
        sound("voicemail-press-1-other-number", "fi"),
        sound("voicemail-press-2-reach", "fi"),
    ]
    assert full.key1 == "+358501234000" and full.key2
    none = full_mailbox(plan(), "fi")
    assert none.media == [sound("voicemail-mailbox-full", "fi")] and not none.offers_keys


def test_message_length_is_the_organisations_within_the_services_limit() -> None:
    short = replace(PROFILE, limits=MailboxLimits(max_message_seconds=60))
    assert plan(short).max_seconds == 60
    assert plan(short, service_max=20).max_seconds == 20


def test_language_is_the_organisations() -> None:
    assert plan(replace(PROFILE, language="en")).media[0] == sound("number-word", "en")


def test_caller_id_of_the_phones_a_key_rings() -> None:
    outside = NewCall(Trunk.PSTN, "+358501110005", LANDLINE, caller_sent="+358501110005")
    assert shown_caller_id(outside, GREEN, 7) is None  # the caller's own number, unchanged
    hidden = NewCall(Trunk.PSTN, None, LANDLINE, caller_sent="abc")
    assert shown_caller_id(hidden, GREEN, 7) == ANONYMOUS
    colleague = replace(GREEN, id=8, mobile="+358401230008", role=Role.HIDDEN)
    own = NewCall(Trunk.MOBILE, colleague.mobile, LANDLINE)
    assert shown_caller_id(own, colleague, 7) == Presentation(colleague.mobile, restricted=True)
