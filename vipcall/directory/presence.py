"""Presence state in the service layer: activity, role, forwarding, scheduled activities.

* ``users.activity`` is the manual activity; which activity is in effect is the rule in
  :mod:`vipcall.presence.activity`.
* Forwarding: at most one immediate target per user and one target per activity; which
  targets are refused is the rule in :mod:`vipcall.presence.forwarding`.
* What a person is shown (``vipcall activity show``/``activity list``, later the web pages):
  :func:`presence_view` and :func:`scheduled_view`, computed with the same rules.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import DateTime, Integer, bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import Executable

from vipcall import numbers
from vipcall.db.models import Forwarding, Organization, ScheduledActivity, User
from vipcall.db.queries import FORWARDING_REACH, reached
from vipcall.directory import validation as v
from vipcall.directory.errors import ForwardRefused, InvalidField, UnknownUser
from vipcall.directory.organizations import dial_policy_of, get_organization
from vipcall.directory.users import get_user
from vipcall.presence.activity import (
    activity_in_effect,
    red_chain_end,
    schedule_state,
    scheduled_in_effect,
)
from vipcall.presence.forwarding import (
    OPEN,
    Refusal,
    forward_refusal,
    next_hops_any,
    refusal_text,
)


def _now() -> datetime:
    return datetime.now(UTC)


async def set_activity(session: AsyncSession, user: User | str | int, activity: int) -> User:
    """Set the user's (manual) activity 1..8, in effect at once (:func:`apply_activity`).
    Returns the user, up to date."""
    target = await get_user(session, user)
    await apply_activity(session, target.id, activity)
    await session.refresh(target)
    return target


class Statements(Protocol):
    """Runs one statement on its own (autocommit) and says how many rows it changed: the
    call path's way to apply a rule of this module in one round trip
    (:class:`vipcall.store.sql.PoolStatements`). The CLI and the web pass their session."""

    async def run(self, statement: Executable, params: Mapping[str, Any]) -> int: ...


async def _run(db: AsyncSession | Statements, statement: Executable, params: dict[str, Any]) -> int:
    if isinstance(db, AsyncSession):
        result = await db.execute(statement, params)
        return int(result.rowcount)  # type: ignore[attr-defined]
    return await db.run(statement, params)


def _activity_change() -> Executable:
    """The rule as one statement (``:uid``, ``:chosen``, ``:at`` = now): the manual
    activity is the chosen one from now; scheduled activities in effect now end now (one
    that started before now is cut short, one that starts this very moment is removed).
    The three parts see the same snapshot, so the cut and the removal never meet."""
    uid = bindparam("uid", type_=Integer)
    now = bindparam("at", type_=DateTime(timezone=True))
    in_effect = (ScheduledActivity.user_id == uid) & (ScheduledActivity.ends_at > now)
    cut_short = (
        update(ScheduledActivity)
        .where(in_effect & (ScheduledActivity.starts_at < now))
        .values(ends_at=now)
        .cte("cut_short")
    )
    removed = (
        delete(ScheduledActivity)
        .where(in_effect & (ScheduledActivity.starts_at == now))
        .cte("removed")
    )
    return (
        update(User)
        .where(User.id == uid)
        .values(activity=bindparam("chosen"), activity_changed_at=now)
        .add_cte(cut_short)
        .add_cte(removed)
    )


ACTIVITY_CHANGE = _activity_change()
ROLE_CHANGE = update(User).where(User.id == bindparam("uid")).values(role=bindparam("chosen"))
# (Parameter names are no column's: SQLAlchemy would add a parameter named like a column to
# an UPDATE's SET.)


async def apply_activity(db: AsyncSession | Statements, user_id: int, activity: int) -> None:
    """The rule: a manual activity 1..8 is in effect at once, and scheduled activities in
    effect now end now (a user back early from a scheduled holiday is back; one that starts
    this very moment is removed). One statement, no rows loaded: the phone's 983 code takes
    this path directly. Raises :class:`UnknownUser` (nothing changed)."""
    chosen = v.activity("activity", activity)
    params = {"uid": user_id, "chosen": chosen, "at": _now()}
    if await _run(db, ACTIVITY_CHANGE, params) != 1:
        raise UnknownUser(user_id)


async def set_role(session: AsyncSession, user: User | str | int, role: int) -> User:
    """Set the user's role 1..5 (caller-ID presentation of outgoing calls); returns the
    user, up to date."""
    target = await get_user(session, user)
    await apply_role(session, target.id, role)
    await session.refresh(target)
    return target


async def apply_role(db: AsyncSession | Statements, user_id: int, role: int) -> None:
    """Store the user's role 1..5 (one statement; the phone's 984 code takes this path
    directly). Raises :class:`UnknownUser` (nothing changed)."""
    chosen = v.role("role", role)
    if await _run(db, ROLE_CHANGE, {"uid": user_id, "chosen": chosen}) != 1:
        raise UnknownUser(user_id)


async def get_forwardings(session: AsyncSession, user_id: int) -> Sequence[Forwarding]:
    result = await session.scalars(
        select(Forwarding).where(Forwarding.user_id == user_id).order_by(Forwarding.id)
    )
    return result.all()


#: :data:`vipcall.presence.forwarding.REFUSAL_TEXT` in Finnish.
REFUSAL_TEXT_FI: Mapping[Refusal, str] = {
    Refusal.INVALID_NUMBER: "{target} ei ole kelvollinen puhelinnumero",
    Refusal.PREMIUM_OR_SHARED_COST: "{target} on maksullinen tai jaetun kustannuksen numero",
    Refusal.OWN_NUMBER: "{target} on käyttäjän oma numero",
    Refusal.LOOP: "siirto numeroon {target} muodostaisi silmukan",
    Refusal.BLOCKED_DESTINATION: "organisaatio ei salli puheluja numeroon {target}",
}


async def validate_forward_target(session: AsyncSession, user: User, raw: str) -> str:
    """Normalise a forwarding target and refuse it by :func:`forward_refusal` (invalid,
    premium-rate/shared-cost, own number, a loop over any forwarding of the users it
    reaches). Returns E.164; raises :class:`ForwardRefused` with the reason."""
    try:
        target = numbers.normalize(raw)
    except numbers.InvalidNumber as exc:
        raise ForwardRefused(
            Refusal.INVALID_NUMBER, str(exc), fi=v.invalid_number_fi(exc)
        ) from None
    own = {n for n in (user.mobile_number, user.landline_number) if n}
    rows = await session.execute(text(FORWARDING_REACH), {"start": [target], "now": _now()})
    org = await session.get(Organization, user.organization_id)
    policy = dial_policy_of(org) if org is not None else OPEN
    hops = next_hops_any(reached(r) for r in rows.mappings())
    reason = forward_refusal(own, target, hops, policy)
    if reason is not None:
        raise ForwardRefused(
            reason, refusal_text(reason, target), fi=REFUSAL_TEXT_FI[reason].format(target=target)
        )
    return target


async def set_forwarding(
    session: AsyncSession,
    user: User | str | int,
    target: str | None,
    *,
    activity: int | None = None,
) -> Forwarding | None:
    """Set (or clear, with ``target=None``/empty) the immediate forwarding, or with
    ``activity`` the forwarding bound to that activity. Returns the row (None if cleared)."""
    owner = await get_user(session, user)
    kind = "immediate" if activity is None else "activity"
    act = None if activity is None else v.activity("activity", activity)
    condition = (Forwarding.user_id == owner.id) & (Forwarding.kind == kind)
    if act is not None:
        condition = condition & (Forwarding.activity == act)
    if target is None or not target.strip():
        await session.execute(delete(Forwarding).where(condition))
        await session.flush()
        return None
    e164 = await validate_forward_target(session, owner, target)
    row = await session.scalar(select(Forwarding).where(condition))
    if row is None:
        row = Forwarding(user_id=owner.id, kind=kind, activity=act, target=e164)
        session.add(row)
    else:
        row.target = e164
        row.created_at = _now()
    await session.flush()
    return row


async def add_scheduled_activity(
    session: AsyncSession,
    user: User | str | int,
    activity: int,
    starts_at: datetime,
    ends_at: datetime,
) -> ScheduledActivity:
    """Schedule ``activity`` for ``[starts_at, ends_at)`` (timezone-aware datetimes)."""
    owner = await get_user(session, user)
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value.tzinfo is None:
            raise InvalidField(name, "must include a time zone", fi="aikavyöhyke puuttuu")
    if ends_at <= starts_at:
        raise InvalidField(
            "ends_at", "must be after starts_at", fi="loppuajan pitää olla alkuajan jälkeen"
        )
    row = ScheduledActivity(
        user_id=owner.id,
        activity=v.activity("activity", activity),
        starts_at=starts_at,
        ends_at=ends_at,
    )
    session.add(row)
    await session.flush()
    return row


async def list_scheduled_activities(
    session: AsyncSession, user_id: int, *, ending_after: datetime | None = None
) -> Sequence[ScheduledActivity]:
    """The user's scheduled activities (by start), by default those not yet ended."""
    cutoff = ending_after or _now()
    result = await session.scalars(
        select(ScheduledActivity)
        .where(ScheduledActivity.user_id == user_id, ScheduledActivity.ends_at > cutoff)
        .order_by(ScheduledActivity.starts_at, ScheduledActivity.id)
    )
    return result.all()


async def delete_scheduled_activity(
    session: AsyncSession, scheduled_id: int, *, owner: User | str | int | None = None
) -> bool:
    """Delete a scheduled activity; with ``owner`` only one of that user's. False if none."""
    condition = ScheduledActivity.id == scheduled_id
    if owner is not None:
        condition = condition & (ScheduledActivity.user_id == (await get_user(session, owner)).id)
    result = await session.execute(delete(ScheduledActivity).where(condition))
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Presence:
    """A user's presence state at one moment (what routing needs)."""

    user_id: int
    activity: int
    manual_activity: int
    role: int
    is_red: bool
    immediate_forward: str | None
    activity_forwards: dict[int, str] = field(default_factory=dict)
    red_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ForwardingTargets:
    """A user's forwardings: the immediate one and one per activity (E.164 targets)."""

    immediate: str | None
    by_activity: dict[int, str] = field(default_factory=dict)


def forwarding_targets(rows: Iterable[Forwarding]) -> ForwardingTargets:
    """The forwarding rows of one user as :class:`ForwardingTargets`."""
    immediate: str | None = None
    by_activity: dict[int, str] = {}
    for row in rows:
        if row.kind == "immediate":
            immediate = immediate or row.target
        elif row.kind == "activity" and row.activity:
            by_activity[row.activity] = row.target
    return ForwardingTargets(immediate, dict(sorted(by_activity.items())))


async def get_forwarding_targets(
    session: AsyncSession, user: User | str | int
) -> ForwardingTargets:
    """The user's immediate and per-activity forwardings."""
    owner = await get_user(session, user)
    return forwarding_targets(await get_forwardings(session, owner.id))


async def _red_activities(session: AsyncSession, organization_id: int) -> frozenset[int]:
    red = await session.scalar(
        select(Organization.red_activities).where(Organization.id == organization_id)
    )
    return frozenset(red or ())


def _presence(
    owner: User,
    scheduled: Sequence[ScheduledActivity],
    forwards: ForwardingTargets,
    red: frozenset[int],
    when: datetime,
) -> Presence:
    activity = activity_in_effect(owner.activity, scheduled, when)
    return Presence(
        user_id=owner.id,
        activity=activity,
        manual_activity=owner.activity,
        role=owner.role,
        is_red=activity in red,
        immediate_forward=forwards.immediate,
        activity_forwards=dict(forwards.by_activity),
        red_until=red_chain_end(scheduled, red, when),
    )


async def get_presence(
    session: AsyncSession, user: User | str | int, now: datetime | None = None
) -> Presence:
    """Load a user's presence at ``now`` (default: current time)."""
    owner = await get_user(session, user)
    when = now or _now()
    scheduled = await list_scheduled_activities(session, owner.id, ending_after=when)
    forwards = await get_forwarding_targets(session, owner)
    red = await _red_activities(session, owner.organization_id)
    return _presence(owner, scheduled, forwards, red, when)


# --- what a person is shown (the CLI now, the web pages later) ------------------------------

Colour = Literal["red", "green"]


def colour(activity: int, red: Collection[int]) -> Colour:
    """``red`` (not reachable on the landline) or ``green`` in an organisation whose red
    activities are ``red``."""
    return "red" if activity in red else "green"


@dataclass(frozen=True, slots=True)
class PresenceView:
    """A user's presence at ``at`` as shown to a person: :class:`Presence` plus the user,
    the organisation, its red activities and the scheduled activity in effect."""

    user: User
    organization: Organization
    at: datetime
    presence: Presence
    in_effect: ScheduledActivity | None
    red_activities: frozenset[int]

    def colour(self, activity: int) -> Colour:
        return colour(activity, self.red_activities)


async def presence_view(
    session: AsyncSession, user: User | str | int, at: datetime | None = None
) -> PresenceView:
    """Load what ``vipcall activity show`` (and the web's presence page) shows."""
    owner = await get_user(session, user)
    when = at or _now()
    org = await get_organization(session, owner.organization_id)
    scheduled = await list_scheduled_activities(session, owner.id, ending_after=when)
    forwards = await get_forwarding_targets(session, owner)
    red = frozenset(org.red_activities or ())
    return PresenceView(
        user=owner,
        organization=org,
        at=when,
        presence=_presence(owner, scheduled, forwards, red, when),
        in_effect=scheduled_in_effect(scheduled, when),
        red_activities=red,
    )


@dataclass(frozen=True, slots=True)
class ScheduledEntry:
    """A scheduled activity with how it stands at a moment (see
    :func:`vipcall.presence.activity.schedule_state`) and its colour."""

    scheduled: ScheduledActivity
    state: str
    colour: Colour


async def scheduled_view(
    session: AsyncSession,
    user: User | str | int,
    *,
    now: datetime | None = None,
    include_ended: bool = False,
) -> list[ScheduledEntry]:
    """The user's scheduled activities by start (by default those not ended at ``now``)."""
    owner = await get_user(session, user)
    when = now or _now()
    red = await _red_activities(session, owner.organization_id)
    cutoff = datetime.min.replace(tzinfo=UTC) if include_ended else when
    rows = await list_scheduled_activities(session, owner.id, ending_after=cutoff)
    current = scheduled_in_effect(rows, when)
    return [
        ScheduledEntry(row, schedule_state(row, when, current), colour(row.activity, red))
        for row in rows
    ]
