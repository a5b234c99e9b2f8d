"""An organisation's settings as its admin changes them: its name, which activities are
red, its switchboard and customer-service numbers, its toll-fraud guard (the countries
calls on a user's behalf may go to, prefixes never called; the same checks as
:func:`vipcall.directory.organizations.set_dial_policy`) (the voicemail limits are
:func:`vipcall.directory.voicemail.set_voicemail_limits`). Every value is checked before
any is changed, by the same rules as when the organisation was created."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from vipcall.db.models import Organization
from vipcall.directory import validation as v
from vipcall.directory.organizations import checked_countries, checked_prefixes
from vipcall.directory.voicemail import UNSET, _Unset


async def update_organization(
    s: AsyncSession,
    org: Organization,
    *,
    name: str | _Unset = UNSET,
    red_activities: Iterable[int] | _Unset = UNSET,
    switchboard_number: str | None | _Unset = UNSET,
    customer_service_number: str | None | _Unset = UNSET,
    allowed_countries: Iterable[str] | None | _Unset = UNSET,
    denied_prefixes: Iterable[str] | _Unset = UNSET,
) -> Organization:
    """Change the given settings (the rest stay); ``None`` or empty clears a number;
    ``allowed_countries=None`` allows any country."""
    changes: dict[str, object] = {}
    if name is not UNSET:
        changes["name"] = v.name("name", name)
    if red_activities is not UNSET:
        changes["red_activities"] = sorted(
            {v.activity("red_activities", a) for a in red_activities}
        )
    if switchboard_number is not UNSET:
        changes["switchboard_number"] = v.user_number("switchboard_number", switchboard_number)
    if customer_service_number is not UNSET:
        changes["customer_service_number"] = v.user_number(
            "customer_service_number", customer_service_number
        )
    if allowed_countries is not UNSET:
        changes["allowed_countries"] = checked_countries(allowed_countries)
    if denied_prefixes is not UNSET:
        changes["denied_prefixes"] = checked_prefixes(denied_prefixes)
    for key, value in changes.items():
        setattr(org, key, value)
    await s.flush()
    return org
