"""Service numbers (switchboard, customer service, group): create, list, show, members, and
members logging in and out (the CLI, the phone's feature codes, later the home page).

A service number's number is no user's number and no other service number's. Its overflow
target is checked when set: a valid callable number (``number``), a user of the same
organisation (``voicemail``, stored as the user id) or a prompt of the catalog
(``announcement``, none: the default "all lines are busy").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from vipcall.db.models import (
    SERVICE_NUMBER_KINDS,
    SERVICE_NUMBER_OVERFLOWS,
    SERVICE_NUMBER_STRATEGIES,
    Organization,
    ServiceNumber,
    ServiceNumberMember,
    User,
)
from vipcall.directory import validation as v
from vipcall.directory.errors import DirectoryError, InvalidField
from vipcall.directory.organizations import dial_policy_of, get_organization
from vipcall.directory.users import number_owners, resolve_user
from vipcall.presence.forwarding import OPEN, forward_refusal

#: Limits of the per-service-number times (seconds).
MEMBER_RING_RANGE = (5, 120)
MAX_WAIT_RANGE = (10, 3600)


class UnknownServiceNumber(DirectoryError):
    def __init__(self, ref: int | str) -> None:
        self.ref = ref
        super().__init__(f"unknown service number {ref!r}", fi=f"tuntematon palvelunumero {ref!r}")


class NotAMember(DirectoryError):
    def __init__(self, user: User, sn: ServiceNumber) -> None:
        super().__init__(
            f"{user.username} is not a member of service number {sn.id} ({sn.name})",
            fi=f"{user.username} ei ole palvelunumeron {sn.id} ({sn.name}) jäsen",
        )


def _choice(field: str, raw: str, allowed: Sequence[str]) -> str:
    value = raw.strip().lower().replace("-", "_")
    if value not in allowed:
        raise InvalidField(
            field,
            f"{raw!r} is not one of {', '.join(allowed)}",
            fi=f"{raw!r} ei kelpaa (sallitut: {', '.join(allowed)})",
        )
    return value


def _seconds(field: str, value: int | str, limits: tuple[int, int]) -> int:
    low, high = limits
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise InvalidField(
            field, f"{value!r} is not a number of seconds", fi=f"{value!r} ei ole sekuntimäärä"
        ) from None
    if not low <= n <= high:
        raise InvalidField(
            field,
            f"{n} is not between {low} and {high} seconds",
            fi=f"{n} ei ole välillä {low}–{high} sekuntia",
        )
    return n


async def _overflow_target(
    session: AsyncSession, kind: str, raw: str | None, org_id: int, own: str
) -> str | None:
    text = (raw or "").strip()
    if kind == "number":
        if not text:
            raise InvalidField(
                "overflow_target",
                "overflow to a number needs the number",
                fi="ylivuoto numeroon vaatii numeron",
            )
        e164 = v.phone("overflow_target", text)
        org = await session.get(Organization, org_id)
        policy = dial_policy_of(org) if org is not None else OPEN
        refusal = forward_refusal(frozenset({own}), e164, {}, policy)
        if refusal is not None:
            raise InvalidField(
                "overflow_target",
                f"{text!r} cannot be called ({refusal.value})",
                fi=f"numeroon {text!r} ei voi soittaa ({refusal.value})",
            )
        return e164
    if kind == "voicemail":
        if not text:
            raise InvalidField(
                "overflow_target",
                "overflow to voicemail needs the user",
                fi="ylivuoto vastaajaan vaatii käyttäjän",
            )
        user = await resolve_user(session, text)
        if user.organization_id != org_id:
            raise InvalidField(
                "overflow_target",
                f"{user.username} is in another organisation",
                fi=f"{user.username} kuuluu toiseen organisaatioon",
            )
        return str(user.id)
    if not text:
        return None
    from vipcall.prompts.catalog import catalog

    if text not in catalog():
        raise InvalidField(
            "overflow_target",
            f"{text!r} is not a prompt of the catalog",
            fi=f"{text!r} ei ole tiedotteiden luettelossa",
        )
    return text


async def create_service_number(
    session: AsyncSession,
    organization: str | int,
    *,
    number: str,
    kind: str,
    name: str,
    strategy: str = "ring_all",
    member_ring_seconds: int | str = 20,
    max_wait_seconds: int | str = 120,
    overflow: str = "announcement",
    overflow_target: str | None = None,
    announce_position: bool = False,
) -> ServiceNumber:
    """A new service number; every field is checked before anything is written."""
    org = await get_organization(session, organization)
    e164 = v.phone("number", number)
    kind_ = _choice("kind", kind, SERVICE_NUMBER_KINDS)
    name_ = v.name("name", name)
    strategy_ = _choice("strategy", strategy, SERVICE_NUMBER_STRATEGIES)
    ring = _seconds("member_ring_seconds", member_ring_seconds, MEMBER_RING_RANGE)
    wait = _seconds("max_wait_seconds", max_wait_seconds, MAX_WAIT_RANGE)
    overflow_ = _choice("overflow", overflow, SERVICE_NUMBER_OVERFLOWS)
    target = await _overflow_target(session, overflow_, overflow_target, org.id, e164)
    owners = await number_owners(session, [e164])  # users and service numbers
    if e164 in owners:
        raise InvalidField(
            "number",
            f"{e164} is already the number of {owners[e164]}",
            fi=f"{e164} kuuluu jo {owners[e164].fi}",
        )
    sn = ServiceNumber(
        organization_id=org.id,
        number=e164,
        kind=kind_,
        name=name_,
        strategy=strategy_,
        member_ring_seconds=ring,
        max_wait_seconds=wait,
        overflow_kind=overflow_,
        overflow_target=target,
        announce_position=announce_position,
    )
    session.add(sn)
    await session.flush()
    return sn


async def get_service_number(session: AsyncSession, ref: int | str) -> ServiceNumber:
    """By id or by its number (any spelling). Raises :class:`UnknownServiceNumber`."""
    query = select(ServiceNumber).options(selectinload(ServiceNumber.members))
    sn: ServiceNumber | None = None
    text = str(ref).strip()
    if isinstance(ref, int) or (text.isdigit() and len(text) <= 9):
        sn = await session.scalar(query.where(ServiceNumber.id == int(text)))
    if sn is None:
        from vipcall.numbers import try_normalize

        e164 = try_normalize(text)
        if e164 is not None:
            sn = await session.scalar(query.where(ServiceNumber.number == e164))
    if sn is None:
        raise UnknownServiceNumber(ref)
    return sn


async def list_service_numbers(
    session: AsyncSession, organization: str | int | None = None
) -> Sequence[ServiceNumber]:
    query = select(ServiceNumber).options(selectinload(ServiceNumber.members))
    if organization is not None:
        org = await get_organization(session, organization)
        query = query.where(ServiceNumber.organization_id == org.id)
    return (await session.scalars(query.order_by(ServiceNumber.id))).all()


async def add_member(
    session: AsyncSession, service_number: int | str, user: str | int | User
) -> ServiceNumberMember:
    """Make the user a member (logged in). Same organisation only; twice is an error."""
    sn = await get_service_number(session, service_number)
    who = await resolve_user(session, user)
    if who.organization_id != sn.organization_id:
        raise InvalidField(
            "user",
            f"{who.username} is in another organisation",
            fi=f"{who.username} kuuluu toiseen organisaatioon",
        )
    if any(m.user_id == who.id for m in sn.members):
        raise DirectoryError(
            f"{who.username} is already a member of service number {sn.id}",
            fi=f"{who.username} on jo palvelunumeron {sn.id} jäsen",
        )
    member = ServiceNumberMember(service_number_id=sn.id, user_id=who.id, logged_in=True)
    session.add(member)
    await session.flush()
    return member


async def remove_member(
    session: AsyncSession, service_number: int | str, user: str | int | User
) -> None:
    sn = await get_service_number(session, service_number)
    who = await resolve_user(session, user)
    member = next((m for m in sn.members if m.user_id == who.id), None)
    if member is None:
        raise NotAMember(who, sn)
    await session.delete(member)
    await session.flush()


async def set_logged_in(
    session: AsyncSession, service_number: int | str, user: str | int | User, logged_in: bool
) -> bool:
    """Log the member in or out; True when that changed something."""
    sn = await get_service_number(session, service_number)
    who = await resolve_user(session, user)
    member = next((m for m in sn.members if m.user_id == who.id), None)
    if member is None:
        raise NotAMember(who, sn)
    if member.logged_in == logged_in:
        return False
    member.logged_in = logged_in
    member.logged_in_changed_at = datetime.now(UTC)
    await session.flush()
    return True


async def members_of(session: AsyncSession, sn: ServiceNumber) -> list[tuple[User, bool]]:
    """(user, logged in) of each member, by user id."""
    rows = await session.execute(
        select(User, ServiceNumberMember.logged_in)
        .join(ServiceNumberMember, ServiceNumberMember.user_id == User.id)
        .where(ServiceNumberMember.service_number_id == sn.id)
        .order_by(User.id)
    )
    return [(u, bool(li)) for u, li in rows.tuples()]


async def memberships(
    session: AsyncSession, user: str | int | User
) -> list[tuple[ServiceNumber, bool]]:
    """(service number, logged in) of each service number the user is a member of, by id."""
    who = await resolve_user(session, user)
    rows = await session.execute(
        select(ServiceNumber, ServiceNumberMember.logged_in)
        .join(ServiceNumberMember, ServiceNumberMember.service_number_id == ServiceNumber.id)
        .where(ServiceNumberMember.user_id == who.id)
        .order_by(ServiceNumber.id)
    )
    return [(sn, bool(li)) for sn, li in rows.tuples()]
