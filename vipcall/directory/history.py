"""The call history in the service layer (the web's history page and the apps): a user's
recent calls, their calls per day, an organisation's totals for its admins.

The rows are vipcall's own records (``call_records``, written by the call flows through
:mod:`vipcall.history.recorder`); what a row means for the person looking at it — in, out or
missed, its length, its label — is the pure rules of :mod:`vipcall.history.rules`. The SQL
here only selects and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from vipcall.db.models import CallRecord, Organization, User
from vipcall.directory.errors import InvalidField
from vipcall.directory.users import get_user
from vipcall.history.rules import (
    DayCount,
    Direction,
    Route,
    direction,
    length_seconds,
    per_day,
)

#: How far back the history reaches (days) and how many calls a list holds at most.
MAX_DAYS = 366
MAX_CALLS = 500


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One call as the user sees it."""

    id: int
    started_at: datetime
    direction: Direction
    route: Route
    other_number: str | None
    """The other party's number (E.164); ``None``: not a number (anonymous)."""
    other_name: str | None
    """The other party when they are a user of the service (their display name)."""
    answered: bool
    length_seconds: int | None
    """Talk time if answered, else how long the call lasted; ``None``: its end is not known."""


@dataclass(frozen=True, slots=True)
class OrganizationSummary:
    """An organisation's calls over ``days`` days (calls of its users, either side)."""

    organization_id: int
    days: list[DayCount]
    by_route: dict[Route, int]
    talk_seconds: int
    """Talk time of the answered calls, added up."""

    @property
    def total(self) -> int:
        return sum(d.total for d in self.days)


def _days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidField("days", f"must be 1..{MAX_DAYS}", fi=f"pitää olla 1–{MAX_DAYS}")
    return days


def _now() -> datetime:
    return datetime.now(UTC)


async def _zone(session: AsyncSession, organization_id: int) -> ZoneInfo:
    name = await session.scalar(
        select(Organization.time_zone).where(Organization.id == organization_id)
    )
    return ZoneInfo(name or "Europe/Helsinki")


def _since(today: date, days: int, zone: ZoneInfo) -> datetime:
    """The start of the first local day of the range."""
    first = today - timedelta(days=days - 1)
    return datetime(first.year, first.month, first.day, tzinfo=zone)


async def recent_calls(
    session: AsyncSession,
    user: User | int | str,
    *,
    days: int = 30,
    limit: int = 200,
    now: datetime | None = None,
) -> list[HistoryEntry]:
    """The user's calls (made or received) of the last ``days`` days, newest first."""
    _days(days)
    if not 1 <= limit <= MAX_CALLS:
        raise InvalidField("limit", f"must be 1..{MAX_CALLS}", fi=f"pitää olla 1–{MAX_CALLS}")
    me = await get_user(session, user)
    since = (now or _now()) - timedelta(days=days)
    caller, callee = aliased(User), aliased(User)
    rows = await session.execute(
        select(CallRecord, caller.display_name, callee.display_name)
        .outerjoin(caller, caller.id == CallRecord.caller_user_id)
        .outerjoin(callee, callee.id == CallRecord.callee_user_id)
        .where(
            or_(CallRecord.caller_user_id == me.id, CallRecord.callee_user_id == me.id),
            CallRecord.started_at >= since,
        )
        .order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
        .limit(limit)
    )
    entries = []
    for record, caller_name, callee_name in rows.all():
        answered = record.answered_at is not None
        way = direction(me.id, record.caller_user_id, record.callee_user_id, answered)
        mine_out = way == Direction.OUT
        entries.append(
            HistoryEntry(
                id=record.id,
                started_at=record.started_at,
                direction=way,
                route=Route(record.route),
                other_number=record.called_number if mine_out else record.caller_number,
                other_name=callee_name if mine_out else caller_name,
                answered=answered,
                length_seconds=length_seconds(
                    record.started_at, record.answered_at, record.ended_at
                ),
            )
        )
    return entries


async def calls_per_day(
    session: AsyncSession, user: User | int | str, *, days: int = 14, now: datetime | None = None
) -> list[DayCount]:
    """The user's calls per local day (the organisation's time zone), in/out/missed, for the
    ``days`` days ending today: every day present, oldest first."""
    _days(days)
    me = await get_user(session, user)
    zone = await _zone(session, me.organization_id)
    today = (now or _now()).astimezone(zone).date()
    day = func.date(func.timezone(zone.key, CallRecord.started_at))
    answered = CallRecord.answered_at.is_not(None)
    rows = await session.execute(
        select(day, CallRecord.caller_user_id, CallRecord.callee_user_id, answered, func.count())
        .where(
            or_(CallRecord.caller_user_id == me.id, CallRecord.callee_user_id == me.id),
            CallRecord.started_at >= _since(today, days, zone),
        )
        .group_by(day, CallRecord.caller_user_id, CallRecord.callee_user_id, answered)
    )
    counts = [(d, direction(me.id, a, b, ans), n) for d, a, b, ans, n in rows.all()]
    return per_day(counts, today, days)


async def organization_summary(
    session: AsyncSession, organization_id: int, *, days: int = 14, now: datetime | None = None
) -> OrganizationSummary:
    """An organisation's call totals for its admins: per local day in/out/missed as seen
    from the organisation (a call between two of its users is one outgoing call), per route,
    and the talk time. Only calls of the organisation's own users count."""
    _days(days)
    zone = await _zone(session, organization_id)
    today = (now or _now()).astimezone(zone).date()
    day = func.date(func.timezone(zone.key, CallRecord.started_at))
    answered = CallRecord.answered_at.is_not(None)
    ours_out = func.coalesce(CallRecord.caller_org_id == organization_id, False)
    talk = func.coalesce(
        func.sum(func.extract("epoch", CallRecord.ended_at - CallRecord.answered_at)), 0
    )
    rows = await session.execute(
        select(day, ours_out, answered, CallRecord.route, func.count(), talk)
        .where(
            or_(
                CallRecord.caller_org_id == organization_id,
                CallRecord.callee_org_id == organization_id,
            ),
            and_(CallRecord.started_at >= _since(today, days, zone)),
        )
        .group_by(day, ours_out, answered, CallRecord.route)
    )
    counts: list[tuple[date, Direction, int]] = []
    by_route = dict.fromkeys(Route, 0)
    talk_seconds = 0.0
    for d, out, ans, route, n, talked in rows.all():
        way = direction(organization_id, organization_id if out else None, organization_id, ans)
        counts.append((d, way, n))
        by_route[Route(route)] += n
        talk_seconds += float(talked or 0)
    return OrganizationSummary(
        organization_id, per_day(counts, today, days), by_route, round(talk_seconds)
    )
