"""Forwarding (Palvelut -> Ohjausnumero): the immediate forwarding and one target per
activity (Aktiviteetin ohjaus).

A refused target is a 422 problem with ``field: "target"``, why in words (Finnish, then the
English sentence) and the refusal's code in ``reason`` (``invalid-number``,
``premium-or-shared-cost``, ``own-number``, ``loop``): the rule is
:func:`vipcall.presence.forwarding.forward_refusal`, the same one the phone's code uses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from vipcall.directory import presence as p
from vipcall.presence.model import Activity
from vipcall.web.api.presence import ActivityName, activity_out
from vipcall.web.deps import Db, Me

router = APIRouter(prefix="/api/v1/me/forwarding", tags=["forwarding"])

ActivityPath = Annotated[int, Path(ge=1, le=8, description="activity 1-8")]


class TargetIn(BaseModel):
    target: str = Field(min_length=1, max_length=64, description="a number in any Finnish spelling")


class ImmediateOut(BaseModel):
    target: str | None = Field(description="E.164, or null when not forwarded")


class ActivityForwardOut(BaseModel):
    activity: ActivityName
    target: str | None


async def _activities(s: Db, user_id: int) -> list[ActivityForwardOut]:
    view = await p.presence_view(s, user_id)
    by_activity = view.presence.activity_forwards
    return [
        ActivityForwardOut(activity=activity_out(a, view.red_activities), target=by_activity.get(a))
        for a in Activity
    ]


@router.get("", response_model=ImmediateOut)
async def get_forwarding(me: Me, s: Db) -> ImmediateOut:
    return ImmediateOut(target=(await p.get_forwarding_targets(s, me.user_id)).immediate)


@router.put("", response_model=ImmediateOut)
async def put_forwarding(body: TargetIn, me: Me, s: Db) -> ImmediateOut:
    row = await p.set_forwarding(s, me.user_id, body.target)
    return ImmediateOut(target=row.target if row is not None else None)


@router.delete("", status_code=204)
async def delete_forwarding(me: Me, s: Db) -> Response:
    await p.set_forwarding(s, me.user_id, None)
    return Response(status_code=204)


@router.get("/activities", response_model=list[ActivityForwardOut])
async def list_activity_forwardings(me: Me, s: Db) -> list[ActivityForwardOut]:
    """All eight activities, each with its forwarding target (or null)."""
    return await _activities(s, me.user_id)


@router.put("/activities/{activity}", response_model=ActivityForwardOut)
async def put_activity_forwarding(
    activity: ActivityPath, body: TargetIn, me: Me, s: Db
) -> ActivityForwardOut:
    await p.set_forwarding(s, me.user_id, body.target, activity=activity)
    return (await _activities(s, me.user_id))[activity - 1]


@router.delete("/activities/{activity}", status_code=204)
async def delete_activity_forwarding(activity: ActivityPath, me: Me, s: Db) -> Response:
    await p.set_forwarding(s, me.user_id, None, activity=activity)
    return Response(status_code=204)
