"""Presence state: activity, role, forwarding, scheduled activities.

Simple read/write helpers now; issue 3's call flows and feature codes build on them.

* ``users.activity`` is the activity the user set by hand. A scheduled activity overrides it
  while ``starts_at <= now < ends_at`` (the latest-starting one wins when they overlap); after
  it ends the user is automatically back at ``users.activity``.
* Forwarding: at most one immediate target per user and one target per activity.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from vipcall import numbers
from vipcall.db.models import Forwarding, Organization, ScheduledActivity, User
from vipcall.directory import validation as v
from vipcall.directory.errors import ForwardRefused, InvalidField
from vipcall.directory.users import get_user
from vipcall.presence.forwarding import MAX_HOPS, Refusal, forward_refusal


def _now() -> datetime:
    return datetime.now(UTC)


async def set_activity(session: AsyncSession, user: User | str | int, activity: int) -> User:
    """Set the user's (manual) activity 1..8, in effect at once: scheduled activities in
    effect now end now (a user back early from a scheduled holiday is back)."""
    target = await get_user(session, user)
    chosen = v.activity("activity", activity)
    now = _now()
    running = await session.scalars(
        select(ScheduledActivity).where(
            ScheduledActivity.user_id == target.id,
            ScheduledActivity.starts_at <= now,
            ScheduledActivity.ends_at > now,
        )
    )
    for scheduled in running:
        if scheduled.starts_at < now:
            scheduled.ends_at = now
        else:
            await session.delete(scheduled)
    target.activity = chosen
    target.activity_changed_at = now
    await session.flush()
    return target


async def set_role(session: AsyncSession, user: User | str | int, role: int) -> User:
    """Set the user's role 1..5 (caller-ID presentation of outgoing calls)."""
    target = await get_user(session, user)
    target.role = v.role("role", role)
    await session.flush()
    return target


async def get_forwardings(session: AsyncSession, user_id: int) -> Sequence[Forwarding]:
    result = await session.scalars(
        select(Forwarding).where(Forwarding.user_id == user_id).order_by(Forwarding.id)
    )
    return result.all()


async def validate_forward_target(session: AsyncSession, user: User, raw: str) -> str:
    """Normalise a forwarding target and refuse it by :func:`forward_refusal` (invalid,
    premium-rate/shared-cost, own number, loop over immediate forwardings). Returns E.164;
    raises :class:`ForwardRefused` with the reason."""
    try:
        target = numbers.normalize(raw)
    except numbers.InvalidNumber as exc:
        raise ForwardRefused(Refusal.INVALID_NUMBER, str(exc)) from None
    own = {n for n in (user.mobile_number, user.landline_number) if n}
    reason = forward_refusal(own, target, await _next_hops(session, target))
    if reason is not None:
        raise ForwardRefused(reason, _REFUSAL_TEXT[reason].format(target=target))
    return target


_REFUSAL_TEXT = {
    Refusal.INVALID_NUMBER: "{target} is not a valid phone number",
    Refusal.PREMIUM_OR_SHARED_COST: "{target} is a premium-rate or shared-cost number",
    Refusal.OWN_NUMBER: "{target} is the user's own number",
    Refusal.LOOP: "forwarding to {target} would loop back",
}


async def _next_hops(session: AsyncSession, start: str) -> dict[str, list[str]]:
    """Where each number reachable by forwarding from ``start`` forwards to (immediate and
    activity-bound forwardings alike)."""
    hops: dict[str, list[str]] = {}
    frontier = [start]
    while frontier and len(hops) < MAX_HOPS * 4:
        rows = await session.execute(
            select(User.mobile_number, User.landline_number, Forwarding.target)
            .join(Forwarding, Forwarding.user_id == User.id)
            .where(User.mobile_number.in_(frontier) | User.landline_number.in_(frontier))
        )
        reached: list[str] = []
        for mobile, landline, target in rows:
            for number in (mobile, landline):
                if number in frontier:
                    hops.setdefault(number, []).append(target)
            reached.append(target)
        frontier = [n for n in dict.fromkeys(reached) if n not in hops]
    return hops


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
            raise InvalidField(name, "must include a time zone")
    if ends_at <= starts_at:
        raise InvalidField("ends_at", "must be after starts_at")
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


async def delete_scheduled_activity(session: AsyncSession, scheduled_id: int) -> bool:
    result = await session.execute(
        delete(ScheduledActivity).where(ScheduledActivity.id == scheduled_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- pure helpers ---------------------------------------------------------------------------


def scheduled_in_effect(
    scheduled: Sequence[ScheduledActivity], now: datetime
) -> ScheduledActivity | None:
    """The scheduled activity in effect at ``now`` (latest start wins), or None."""
    active = [s for s in scheduled if s.starts_at <= now < s.ends_at]
    return max(active, key=lambda s: (s.starts_at, s.id or 0)) if active else None


def effective_activity(
    manual_activity: int, scheduled: Sequence[ScheduledActivity], now: datetime
) -> int:
    """The activity in effect at ``now``: a scheduled one if any, else the manual one."""
    current = scheduled_in_effect(scheduled, now)
    return current.activity if current is not None else manual_activity


def red_chain_end(
    scheduled: Sequence[ScheduledActivity], red: Collection[int], now: datetime
) -> datetime | None:
    """If a red scheduled activity is in effect at ``now``, the end of the chain of
    consecutive (touching or overlapping) red scheduled activities starting with it."""
    current = scheduled_in_effect(scheduled, now)
    if current is None or current.activity not in red:
        return None
    end = current.ends_at
    extended = True
    while extended:
        extended = False
        for s in scheduled:
            if s.activity in red and s.starts_at <= end < s.ends_at:
                end = s.ends_at
                extended = True
    return end


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


async def get_presence(
    session: AsyncSession, user: User | str | int, now: datetime | None = None
) -> Presence:
    """Load a user's presence at ``now`` (default: current time)."""
    owner = await get_user(session, user)
    when = now or _now()
    scheduled = await list_scheduled_activities(session, owner.id, ending_after=when)
    forwards = await get_forwardings(session, owner.id)
    red = await session.scalar(
        select(Organization.red_activities).where(Organization.id == owner.organization_id)
    )
    red_set = set(red or ())
    activity = effective_activity(owner.activity, scheduled, when)
    return Presence(
        user_id=owner.id,
        activity=activity,
        manual_activity=owner.activity,
        role=owner.role,
        is_red=activity in red_set,
        immediate_forward=next((f.target for f in forwards if f.kind == "immediate"), None),
        activity_forwards={
            f.activity: f.target for f in forwards if f.kind == "activity" and f.activity
        },
        red_until=red_chain_end(scheduled, red_set, when),
    )
