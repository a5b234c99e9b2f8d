"""Phone-number handling: everything vipcall stores or compares is E.164 (``+358401234567``).

Finnish inputs are accepted in all the usual spellings::

    040 123 4567        (national, spaces)
    0401234567          (national)
    +358 40 1234567     (international with +)
    00358401234567      (international with the 00 prefix)
    358401234567        (international without + -- only if it is a valid number that way)
    (040) 123-4567      (punctuation is ignored)

Results are cached (``functools.lru_cache``): the call path normalises the same few numbers
over and over.
"""

from __future__ import annotations

import enum
import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

__all__ = [
    "InvalidNumber",
    "NumberType",
    "normalize",
    "try_normalize",
    "national",
    "number_type",
    "is_mobile",
    "is_premium_or_shared_cost",
    "is_e164",
]


class InvalidNumber(ValueError):
    """Raised for input that is not a valid phone number."""

    def __init__(self, raw: str, reason: str = "is not a valid phone number") -> None:
        self.raw = raw
        self.reason = reason
        super().__init__(f"{raw!r} {reason}")


class NumberType(enum.Enum):
    """The phonenumbers number type, as a readable enum."""

    FIXED_LINE = "fixed_line"
    MOBILE = "mobile"
    FIXED_LINE_OR_MOBILE = "fixed_line_or_mobile"
    TOLL_FREE = "toll_free"
    PREMIUM_RATE = "premium_rate"
    SHARED_COST = "shared_cost"
    VOIP = "voip"
    PERSONAL_NUMBER = "personal_number"
    PAGER = "pager"
    UAN = "uan"
    VOICEMAIL = "voicemail"
    UNKNOWN = "unknown"


_TYPE_MAP: dict[int, NumberType] = {
    PhoneNumberType.FIXED_LINE: NumberType.FIXED_LINE,
    PhoneNumberType.MOBILE: NumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: NumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.TOLL_FREE: NumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE: NumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST: NumberType.SHARED_COST,
    PhoneNumberType.VOIP: NumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER: NumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER: NumberType.PAGER,
    PhoneNumberType.UAN: NumberType.UAN,
    PhoneNumberType.VOICEMAIL: NumberType.VOICEMAIL,
    PhoneNumberType.UNKNOWN: NumberType.UNKNOWN,
}

# Characters people type around numbers; anything else is rejected.
_ALLOWED = re.compile(r"^\+?[0-9 ()./\-]+$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _parse_valid(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def normalize(raw: str, region: str = "FI") -> str:
    """Return ``raw`` as E.164 (``+358401234567``) or raise :class:`InvalidNumber`.

    National numbers are read in ``region`` (default Finland). A bare international number
    without ``+``/``00`` (``358401234567``) is accepted when it is not valid as a national
    number but is valid with a ``+`` in front.
    """
    if not isinstance(raw, str):
        raise InvalidNumber(repr(raw), "is not a string")
    e164, reason = _normalized(raw, region)
    if e164 is None:
        raise InvalidNumber(raw, reason)
    return e164


@lru_cache(maxsize=65536)
def _normalized(raw: str, region: str) -> tuple[str | None, str]:
    """(E.164, "") or (None, why not), remembered both ways: a call to a feature code or
    a service code parses its dialled digits, which are no phone number, on every call."""
    text = raw.strip()
    if not text:
        return None, "is empty"
    if not _ALLOWED.match(text):
        return None, "is not a valid phone number (unexpected characters)"
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+"):
        candidates = ["+" + digits]
    elif digits.startswith("00"):
        candidates = ["+" + digits[2:]]
    elif digits.startswith("0"):
        candidates = [digits]
    else:
        # Neither national (leading 0) nor explicitly international: try national first
        # (phonenumbers also understands a leading country code), then international.
        candidates = [digits, "+" + digits]
    for candidate in candidates:
        parsed = _parse_valid(candidate, region)
        if parsed is not None:
            return phonenumbers.format_number(parsed, PhoneNumberFormat.E164), ""
    return None, "is not a valid phone number"


def try_normalize(raw: str | None, region: str = "FI") -> str | None:
    """Like :func:`normalize` but returns ``None`` for missing or invalid input."""
    if raw is None:
        return None
    try:
        return normalize(raw, region)
    except InvalidNumber:
        return None


def is_e164(value: str) -> bool:
    """True if ``value`` is syntactically E.164 (``+`` and 7..15 digits)."""
    return bool(_E164.match(value))


@lru_cache(maxsize=65536)
def _parsed(e164: str) -> phonenumbers.PhoneNumber:
    if not is_e164(e164):
        raise InvalidNumber(e164, "is not an E.164 number")
    try:
        return phonenumbers.parse(e164, None)
    except NumberParseException as exc:
        raise InvalidNumber(e164, "is not an E.164 number") from exc


@lru_cache(maxsize=65536)
def national(e164: str) -> str:
    """National digits of an E.164 number: ``+358401234567`` -> ``0401234567``."""
    parsed = _parsed(e164)
    formatted = phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
    return re.sub(r"[^0-9]", "", formatted)


@lru_cache(maxsize=65536)
def number_type(e164: str) -> NumberType:
    """The phonenumbers number type of an E.164 number."""
    return _TYPE_MAP.get(phonenumbers.number_type(_parsed(e164)), NumberType.UNKNOWN)


def is_mobile(e164: str) -> bool:
    """True for mobile numbers (including numbers that may be either fixed or mobile)."""
    return number_type(e164) in (NumberType.MOBILE, NumberType.FIXED_LINE_OR_MOBILE)


def is_premium_or_shared_cost(e164: str) -> bool:
    """True for premium-rate and shared-cost numbers (never valid forwarding targets)."""
    return number_type(e164) in (NumberType.PREMIUM_RATE, NumberType.SHARED_COST)


def region_of(e164: str) -> str | None:
    """ISO region code of an E.164 number (``FI``), or None if unknown."""
    return phonenumbers.region_code_for_number(_parsed(e164))


@lru_cache(maxsize=1024)
def short_number(raw: str, region: str = "FI") -> str | None:
    """A valid short or emergency number of the region as dialled (``112``, ``116117``),
    else ``None``. Such numbers are not E.164 and go to the PSTN as they are."""
    digits = raw.strip()
    if not digits.isdigit() or len(digits) > 6:
        return None
    try:
        parsed = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_emergency_number(
        digits, region
    ) or phonenumbers.is_valid_short_number_for_region(parsed, region):
        return digits
    return None
