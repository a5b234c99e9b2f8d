"""The call history: the user's recent calls, their calls per day (the page's small chart)
and, for admins, their organisation's totals. Read from vipcall's own call records
(:mod:`vipcall.directory.history`); a user sees only calls they made or received, an admin
only their own organisation's totals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vipcall.directory import history
from vipcall.history.rules import DIRECTION_LABELS, ROUTE_LABELS, DayCount, Direction, Route
from vipcall.web.deps import Admin, Db, Me, Now

router = APIRouter(prefix="/api/v1", tags=["history"])

Days = Annotated[int, Query(ge=1, le=history.MAX_DAYS, description="how many days back")]


class Label(BaseModel):
    fi: str
    en: str


class CallOut(BaseModel):
    id: int
    started_at: datetime
    direction: Direction = Field(description="in, out or missed, as the user sees the call")
    direction_label: Label
    route: Route = Field(description="how the call was routed")
    route_label: Label
    other_number: str | None = Field(description="the other party, E.164; null: anonymous")
    other_name: str | None = Field(description="the other party when a user of the service")
    answered: bool
    length_seconds: int | None = Field(
        description="talk time if answered, else how long the call lasted; null: not known"
    )


class DayOut(BaseModel):
    day: date
    incoming: int
    outgoing: int
    missed: int
    total: int


class RouteTotal(BaseModel):
    route: Route
    label: Label = Field(description="how the history names the route, Finnish and English")
    calls: int


class SummaryOut(BaseModel):
    organization_id: int
    days: list[DayOut]
    total: int
    by_route: dict[Route, int]
    routes: list[RouteTotal] = Field(
        description="calls per route with the route's label, every route in a fixed order"
    )
    talk_seconds: int


def _label(pair: tuple[str, str]) -> Label:
    return Label(fi=pair[0], en=pair[1])


def _day(d: DayCount) -> DayOut:
    return DayOut(
        day=d.day, incoming=d.incoming, outgoing=d.outgoing, missed=d.missed, total=d.total
    )


@router.get("/me/calls", summary="The user's recent calls (in, out, missed), newest first")
async def my_calls(
    s: Db,
    me: Me,
    now: Now,
    days: Days = 30,
    limit: Annotated[int, Query(ge=1, le=history.MAX_CALLS)] = 200,
) -> list[CallOut]:
    entries = await history.recent_calls(s, me.user_id, days=days, limit=limit, now=now)
    return [
        CallOut(
            id=e.id,
            started_at=e.started_at,
            direction=e.direction,
            direction_label=_label(DIRECTION_LABELS[e.direction]),
            route=e.route,
            route_label=_label(ROUTE_LABELS[e.route]),
            other_number=e.other_number,
            other_name=e.other_name,
            answered=e.answered,
            length_seconds=e.length_seconds,
        )
        for e in entries
    ]


@router.get("/me/calls/per-day", summary="The user's calls per day, oldest first")
async def my_calls_per_day(s: Db, me: Me, now: Now, days: Days = 14) -> list[DayOut]:
    return [_day(d) for d in await history.calls_per_day(s, me.user_id, days=days, now=now)]


@router.get("/admin/calls/summary", summary="The admin's organisation's call totals")
async def organization_calls(s: Db, admin: Admin, now: Now, days: Days = 14) -> SummaryOut:
    summary = await history.organization_summary(s, admin.organization_id, days=days, now=now)
    return SummaryOut(
        organization_id=summary.organization_id,
        days=[_day(d) for d in summary.days],
        total=summary.total,
        by_route=summary.by_route,
        routes=[
            RouteTotal(route=r, label=_label(ROUTE_LABELS[r]), calls=n)
            for r, n in summary.by_route.items()
        ],
        talk_seconds=summary.talk_seconds,
    )
