"""What a caller hears before the tone. Pure: media URIs from the facts of one call.

* The user's own recorded greeting if there is one; else a default greeting with the user's
  recorded name; else the number spoken ("Numero 0 4 0 ...").
* With *announce activity* on and the user red: the activity ("... on lounaalla" / "... is at
  lunch"); with *announce end time* also: until when — the end of the last activity in the
  chain of consecutive red scheduled activities ("klo 14.30 asti", "huomenna klo 8 asti",
  a date when it is further away), in the organisation's time zone.
* Key 1 (a number set for work matters) and key 2 (only when a routing rule, not an
  unanswered call, sent the caller here) are offered before the tone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from vipcall.prompts.media import date_pieces, number_pieces, resolve_lang, sound, time_pieces


@dataclass(frozen=True, slots=True)
class GreetingFacts:
    """Everything a greeting depends on."""

    number: str
    """The user's number the caller dialled (E.164), spoken when there is no name."""
    greeting_url: str | None = None
    """Media URI of the user's own recorded greeting."""
    name_url: str | None = None
    """Media URI of the user's recorded name."""
    red_activity: int | None = None
    """The activity in effect, when it is red; ``None`` when the user is green."""
    red_until: datetime | None = None
    announce_activity: bool = False
    announce_end_time: bool = False
    offer_key_1: bool = False
    offer_key_2: bool = False


def until_phrase(until: datetime, now: datetime, tz: ZoneInfo, lang: str) -> list[str]:
    """ "klo 14.30 asti" today, "huomenna klo 8 asti" tomorrow, else with the date."""
    lg = resolve_lang(lang)
    local, today = until.astimezone(tz), now.astimezone(tz).date()
    if local.date() == today:
        day: list[str] = []
    elif local.date() == today + timedelta(days=1):
        day = [sound("tomorrow", lg)]
    else:
        day = date_pieces(local.date(), lg)
    parts = day + time_pieces(local, lg)
    return [*parts, sound("until", lg)] if lg == "fi" else [sound("until", lg), *parts]


def subject(facts: GreetingFacts, lang: str) -> list[str]:
    """Who the greeting is about: the recorded name, else the number."""
    if facts.name_url is not None:
        return [facts.name_url]
    return [sound("number-word", lang), *number_pieces(facts.number, lang)]


def activity_sentence(facts: GreetingFacts, now: datetime, tz: ZoneInfo, lang: str) -> list[str]:
    """ "<who> on lounaalla [klo 14.30 asti]" when the setting is on and the user is red."""
    if not facts.announce_activity or facts.red_activity is None:
        return []
    out = [sound(f"activity-is-{facts.red_activity}", lang)]
    if facts.announce_end_time and facts.red_until is not None:
        out += until_phrase(facts.red_until, now, tz, lang)
    return out


def greeting(facts: GreetingFacts, now: datetime, tz: ZoneInfo, lang: str) -> list[str]:
    """The whole greeting up to (not including) the tone."""
    lg = resolve_lang(lang)
    activity = activity_sentence(facts, now, tz, lg)
    if facts.greeting_url is not None:
        out = [facts.greeting_url]
        if activity:
            out += [*subject(facts, lg), *activity]
    elif activity:
        out = [*subject(facts, lg), *activity, sound("voicemail-leave-message", lg)]
    else:
        out = [*subject(facts, lg), sound("voicemail-cannot-answer", lg)]
        out.append(sound("voicemail-leave-message", lg))
    return out + key_prompts(facts, lg)


def key_prompts(facts: GreetingFacts, lang: str) -> list[str]:
    """ "press 1 …", "press 2 …" for the keys offered (the greeting's last words)."""
    lg = resolve_lang(lang)
    out = []
    if facts.offer_key_1:
        out.append(sound("voicemail-press-1-other-number", lg))
    if facts.offer_key_2:
        out.append(sound("voicemail-press-2-reach", lg))
    return out
