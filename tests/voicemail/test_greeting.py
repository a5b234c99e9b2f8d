"""The voicemail greeting, rule by rule (vipcall.voicemail.greeting)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from vipcall.prompts.media import number_pieces, sound
from vipcall.voicemail.greeting import GreetingFacts, greeting, until_phrase

HEL = ZoneInfo("Europe/Helsinki")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 12.00 in Helsinki
NUMBER = "+35891234567"
NAME = "sound:http://127.0.0.1:9108/media/name/7-1.wav"
OWN = "sound:http://127.0.0.1:9108/media/greeting/7-1.wav"


def facts(**kw: object) -> GreetingFacts:
    return GreetingFacts(number=NUMBER, **kw)  # type: ignore[arg-type]


def test_without_name_or_greeting_the_number_is_spoken() -> None:
    out = greeting(facts(), NOW, HEL, "fi")
    assert out == [
        sound("number-word", "fi"),
        *number_pieces(NUMBER, "fi"),
        sound("voicemail-cannot-answer", "fi"),
        sound("voicemail-leave-message", "fi"),
    ]


def test_a_recorded_name_replaces_the_number() -> None:
    out = greeting(facts(name_url=NAME), NOW, HEL, "en")
    assert out[0] == NAME and sound("number-word", "en") not in out


def test_the_users_own_greeting_is_played_instead_of_the_default() -> None:
    out = greeting(facts(greeting_url=OWN, name_url=NAME), NOW, HEL, "fi")
    assert out == [OWN]


def test_activity_is_announced_only_when_the_setting_is_on_and_the_user_is_red() -> None:
    lunch = sound("activity-is-3", "fi")
    assert lunch not in greeting(facts(red_activity=3), NOW, HEL, "fi")
    assert lunch not in greeting(facts(announce_activity=True), NOW, HEL, "fi")
    out = greeting(facts(announce_activity=True, red_activity=3, name_url=NAME), NOW, HEL, "fi")
    assert out == [NAME, lunch, sound("voicemail-leave-message", "fi")]


def test_own_greeting_is_followed_by_the_activity_when_announced() -> None:
    out = greeting(
        facts(greeting_url=OWN, name_url=NAME, announce_activity=True, red_activity=6),
        NOW,
        HEL,
        "fi",
    )
    assert out == [OWN, NAME, sound("activity-is-6", "fi")]


def test_end_time_today_is_a_clock_time_until() -> None:
    until = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)  # 14.30 Helsinki
    fi = until_phrase(until, NOW, HEL, "fi")
    assert fi == [sound("time-at", "fi"), sound("num-14", "fi"), sound("num-30", "fi"),
                  sound("until", "fi")]  # fmt: skip
    en = until_phrase(until, NOW, HEL, "en")
    assert en[0] == sound("until", "en") and en[-1] == sound("time-pm", "en")


def test_end_time_tomorrow_says_tomorrow_and_further_away_a_date() -> None:
    tomorrow = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 8.00 Helsinki
    assert until_phrase(tomorrow, NOW, HEL, "fi")[0] == sound("tomorrow", "fi")
    later = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    out = until_phrase(later, NOW, HEL, "fi")
    assert out[:2] == [sound("day-7", "fi"), sound("month-12", "fi")]


def test_end_time_is_said_only_with_both_settings_on() -> None:
    until = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
    base = {"red_activity": 3, "red_until": until}
    assert sound("until", "fi") not in greeting(
        facts(announce_end_time=True, **base), NOW, HEL, "fi"
    )
    assert sound("until", "fi") not in greeting(
        facts(announce_activity=True, **base), NOW, HEL, "fi"
    )
    both = greeting(facts(announce_activity=True, announce_end_time=True, **base), NOW, HEL, "fi")
    assert sound("until", "fi") in both


def test_keys_1_and_2_are_offered_before_the_tone_when_set() -> None:
    out = greeting(facts(offer_key_1=True, offer_key_2=True), NOW, HEL, "fi")
    assert out[-2:] == [sound("voicemail-press-1-other-number", "fi"),
                        sound("voicemail-press-2-reach", "fi")]  # fmt: skip
