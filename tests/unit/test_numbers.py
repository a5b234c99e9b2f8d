"""Number normalisation: Finnish inputs in, E.164 out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vipcall import numbers
from vipcall.numbers import InvalidNumber, NumberType


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("040 123 4567", "+358401234567"),
        ("+358 40 1234567", "+358401234567"),
        ("00358401234567", "+358401234567"),
        ("0401234567", "+358401234567"),
        ("358401234567", "+358401234567"),
        ("+358401234567", "+358401234567"),
        ("  040-123 4567 ", "+358401234567"),
        ("(040) 123 4567", "+358401234567"),
        ("050 123 4569", "+358501234569"),
        ("05 123 4000", "+35851234000"),
        ("09 1234 5678", "+358912345678"),
        ("+46 70 123 45 67", "+46701234567"),
        ("0046701234567", "+46701234567"),
        ("46701234567", "+46701234567"),  # bare international, not valid nationally
        ("+358 40 1621485", "+358401621485"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert numbers.normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "123", "abc", "040 123 4567 ext 5", "+", "00", "0", "112", "+358", "040x1234567"],
)
def test_normalize_rejects(raw: str) -> None:
    with pytest.raises(InvalidNumber) as info:
        numbers.normalize(raw)
    assert repr(raw) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_invalid_message_is_clear() -> None:
    with pytest.raises(InvalidNumber, match=r"'123' is not a valid phone number"):
        numbers.normalize("123")


def test_try_normalize() -> None:
    assert numbers.try_normalize("0401234567") == "+358401234567"
    assert numbers.try_normalize("nope") is None
    assert numbers.try_normalize(None) is None


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+358401234567", "0401234567"),
        ("+35851234000", "051234000"),
        ("+358912345678", "0912345678"),
        ("+358501234569", "0501234569"),
    ],
)
def test_national(e164: str, expected: str) -> None:
    assert numbers.national(e164) == expected


def test_national_requires_e164() -> None:
    with pytest.raises(InvalidNumber):
        numbers.national("0401234567")


@pytest.mark.parametrize(
    ("e164", "kind", "mobile", "premium_or_shared"),
    [
        ("+358401234567", NumberType.MOBILE, True, False),
        ("+358912345678", NumberType.FIXED_LINE, False, False),
        ("+35860012345", NumberType.PREMIUM_RATE, False, True),
        ("+358700123456", NumberType.PREMIUM_RATE, False, True),
        ("+35880012345", NumberType.TOLL_FREE, False, False),
    ],
)
def test_types(e164: str, kind: NumberType, mobile: bool, premium_or_shared: bool) -> None:
    assert numbers.number_type(e164) is kind
    assert numbers.is_mobile(e164) is mobile
    assert numbers.is_premium_or_shared_cost(e164) is premium_or_shared


def test_shared_cost_detected() -> None:
    # Spanish 901 numbers are shared-cost in phonenumbers' metadata.
    e164 = numbers.normalize("+34 901 123 456")
    assert numbers.number_type(e164) is NumberType.SHARED_COST
    assert numbers.is_premium_or_shared_cost(e164)


def test_cached_both_ways() -> None:
    """A valid number and digits that are no number (a feature code dialled on every
    983 call) are each parsed once; the second time still raises, with the same reason."""
    numbers._normalized.cache_clear()
    assert numbers.normalize("040 123 4567") == numbers.normalize("040 123 4567")
    for _ in range(2):
        with pytest.raises(InvalidNumber, match="not a valid phone number"):
            numbers.normalize("9833")
        with pytest.raises(InvalidNumber, match="unexpected characters"):
            numbers.normalize("*#*1")
    assert numbers._normalized.cache_info().hits == 3
    assert numbers._normalized.cache_info().misses == 3


@given(st.integers(min_value=0, max_value=9_999_999))
def test_finnish_mobiles_roundtrip(n: int) -> None:
    national_digits = f"040{n:07d}"
    e164 = numbers.normalize(national_digits)
    assert e164 == "+35840" + f"{n:07d}"
    assert numbers.national(e164) == national_digits
    assert numbers.normalize(e164) == e164
    assert numbers.normalize("00" + e164[1:]) == e164


@given(st.text(max_size=20))
def test_normalize_never_crashes(text: str) -> None:
    try:
        out = numbers.normalize(text)
    except InvalidNumber:
        return
    assert numbers.is_e164(out)
