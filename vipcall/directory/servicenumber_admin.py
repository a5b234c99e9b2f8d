"""Service numbers as an organisation admin changes them: one of the own organisation's
(another's is unknown, so ids cannot be probed), its settings changed, deleted.

Each value is checked by the same rules as when the number was created
(:mod:`vipcall.directory.servicenumbers`), all before any is changed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from vipcall.db.models import (
    SERVICE_NUMBER_OVERFLOWS,
    SERVICE_NUMBER_STRATEGIES,
    ServiceNumber,
)
from vipcall.directory import validation as v
from vipcall.directory.organizations import in_organization
from vipcall.directory.servicenumbers import (
    MAX_WAIT_RANGE,
    MEMBER_RING_RANGE,
    UnknownServiceNumber,
    _choice,
    _overflow_target,
    _seconds,
)
from vipcall.directory.voicemail import UNSET, _Unset


async def org_service_number(s: AsyncSession, organization_id: int, sn_id: int) -> ServiceNumber:
    """The organisation's service number ``sn_id``; :class:`UnknownServiceNumber` for
    any other."""
    return await in_organization(
        s,
        ServiceNumber,
        organization_id,
        sn_id,
        UnknownServiceNumber,
        selectinload(ServiceNumber.members),
    )


async def update_service_number(
    s: AsyncSession,
    sn: ServiceNumber,
    *,
    name: str | _Unset = UNSET,
    strategy: str | _Unset = UNSET,
    member_ring_seconds: int | str | _Unset = UNSET,
    max_wait_seconds: int | str | _Unset = UNSET,
    overflow: str | _Unset = UNSET,
    overflow_target: str | None | _Unset = UNSET,
    announce_position: bool | _Unset = UNSET,
) -> ServiceNumber:
    """Change the given settings (the rest stay). A new overflow kind checks the target
    given with it (or none); a target alone is checked against the current kind."""
    changes: dict[str, object] = {}
    if name is not UNSET:
        changes["name"] = v.name("name", name)
    if strategy is not UNSET:
        changes["strategy"] = _choice("strategy", strategy, SERVICE_NUMBER_STRATEGIES)
    if member_ring_seconds is not UNSET:
        changes["member_ring_seconds"] = _seconds(
            "member_ring_seconds", member_ring_seconds, MEMBER_RING_RANGE
        )
    if max_wait_seconds is not UNSET:
        changes["max_wait_seconds"] = _seconds("max_wait_seconds", max_wait_seconds, MAX_WAIT_RANGE)
    if overflow is not UNSET or overflow_target is not UNSET:
        kind = (
            sn.overflow_kind
            if overflow is UNSET
            else _choice("overflow", overflow, SERVICE_NUMBER_OVERFLOWS)
        )
        target = None if overflow_target is UNSET else overflow_target
        changes["overflow_kind"] = kind
        changes["overflow_target"] = await _overflow_target(
            s, kind, target, sn.organization_id, sn.number
        )
    if announce_position is not UNSET:
        changes["announce_position"] = bool(announce_position)
    for key, value in changes.items():
        setattr(sn, key, value)
    await s.flush()
    return sn


async def delete_service_number(s: AsyncSession, sn: ServiceNumber) -> None:
    """Delete the service number with its memberships."""
    await s.delete(sn)
    await s.flush()
