"""The user's own presence: activity and role, scheduled activities, the week's timeline.

Every change is written to PostgreSQL in the request's transaction; the call app reads the
user's state on each call, so the next call is routed by it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from vipcall.db.models import ScheduledActivity
from vipcall.directory import localtime
from vipcall.directory import presence as p
from vipcall.presence.model import Activity, Role
from vipcall.prompts import activity_name, role_name
from vipcall.web.deps import Db, Me, Now
from vipcall.web.problems import Problem

router = APIRouter(prefix="/api/v1/me", tags=["presence"])

Colour = Literal["red", "green"]


class ActivityName(BaseModel):
    id: int
    fi: str
    en: str
    colour: Colour


class RoleName(BaseModel):
    id: int
    fi: str
    en: str


def activity_out(n: int, red: frozenset[int]) -> ActivityName:
    return ActivityName(
        id=n, fi=activity_name(n, "fi"), en=activity_name(n, "en"), colour=p.colour(n, red)
    )


def role_out(n: int) -> RoleName:
    return RoleName(id=n, fi=role_name(n, "fi"), en=role_name(n, "en"))


class ScheduledOut(BaseModel):
    id: int
    activity: ActivityName
    starts_at: datetime
    ends_at: datetime
    state: str = Field(description="in effect, upcoming, ended or overridden")


def scheduled_out(row: ScheduledActivity, red: frozenset[int], state: str) -> ScheduledOut:
    return ScheduledOut(
        id=row.id,
        activity=activity_out(row.activity, red),
        starts_at=row.starts_at.astimezone(localtime.LOCAL_TZ),
        ends_at=row.ends_at.astimezone(localtime.LOCAL_TZ),
        state=state,
    )


class PresenceOut(BaseModel):
    activity: ActivityName = Field(description="the activity in effect now")
    manual_activity: ActivityName = Field(description="the activity set by hand")
    role: RoleName
    scheduled: ScheduledOut | None = Field(description="the scheduled activity in effect, if any")
    red_until: datetime | None = Field(
        description="end of the red scheduled activities in effect (what the greeting says)"
    )
    immediate_forward: str | None
    activities: list[ActivityName] = Field(description="all activities with this org's colours")
    roles: list[RoleName]


async def presence_out(s: Db, user_id: int, now: datetime) -> PresenceOut:
    view = await p.presence_view(s, user_id, at=now)
    red = view.red_activities
    pres = view.presence
    return PresenceOut(
        activity=activity_out(pres.activity, red),
        manual_activity=activity_out(pres.manual_activity, red),
        role=role_out(pres.role),
        scheduled=None
        if view.in_effect is None
        else scheduled_out(view.in_effect, red, "in effect"),
        red_until=None if pres.red_until is None else pres.red_until.astimezone(localtime.LOCAL_TZ),
        immediate_forward=pres.immediate_forward,
        activities=[activity_out(a, red) for a in Activity],
        roles=[role_out(r) for r in Role],
    )


class PresenceIn(BaseModel):
    activity: int | None = Field(default=None, ge=1, le=8, description="1-8")
    role: int | None = Field(default=None, ge=1, le=5, description="1-5")


@router.get("/presence", response_model=PresenceOut)
async def get_presence(me: Me, s: Db, now: Now) -> PresenceOut:
    return await presence_out(s, me.user_id, now)


@router.put("/presence", response_model=PresenceOut)
async def put_presence(body: PresenceIn, me: Me, s: Db, now: Now) -> PresenceOut:
    """Set the activity (ends a scheduled activity in effect now) and/or the role."""
    if body.activity is None and body.role is None:
        raise Problem(422, "anna aktiviteetti tai rooli / give activity and/or role", field="body")
    if body.activity is not None:
        await p.set_activity(s, me.user_id, body.activity)
    if body.role is not None:
        await p.set_role(s, me.user_id, body.role)
    return await presence_out(s, me.user_id, now)


# --- scheduled activities ---------------------------------------------------------------------


class ScheduleIn(BaseModel):
    activity: int = Field(ge=1, le=8)
    starts_at: str = Field(
        max_length=64,
        description="ISO 8601; without an offset Europe/Helsinki local time",
        examples=["2026-12-01T12:00"],
    )
    ends_at: str = Field(max_length=64, examples=["2026-12-01T13:00"])


@router.get("/schedule", response_model=list[ScheduledOut])
async def list_schedule(
    me: Me,
    s: Db,
    now: Now,
    include_ended: bool = Query(False, description="also the ones that have ended"),
) -> list[ScheduledOut]:
    """The user's scheduled activities by start (by default those not ended)."""
    view = await p.presence_view(s, me.user_id, at=now)
    entries = await p.scheduled_view(s, me.user_id, now=now, include_ended=include_ended)
    return [scheduled_out(e.scheduled, view.red_activities, e.state) for e in entries]


@router.post("/schedule", response_model=ScheduledOut, status_code=201)
async def add_schedule(body: ScheduleIn, me: Me, s: Db, now: Now) -> ScheduledOut:
    starts = localtime.parse_local_timestamp(body.starts_at, field="starts_at")
    ends = localtime.parse_local_timestamp(body.ends_at, field="ends_at")
    row = await p.add_scheduled_activity(s, me.user_id, body.activity, starts, ends)
    entries = await p.scheduled_view(s, me.user_id, now=now, include_ended=True)
    entry = next(e for e in entries if e.scheduled.id == row.id)
    view = await p.presence_view(s, me.user_id, at=now)
    return scheduled_out(row, view.red_activities, entry.state)


@router.delete("/schedule/{scheduled_id}", status_code=204)
async def delete_schedule(
    scheduled_id: Annotated[int, Path(ge=1, le=2**31 - 1)], me: Me, s: Db
) -> Response:
    if not await p.delete_scheduled_activity(s, scheduled_id, owner=me.user_id):
        raise Problem(404, f"tuntematon ajastus / unknown scheduled activity {scheduled_id}")
    return Response(status_code=204)


# --- the week's timeline ----------------------------------------------------------------------


class Block(BaseModel):
    id: int
    activity: ActivityName
    starts_at: datetime = Field(description="the block's start within this day")
    ends_at: datetime
    start_minute: int = Field(description="minutes from the day's local midnight")
    end_minute: int


class Day(BaseModel):
    date: date
    blocks: list[Block]


class WeekOut(BaseModel):
    start: date
    days: list[Day]
    activity: ActivityName = Field(description="the activity in effect now")
    manual_activity: ActivityName


def _wall_minute(t: datetime, midnight: datetime) -> int:
    """Minutes of the local wall clock from ``midnight``; the next midnight is 1440."""
    local = t.astimezone(localtime.LOCAL_TZ)
    if local.date() > midnight.date():
        return 24 * 60
    return local.hour * 60 + local.minute


@router.get("/schedule/week", response_model=WeekOut)
async def week(me: Me, s: Db, now: Now) -> WeekOut:
    """Today and the next six days (Helsinki local), each with the scheduled activities on
    it clipped to the day: what the page draws as a timeline. A block that another one
    overrides is drawn under it (the latest-starting one wins)."""
    view = await p.presence_view(s, me.user_id, at=now)
    red = view.red_activities
    today = now.astimezone(localtime.LOCAL_TZ).date()
    midnights = [
        datetime.combine(today + timedelta(days=i), time(), localtime.LOCAL_TZ) for i in range(8)
    ]
    rows = await p.list_scheduled_activities(s, me.user_id, ending_after=midnights[0])
    days = []
    for start, end in zip(midnights, midnights[1:], strict=False):
        blocks = []
        for row in rows:
            lo, hi = max(row.starts_at, start), min(row.ends_at, end)
            if lo >= hi:
                continue
            blocks.append(
                Block(
                    id=row.id,
                    activity=activity_out(row.activity, red),
                    starts_at=lo.astimezone(localtime.LOCAL_TZ),
                    ends_at=hi.astimezone(localtime.LOCAL_TZ),
                    start_minute=_wall_minute(lo, start),
                    end_minute=_wall_minute(hi, start),
                )
            )
        days.append(Day(date=start.date(), blocks=blocks))
    return WeekOut(
        start=today,
        days=days,
        activity=activity_out(view.presence.activity, red),
        manual_activity=activity_out(view.user.activity, red),
    )
