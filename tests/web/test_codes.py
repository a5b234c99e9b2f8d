"""The rules of one-time password codes (pure): format, life, tries, channels, text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vipcall.directory.codes import (
    CODE_DIGITS,
    CODE_TTL,
    MAX_WRONG_TRIES,
    CodeState,
    code_channels,
    code_state,
    code_text,
    expires_at,
    new_code,
    normalize_code,
)

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def test_a_code_is_six_digits_with_leading_zeros_kept() -> None:
    assert new_code(lambda n: 42) == "000042"
    assert new_code(lambda n: n - 1) == "999999"
    codes = {new_code() for _ in range(200)}
    assert all(len(c) == CODE_DIGITS and c.isdigit() for c in codes)
    assert len(codes) > 190  # random, not a counter


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("042917", "042917"),
        (" 042 917 ", "042917"),
        ("042-917", "042917"),
        ("42917", None),
        ("0429170", None),
        ("04291x", None),
        ("٠٤٢٩١٧", None),  # Arabic-Indic digits are digits to Python, not to a code
        ("", None),
    ],
)
def test_typed_codes(typed: str, code: str | None) -> None:
    assert normalize_code(typed) == code


def test_a_code_lives_ten_minutes() -> None:
    assert CODE_TTL == timedelta(minutes=10)
    ends = expires_at(T0)
    assert code_state(expires=ends, used=None, wrong_tries=0, now=T0) is CodeState.LIVE
    just_before = ends - timedelta(seconds=1)
    assert code_state(expires=ends, used=None, wrong_tries=0, now=just_before) is CodeState.LIVE
    assert code_state(expires=ends, used=None, wrong_tries=0, now=ends) is CodeState.EXPIRED


def test_a_code_works_once() -> None:
    ends = expires_at(T0)
    state = code_state(expires=ends, used=T0, wrong_tries=0, now=T0 + timedelta(seconds=1))
    assert state is CodeState.USED


def test_too_many_wrong_tries_use_a_code_up() -> None:
    ends = expires_at(T0)
    last_ok = MAX_WRONG_TRIES - 1
    assert code_state(expires=ends, used=None, wrong_tries=last_ok, now=T0) is CodeState.LIVE
    state = code_state(expires=ends, used=None, wrong_tries=MAX_WRONG_TRIES, now=T0)
    assert state is CodeState.EXHAUSTED


@pytest.mark.parametrize(
    ("notify_by", "has_email", "channels"),
    [
        (None, True, ("sms",)),  # never chosen: SMS, like voicemail notices
        ("sms", True, ("sms",)),
        ("email", True, ("email",)),
        ("email", False, ("sms",)),  # no address: the phone
        ("both", True, ("sms", "email")),
        ("both", False, ("sms",)),
        ("none", True, ("sms",)),  # notices off: a code must still go somewhere
    ],
)
def test_where_a_code_goes(notify_by: str | None, has_email: bool, channels: tuple[str]) -> None:
    assert code_channels(notify_by, has_email) == channels


def test_the_text_is_finnish_first_with_english_alongside() -> None:
    text = code_text("042917")
    assert text.body.index("042917") < text.body.index("Your vipcall password code is 042917")
    assert text.body.startswith("vipcall-salasanan vaihtokoodisi on 042917")
    assert "10 minuuttia" in text.body and "10 minutes" in text.body
    assert text.sms.startswith("vipcall: salasanan vaihtokoodi 042917")
    assert "Password code 042917" in text.sms
    assert "\n" not in text.sms and len(text.sms) <= 160
    assert text.subject.startswith("vipcall: salasanan vaihtokoodi")
