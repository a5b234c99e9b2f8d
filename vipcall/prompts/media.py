"""Prompt ids -> Asterisk media URIs, and composers that build sentences from pieces.

Every function here is pure: it takes plain values and returns media URIs
(``sound:vipcall/<lang>/<id>``) in playing order, ready for ARI ``play``
(``media=`` accepts them comma-separated, see :func:`join_media`). Unknown ids
raise :class:`~vipcall.prompts.catalog.UnknownPromptError`; an unknown language
falls back to Finnish.

Asterisk resolves ``sound:vipcall/fi/x`` to ``<astdatadir>/sounds/vipcall/fi/x.wav``,
so the sandbox makes ``sounds/vipcall`` point at this repository's ``sounds/``.

Times and dates are read as given: pass local (Europe/Helsinki) wall-clock values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Final

from vipcall.presence.forwarding import Refusal
from vipcall.presence.model import ACTIVITY_MAX, ACTIVITY_MIN, ROLE_MAX, ROLE_MIN
from vipcall.prompts.catalog import DEFAULT_LANG, LANGS, Lang, catalog

SOUND_PREFIX: Final = "sound:vipcall"
ACTIVITIES: Final = range(ACTIVITY_MIN, ACTIVITY_MAX + 1)
ROLES: Final = range(ROLE_MIN, ROLE_MAX + 1)
HOLIDAY_ACTIVITY: Final = 6
MAX_NUM_PIECE: Final = 59


#: Why a forwarding target was refused; values match ``forward-refused-<value>``.
ForwardRefusal = Refusal


# --- basics -------------------------------------------------------------------------


def resolve_lang(lang: str | None) -> Lang:
    """``"fi"``/``"en"`` (case-insensitive, ``"en-GB"`` -> en); anything else -> fi."""
    code = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    for known in LANGS:
        if code == known:
            return known
    return DEFAULT_LANG


def sound(prompt_id: str, lang: str | None = DEFAULT_LANG) -> str:
    """Media URI of one prompt, e.g. ``sound:vipcall/fi/feature-activated``.

    Raises :class:`UnknownPromptError` if the id is not in the catalogue.
    """
    catalog().require(prompt_id)
    return f"{SOUND_PREFIX}/{resolve_lang(lang)}/{prompt_id}"


def sounds(prompt_ids: Iterable[str], lang: str | None = DEFAULT_LANG) -> list[str]:
    """Media URIs of several prompts, in order."""
    return [sound(pid, lang) for pid in prompt_ids]


def join_media(uris: Sequence[str]) -> str:
    """The comma-separated ``media`` parameter of ARI ``POST /channels/{id}/play``."""
    return ",".join(uris)


def prompt_text(prompt_id: str, lang: str | None = DEFAULT_LANG) -> str:
    """The catalogue text of a prompt (for logs, the web UI, tests)."""
    return catalog().require(prompt_id).text(resolve_lang(lang))


# --- activities and roles -----------------------------------------------------------


def _check(kind: str, n: int, valid: range) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n not in valid:
        raise ValueError(f"{kind} must be {valid.start}..{valid.stop - 1}, got {n!r}")


def activity_id(n: int) -> str:
    """Prompt id of activity ``n`` (1..8): ``activity-<n>``."""
    _check("activity", n, ACTIVITIES)
    return f"activity-{n}"


def activity_name(n: int, lang: str | None = DEFAULT_LANG) -> str:
    """Display name of activity ``n`` (1..8), e.g. ``activity_name(3) == "Lounaalla"``."""
    return prompt_text(activity_id(n), lang)


def role_id(n: int) -> str:
    """Prompt id of role ``n`` (1..5): ``role-<n>``."""
    _check("role", n, ROLES)
    return f"role-{n}"


def role_name(n: int, lang: str | None = DEFAULT_LANG) -> str:
    """Display name of role ``n`` (1..5), e.g. ``role_name(2, "en") == "Landline"``."""
    return prompt_text(role_id(n), lang)


def activity_menu(current_activity: int | None, lang: str | None = DEFAULT_LANG) -> list[str]:
    """The activity-number menu.

    "Your current activity is <name>." (skipped when unknown), "Choose a new activity.",
    then for n = 1..8: Finnish "<nimi>, valitse n", English "press n, <name>".
    """
    lg = resolve_lang(lang)
    ids: list[str] = []
    if current_activity is not None:
        ids += ["activity-current", activity_id(current_activity)]
    ids.append("activity-choose")
    for n in ACTIVITIES:
        pair = [activity_id(n), f"press-{n}"]
        ids += pair if lg == "fi" else pair[::-1]
    return sounds(ids, lg)


# --- numbers ------------------------------------------------------------------------

_SYMBOLS: Final = {"+": "digit-plus", "*": "digit-star", "#": "digit-hash"}
_SEPARATORS: Final = frozenset(" -().\u00a0/")


def number_pieces(
    number: str, lang: str | None = DEFAULT_LANG, *, national: bool = True
) -> list[str]:
    """Read a phone number digit by digit.

    With ``national`` (default) a Finnish E.164 number is read in the national form
    callers know (``+358401234567`` -> "0 4 0 1 2 3 4 5 6 7"); other international
    numbers are read with "plus". Separators (space, ``-``, ``()``, ``.``, ``/``) are
    ignored; ``*`` and ``#`` are read as star and hash. Raises ``ValueError`` on
    anything else or on an empty number.
    """
    text = number.strip()
    if national and text.startswith("+358"):
        text = "0" + text[4:]
    ids: list[str] = []
    for i, ch in enumerate(text):
        if ch in _SEPARATORS:
            continue
        if ch.isascii() and ch.isdigit():
            ids.append(f"digit-{ch}")
        elif ch in _SYMBOLS and (ch != "+" or not ids):
            ids.append(_SYMBOLS[ch])
        else:
            raise ValueError(f"cannot read {number!r}: unexpected {ch!r} at position {i}")
    if not any(pid.startswith("digit-") and pid[-1].isdigit() for pid in ids):
        raise ValueError(f"cannot read {number!r}: no digits")
    return sounds(ids, lang)


def count_pieces(n: int, lang: str | None = DEFAULT_LANG) -> list[str]:
    """A non-negative count: one ``num-N`` piece for 0..59, else digit by digit."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"count must be a non-negative int, got {n!r}")
    if n <= MAX_NUM_PIECE:
        return [sound(f"num-{n}", lang)]
    return sounds((f"digit-{d}" for d in str(n)), lang)


# --- dates and times ------------------------------------------------------------------


def time_pieces(when: datetime | time, lang: str | None = DEFAULT_LANG) -> list[str]:
    """A clock time.

    Finnish, 24-hour: 16.00 "kello kuusitoista", 16.05 "kello kuusitoista nolla viisi",
    16.30 "kello kuusitoista kolmekymmentä". English, 12-hour: "at four p.m.",
    "at four oh five p.m.", "at four thirty p.m."; 0.00 is "twelve a.m.", 12.00 "twelve p.m.".
    """
    lg = resolve_lang(lang)
    hour, minute = when.hour, when.minute
    ids = ["time-at"]
    if lg == "fi":
        ids.append(f"num-{hour}")
    else:
        ids.append(f"num-{hour % 12 or 12}")
    if minute:
        if minute < 10:
            ids.append("time-oh")
        ids.append(f"num-{minute}")
    if lg == "en":
        ids.append("time-am" if hour < 12 else "time-pm")
    return sounds(ids, lg)


def date_pieces(day: date, lang: str | None = DEFAULT_LANG) -> list[str]:
    """A day of the year without the year.

    Finnish "24.11." -> "kahdeskymmenesneljäs marraskuuta"; English "November twenty-fourth".
    """
    lg = resolve_lang(lang)
    ids = [f"day-{day.day}", f"month-{day.month}"]
    return sounds(ids if lg == "fi" else ids[::-1], lg)


def until_pieces(
    when: datetime, lang: str | None = DEFAULT_LANG, *, include_date: bool = True
) -> list[str]:
    """Until <date> <time>, in each language's word order.

    Finnish: "24.11. klo 16.00 asti" -> [day, month, kello, 16, asti];
    English: "until November twenty-fourth at four p.m.". Leave the date out
    (``include_date=False``) when it is today.
    """
    lg = resolve_lang(lang)
    parts = (date_pieces(when.date(), lg) if include_date else []) + time_pieces(when, lg)
    if lg == "fi":
        return parts + [sound("until", lg)]
    return [sound("until", lg)] + parts


# --- sentences ----------------------------------------------------------------------------


def voicemail_greeting(lang: str | None = DEFAULT_LANG) -> list[str]:
    """The default voicemail greeting followed by the beep."""
    return sounds(["voicemail-greeting-default", "beep"], lang)


def forward_refused(reason: ForwardRefusal | str, lang: str | None = DEFAULT_LANG) -> list[str]:
    """Forwarding could not be set, then the reason (see :class:`ForwardRefusal`)."""
    try:
        why = ForwardRefusal(reason)
    except ValueError:
        valid = ", ".join(r.value for r in ForwardRefusal)
        raise ValueError(f"unknown forwarding refusal {reason!r} (valid: {valid})") from None
    return sounds(["forward-refused", f"forward-refused-{why.value}"], lang)


def activity_saved(activity: int, lang: str | None = DEFAULT_LANG) -> list[str]:
    """Confirmation after the activity menu: "<name>. Your activity has been saved."."""
    return sounds([activity_id(activity), "activity-saved"], lang)


def absence_notice(
    activity: int,
    until: datetime | None,
    lang: str | None = DEFAULT_LANG,
    *,
    include_date: bool = True,
    offer_connect: bool = True,
    offer_customer_service: bool = False,
) -> list[str]:
    """The absence notice (role 5) a caller hears.

    "The person you called is on holiday (activity 6) / away (any other activity)
    [until ...]. [To be connected anyway, press 2.] [For customer service, press 1.]"
    """
    lg = resolve_lang(lang)
    _check("activity", activity, ACTIVITIES)
    intro = "absence-person-on-holiday" if activity == HOLIDAY_ACTIVITY else "absence-person-away"
    out = [sound(intro, lg)]
    if until is not None:
        out += until_pieces(until, lg, include_date=include_date)
    if offer_connect:
        out.append(sound("absence-press-2-connect", lg))
    if offer_customer_service:
        out.append(sound("absence-press-1-customer-service", lg))
    return out


def new_messages(count: int, lang: str | None = DEFAULT_LANG) -> list[str]:
    """You have no new messages / one new message / N new messages."""
    lg = resolve_lang(lang)
    if count == 0:
        return [sound("voicemail-no-new-messages", lg)]
    noun = "voicemail-new-message" if count == 1 else "voicemail-new-messages"
    return [sound("voicemail-you-have", lg), *count_pieces(count, lg), sound(noun, lg)]


def message_number(n: int, lang: str | None = DEFAULT_LANG) -> list[str]:
    """Message <n>, before playing a stored message."""
    return [sound("voicemail-message", lang), *count_pieces(n, lang)]
