"""Media URIs and the composers that build sentences from pieces."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from vipcall.prompts import media
from vipcall.prompts.catalog import UnknownPromptError
from vipcall.prompts.media import (
    ForwardRefusal,
    absence_notice,
    activity_menu,
    activity_name,
    activity_saved,
    count_pieces,
    date_pieces,
    forward_refused,
    join_media,
    message_number,
    new_messages,
    number_pieces,
    resolve_lang,
    role_name,
    sound,
    time_pieces,
    until_pieces,
    voicemail_greeting,
)


def fi(*ids: str) -> list[str]:
    return [f"sound:vipcall/fi/{i}" for i in ids]


def en(*ids: str) -> list[str]:
    return [f"sound:vipcall/en/{i}" for i in ids]


# --- sound() ---------------------------------------------------------------------------


def test_sound_uri() -> None:
    assert sound("feature-activated", "fi") == "sound:vipcall/fi/feature-activated"
    assert sound("feature-activated", "en") == "sound:vipcall/en/feature-activated"
    assert sound("goodbye") == "sound:vipcall/fi/goodbye"


@pytest.mark.parametrize("lang", ["sv", "", None, "xx", "FIN"])
def test_unknown_language_falls_back_to_finnish(lang: str | None) -> None:
    assert sound("goodbye", lang) == "sound:vipcall/fi/goodbye"


@pytest.mark.parametrize(("lang", "want"), [("EN", "en"), ("en-GB", "en"), ("fi_FI", "fi")])
def test_language_tags_normalised(lang: str, want: str) -> None:
    assert resolve_lang(lang) == want


def test_unknown_id_raises() -> None:
    with pytest.raises(UnknownPromptError, match="unknown prompt id 'no-such-prompt'"):
        sound("no-such-prompt", "fi")


def test_join_media() -> None:
    assert join_media(fi("a-b", "c")) == "sound:vipcall/fi/a-b,sound:vipcall/fi/c"


# --- names and the activity menu -------------------------------------------------------------


def test_activity_and_role_names() -> None:
    assert activity_name(3) == "Lounaalla"
    assert activity_name(4, "en") == "In meeting"
    assert role_name(5) == "Tiedote loma ja poissa"
    assert role_name(2, "en") == "Landline"


@pytest.mark.parametrize("bad", [0, 9, -1, True])
def test_activity_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError, match="activity must be 1..8"):
        activity_name(bad)


def test_role_out_of_range() -> None:
    with pytest.raises(ValueError, match="role must be 1..5"):
        role_name(6)


def test_activity_menu_finnish() -> None:
    got = activity_menu(6, "fi")
    assert got[:3] == fi("activity-current", "activity-6", "activity-choose")
    assert got[3:] == fi(*[x for n in range(1, 9) for x in (f"activity-{n}", f"press-{n}")])
    assert len(got) == 3 + 16


def test_activity_menu_english_press_then_name() -> None:
    got = activity_menu(1, "en")
    assert got[:5] == en(
        "activity-current", "activity-1", "activity-choose", "press-1", "activity-1"
    )
    assert got[-2:] == en("press-8", "activity-8")


def test_activity_menu_without_current() -> None:
    assert activity_menu(None, "fi")[0] == sound("activity-choose", "fi")


def test_activity_saved() -> None:
    assert activity_saved(2, "en") == en("activity-2", "activity-saved")


# --- numbers --------------------------------------------------------------------------------


def test_finnish_e164_read_in_national_form() -> None:
    assert number_pieces("+358401234567", "fi") == fi(*(f"digit-{d}" for d in "0401234567"))


def test_national_form_can_be_disabled() -> None:
    got = number_pieces("+358401234567", "en", national=False)
    assert got == en("digit-plus", *(f"digit-{d}" for d in "358401234567"))


def test_foreign_number_read_with_plus() -> None:
    digits = [f"digit-{d}" for d in "468123"]
    assert number_pieces("+46 8 123", "fi") == fi("digit-plus", *digits)


def test_separators_ignored_and_symbols_read() -> None:
    digits = [f"digit-{d}" for d in "040123"]
    assert number_pieces("040-12 (3)", "fi") == fi(*digits)
    assert number_pieces("*98#", "en") == en("digit-star", "digit-9", "digit-8", "digit-hash")


@pytest.mark.parametrize("bad", ["", "  ", "040x123", "04+0", "+", "١٢"])
def test_unreadable_numbers_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        number_pieces(bad, "fi")


def test_count_pieces() -> None:
    assert count_pieces(0, "fi") == fi("num-0")
    assert count_pieces(59, "en") == en("num-59")
    assert count_pieces(123, "fi") == fi("digit-1", "digit-2", "digit-3")
    with pytest.raises(ValueError):
        count_pieces(-1, "fi")


# --- times and dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hh", "mm", "want"),
    [
        (16, 0, ["time-at", "num-16"]),
        (16, 5, ["time-at", "num-16", "time-oh", "num-5"]),
        (16, 30, ["time-at", "num-16", "num-30"]),
        (0, 0, ["time-at", "num-0"]),
        (23, 59, ["time-at", "num-23", "num-59"]),
    ],
)
def test_time_finnish_24h(hh: int, mm: int, want: list[str]) -> None:
    assert time_pieces(time(hh, mm), "fi") == fi(*want)


@pytest.mark.parametrize(
    ("hh", "mm", "want"),
    [
        (16, 0, ["time-at", "num-4", "time-pm"]),
        (9, 5, ["time-at", "num-9", "time-oh", "num-5", "time-am"]),
        (0, 0, ["time-at", "num-12", "time-am"]),
        (12, 45, ["time-at", "num-12", "num-45", "time-pm"]),
    ],
)
def test_time_english_12h(hh: int, mm: int, want: list[str]) -> None:
    assert time_pieces(time(hh, mm), "en") == en(*want)


def test_time_accepts_datetime() -> None:
    assert time_pieces(datetime(2025, 11, 24, 16, 0), "fi") == fi("time-at", "num-16")


def test_every_clock_time_composes_from_catalogue_pieces() -> None:
    for lang in ("fi", "en"):
        for hh in range(24):
            for mm in range(60):
                assert time_pieces(time(hh, mm), lang)  # raises on a missing piece
        for m in range(1, 13):
            assert date_pieces(date(2024, m, 28), lang)
        assert date_pieces(date(2024, 1, 31), lang)


def test_date_word_order() -> None:
    assert date_pieces(date(2025, 11, 24), "fi") == fi("day-24", "month-11")
    assert date_pieces(date(2025, 11, 24), "en") == en("month-11", "day-24")


def test_until_finnish_word_order() -> None:
    # "Lomalla 24.11. klo 16.00 asti"
    got = [sound("activity-6", "fi"), *until_pieces(datetime(2025, 11, 24, 16, 0), "fi")]
    assert got == fi("activity-6", "day-24", "month-11", "time-at", "num-16", "until")


def test_until_english_word_order() -> None:
    got = until_pieces(datetime(2025, 11, 24, 16, 0), "en")
    assert got == en("until", "month-11", "day-24", "time-at", "num-4", "time-pm")


def test_until_today_without_date() -> None:
    got = until_pieces(datetime(2025, 11, 24, 16, 30), "fi", include_date=False)
    assert got == fi("time-at", "num-16", "num-30", "until")


# --- sentences ---------------------------------------------------------------------------------


def test_voicemail_greeting_then_beep() -> None:
    assert voicemail_greeting("en") == en("voicemail-greeting-default", "beep")


@pytest.mark.parametrize("reason", list(ForwardRefusal))
def test_forward_refused_each_reason(reason: ForwardRefusal) -> None:
    assert forward_refused(reason, "fi") == fi("forward-refused", f"forward-refused-{reason}")


def test_forward_refused_accepts_plain_string_and_rejects_unknown() -> None:
    assert forward_refused("loop", "en") == en("forward-refused", "forward-refused-loop")
    with pytest.raises(ValueError, match="unknown forwarding refusal"):
        forward_refused("too-far", "fi")


def test_absence_notice_holiday_finnish() -> None:
    got = absence_notice(6, datetime(2025, 11, 24, 16, 0), "fi", offer_customer_service=True)
    assert got == fi(
        "absence-person-on-holiday", "day-24", "month-11", "time-at", "num-16", "until",
        "absence-press-2-connect", "absence-press-1-customer-service",
    )  # fmt: skip


def test_absence_notice_away_english_no_end_no_options() -> None:
    got = absence_notice(5, None, "en", offer_connect=False)
    assert got == en("absence-person-away")


def test_new_messages() -> None:
    assert new_messages(0, "fi") == fi("voicemail-no-new-messages")
    assert new_messages(1, "fi") == fi("voicemail-you-have", "num-1", "voicemail-new-message")
    assert new_messages(3, "en") == en("voicemail-you-have", "num-3", "voicemail-new-messages")
    assert message_number(2, "en") == en("voicemail-message", "num-2")


def test_composers_are_pure() -> None:
    a = activity_menu(3, "fi")
    assert activity_menu(3, "fi") == a
    assert media.SOUND_PREFIX == "sound:vipcall"
