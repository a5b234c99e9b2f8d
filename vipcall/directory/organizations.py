"""Organisations."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TypeVar

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ExecutableOption

from vipcall.db.models import DEFAULT_RED_ACTIVITIES, Group, Organization, ServiceNumber, User
from vipcall.directory import validation as v
from vipcall.directory.errors import (
    DirectoryError,
    DuplicateOrganization,
    InvalidField,
    UnknownOrganization,
)
from vipcall.presence.forwarding import DialPolicy, dial_policy
from vipcall.presence.model import Activity

#: How an empty list of red activities may be written (every activity green).
NO_ACTIVITIES = ("", "none", "-")

#: What belongs to one organisation and is looked up by its id within it.
OrgOwned = TypeVar("OrgOwned", User, ServiceNumber, Group)


async def create_organization(
    session: AsyncSession,
    *,
    name: str,
    domain: str,
    switchboard_number: str | None = None,
    customer_service_number: str | None = None,
    language: str = "fi",
    red_activities: Iterable[int] | None = None,
) -> Organization:
    """Create an organisation. Numbers are normalised to E.164; the domain is lower-cased.

    Raises :class:`InvalidField` or :class:`DuplicateOrganization`.
    """
    org = Organization(
        name=v.name("name", name),
        domain=v.domain("domain", domain),
        switchboard_number=v.user_number("switchboard", switchboard_number),
        customer_service_number=v.user_number("customer_service", customer_service_number),
        language=v.language("language", language),
        red_activities=sorted(
            {v.activity("red_activities", a) for a in (red_activities or DEFAULT_RED_ACTIVITIES)}
        ),
    )
    existing = await session.scalar(
        select(Organization.id).where(Organization.domain == org.domain)
    )
    if existing is not None:
        raise DuplicateOrganization(org.domain)
    session.add(org)
    try:
        await session.flush()
    except IntegrityError:
        raise DuplicateOrganization(org.domain) from None
    return org


async def list_organizations(session: AsyncSession) -> Sequence[Organization]:
    """All organisations, by name."""
    result = await session.scalars(
        select(Organization).order_by(Organization.name, Organization.id)
    )
    return result.all()


async def user_counts(session: AsyncSession) -> dict[int, int]:
    """Number of users per organisation id."""
    rows = await session.execute(
        select(User.organization_id, func.count()).group_by(User.organization_id)
    )
    return {org_id: count for org_id, count in rows.tuples()}


async def get_organization(session: AsyncSession, ref: str | int | Organization) -> Organization:
    """An organisation by domain (case-insensitive) or id. Raises :class:`UnknownOrganization`."""
    if isinstance(ref, Organization):
        return ref
    if isinstance(ref, int):
        org = await session.get(Organization, ref)
    else:
        domain = ref.strip().lower().rstrip(".")
        org = await session.scalar(select(Organization).where(Organization.domain == domain))
    if org is None:
        raise UnknownOrganization(ref)
    return org


async def find_organization(session: AsyncSession, domain: str) -> Organization | None:
    """An organisation by domain, or None."""
    try:
        return await get_organization(session, domain)
    except UnknownOrganization:
        return None


async def in_organization(
    session: AsyncSession,
    model: type[OrgOwned],
    organization_id: int,
    ref: int,
    unknown: Callable[[int], DirectoryError],
    *options: ExecutableOption,
) -> OrgOwned:
    """The organisation's ``model`` row ``ref`` (loaded with ``options``); ``unknown(ref)``
    is raised for any other, another organisation's too (so ids cannot be probed)."""
    row: OrgOwned | None = await session.scalar(
        select(model)
        .options(*options)
        .where(model.id == ref, model.organization_id == organization_id)
    )
    if row is None:
        raise unknown(ref)
    return row


async def set_red_activities(
    session: AsyncSession, org: Organization, activities: Iterable[int]
) -> Organization:
    """Change which activities are red (not reachable) in the organisation."""
    org.red_activities = sorted({v.activity("red_activities", a) for a in activities})
    await session.flush()
    return org


def parse_countries(raw: str) -> list[str] | None:
    """Allowed countries as typed: ``FI,SE,EE`` -> ["EE", "FI", "SE"]; ``any``/``*`` -> None
    (any country). Raises :class:`InvalidField` (field ``allowed_countries``)."""
    text = raw.strip()
    if text.lower() in ("any", "*", "all"):
        return None
    return sorted({_country(c) for c in text.split(",") if c.strip()})


def _country(raw: str) -> str:
    code = raw.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        given = repr(raw.strip())
        raise InvalidField(
            "allowed_countries",
            f"{given} ei ole ISO-maatunnus ({given} is not an ISO country code)",
            fi=f"{given} ei ole ISO-maatunnus",
        )
    return code


def _prefix(raw: str) -> str:
    text = raw.strip().replace(" ", "").replace("-", "")
    if text.startswith("00"):
        text = "+" + text[2:]
    if not (text.startswith("+") and text[1:].isdigit() and 2 <= len(text) <= 16):
        given = repr(raw.strip())
        raise InvalidField(
            "denied_prefixes",
            f"{given} ei ole numeron alku kuten +3587001 tai 00882"
            f" ({given} is not a number prefix like +3587001 or 00882)",
            fi=f"{given} ei ole numeron alku kuten +3587001 tai 00882",
        )
    return text


def parse_prefixes(raw: str) -> list[str]:
    """Denied prefixes as typed: ``+3587001, 00882`` -> ["+3587001", "+882"]; ``none`` ->
    []. Raises :class:`InvalidField` (field ``denied_prefixes``)."""
    text = raw.strip()
    if text.lower() in NO_ACTIVITIES:
        return []
    return sorted({_prefix(p) for p in text.split(",") if p.strip()})


def checked_countries(allowed_countries: Iterable[str] | None) -> list[str] | None:
    """The countries the service may call on a user's behalf, checked: ISO codes (any
    case), sorted, none twice; ``None``: any country. Raises :class:`InvalidField` (field
    ``allowed_countries``) for an unknown code or an empty list (nothing could be called)."""
    if allowed_countries is None:
        return None
    countries = sorted({_country(c) for c in allowed_countries})
    if not countries:
        raise InvalidField(
            "allowed_countries",
            "salli vähintään yksi maa tai kaikki (allow at least one country, or any)",
            fi="salli vähintään yksi maa tai kaikki",
        )
    return countries


def checked_prefixes(denied_prefixes: Iterable[str]) -> list[str]:
    """Number prefixes never called, checked: ``+`` or ``00`` and digits, sorted, none
    twice. Raises :class:`InvalidField` (field ``denied_prefixes``)."""
    return sorted({_prefix(p) for p in denied_prefixes})


async def set_dial_policy(
    session: AsyncSession,
    org: Organization,
    *,
    allowed_countries: Iterable[str] | None,
    denied_prefixes: Iterable[str],
) -> Organization:
    """Set the organisation's toll-fraud guard (the rule is
    :func:`vipcall.presence.forwarding.destination_refusal`): the countries the service may
    call on a user's behalf (``None``: any) and prefixes it never calls. Validates all
    before changing anything."""
    countries = checked_countries(allowed_countries)
    prefixes = checked_prefixes(denied_prefixes)
    org.allowed_countries = countries
    org.denied_prefixes = prefixes
    await session.flush()
    return org


def dial_policy_of(org: Organization) -> DialPolicy:
    """The organisation's :class:`DialPolicy` (what the call-time store builds, too)."""
    return dial_policy(org.allowed_countries, org.denied_prefixes or ())


def parse_red_activities(raw: str) -> list[int]:
    """A list of red activities as typed: ``2,3,4,5,6`` -> [2, 3, 4, 5, 6] (sorted); each a
    valid activity, none twice; ``''``, ``none`` or ``-`` -> [] (every activity green).

    Raises :class:`InvalidField` (field ``red_activities``)."""
    text = raw.strip()
    if text.lower() in NO_ACTIVITIES:
        return []
    result: list[int] = []
    for item in text.split(","):
        part = item.strip()
        try:
            number = int(part)
        except ValueError:
            raise InvalidField(
                "red_activities",
                f"{part!r} is not an activity number",
                fi=f"{part!r} ei ole aktiviteetin numero",
            ) from None
        n = v.activity("red_activities", number)
        if n in result:
            raise InvalidField(
                "red_activities",
                f"activity {n} is listed twice",
                fi=f"aktiviteetti {n} on luettelossa kahdesti",
            )
        result.append(n)
    return sorted(result)


def green_activities(red: Collection[int]) -> list[int]:
    """The activities that are not in ``red``, in order."""
    return [int(a) for a in Activity if a not in red]
