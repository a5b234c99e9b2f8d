"""Field validation shared by the service functions and the CSV import."""

from __future__ import annotations

import re

from vipcall import numbers
from vipcall.db.models import LANGUAGES
from vipcall.directory.errors import InvalidField
from vipcall.presence.model import ACTIVITY_MAX, ACTIVITY_MIN, ROLE_MAX, ROLE_MIN

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

#: The reasons of :class:`vipcall.numbers.InvalidNumber`, in Finnish.
_NUMBER_REASONS_FI = {
    "is not a valid phone number": "ei ole kelvollinen puhelinnumero",
    "is not a valid phone number (unexpected characters)": (
        "ei ole kelvollinen puhelinnumero (siinä on kiellettyjä merkkejä)"
    ),
    "is not a string": "ei ole tekstiä",
    "is not an E.164 number": "ei ole E.164-muotoinen numero",
}


def invalid_number_fi(exc: numbers.InvalidNumber) -> str:
    """``str(exc)`` in Finnish: ``'123' ei ole kelvollinen puhelinnumero``."""
    if exc.reason == "is empty":
        return "numero puuttuu"
    reason = _NUMBER_REASONS_FI.get(exc.reason, "ei ole kelvollinen puhelinnumero")
    return f"{exc.raw!r} {reason}"


def phone(field: str, raw: str, *, region: str = "FI") -> str:
    """Normalise ``raw`` to E.164 or raise ``InvalidField(field, ...)``."""
    try:
        return numbers.normalize(raw, region)
    except numbers.InvalidNumber as exc:
        raise InvalidField(field, str(exc), fi=invalid_number_fi(exc)) from None


def optional_phone(field: str, raw: str | None, *, region: str = "FI") -> str | None:
    if raw is None or not raw.strip():
        return None
    return phone(field, raw, region=region)


def mobile(field: str, raw: str, *, region: str = "FI") -> str:
    """A Finnish mobile number (usernames are ``fi<national digits>@domain``)."""
    e164 = phone(field, raw, region=region)
    if numbers.region_of(e164) != "FI" or not numbers.is_mobile(e164):
        raise InvalidField(
            field,
            f"{raw.strip()!r} is not a Finnish mobile number",
            fi=f"{raw.strip()!r} ei ole suomalainen matkapuhelinnumero",
        )
    return e164


def user_number(field: str, raw: str | None, *, region: str = "FI") -> str | None:
    """A number that identifies a user (e.g. a landline): valid, not premium/shared-cost."""
    e164 = optional_phone(field, raw, region=region)
    if e164 is not None and numbers.is_premium_or_shared_cost(e164):
        raise InvalidField(
            field,
            f"{raw!r} is a premium-rate or shared-cost number",
            fi=f"{raw!r} on maksullinen tai jaetun kustannuksen numero",
        )
    return e164


def email(field: str, raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if len(value) > 320 or not _EMAIL.match(value):
        raise InvalidField(
            field,
            f"{value!r} is not a valid e-mail address",
            fi=f"{value!r} ei ole kelvollinen sähköpostiosoite",
        )
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def domain(field: str, raw: str) -> str:
    value = raw.strip().lower().rstrip(".")
    if not _DOMAIN.match(value):
        raise InvalidField(
            field,
            f"{raw!r} is not a valid domain name",
            fi=f"{raw!r} ei ole kelvollinen verkkotunnus",
        )
    return value


def name(field: str, raw: str | None, *, max_length: int = 200) -> str:
    value = " ".join((raw or "").split())
    if not value:
        raise InvalidField(field, "must not be empty", fi="ei saa olla tyhjä")
    if len(value) > max_length:
        raise InvalidField(
            field,
            f"is longer than {max_length} characters",
            fi=f"on pidempi kuin {max_length} merkkiä",
        )
    return value


def language(field: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in LANGUAGES:
        raise InvalidField(
            field,
            f"{raw!r} is not one of {', '.join(LANGUAGES)}",
            fi=f"{raw!r} ei kelpaa (sallitut: {', '.join(LANGUAGES)})",
        )
    return value


def activity(field: str, value: int | str) -> int:
    return _int_range(field, value, ACTIVITY_MIN, ACTIVITY_MAX, ("activity", "aktiviteetin"))


def role(field: str, value: int | str) -> int:
    return _int_range(field, value, ROLE_MIN, ROLE_MAX, ("role", "roolin"))


def _int_range(field: str, value: int | str, low: int, high: int, what: tuple[str, str]) -> int:
    """``what``: (English, Finnish genitive), e.g. ("role", "roolin")."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidField(
            field, f"{value!r} is not a number", fi=f"{value!r} ei ole numero"
        ) from None
    if not low <= number <= high:
        raise InvalidField(
            field,
            f"{what[0]} must be between {low} and {high}, not {number}",
            fi=f"{what[1]} pitää olla välillä {low}–{high}, ei {number}",
        )
    return number
