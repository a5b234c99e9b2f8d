"""Live updates for an open page: ``GET /api/v1/me/events``, a ``text/event-stream``.

On connect, and whenever the user's presence may have changed (PostgreSQL's notify through
:class:`vipcall.web.live.PresenceHub`, or a scheduled activity starting or ending), the
stream sends ``event: presence`` with the presence in effect as JSON, when it differs from
what it last sent. A comment line (``: keep-alive``) every :data:`KEEP_ALIVE` seconds keeps
proxies from closing a quiet stream. Browsers use ``EventSource`` (the session cookie goes
with it); apps send their bearer token.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall.db.models import ScheduledActivity
from vipcall.directory import presence as p
from vipcall.prompts import activity_name, role_name
from vipcall.web.deps import Me, now_of
from vipcall.web.live import hub_of

router = APIRouter(prefix="/api/v1/me", tags=["live"])

#: Seconds between keep-alive comments on a quiet stream.
KEEP_ALIVE = 15.0


def next_change(scheduled: Sequence[ScheduledActivity], now: datetime) -> datetime | None:
    """When the activity in effect may next change by itself: the next start or end of a
    scheduled activity after ``now`` (``None``: nothing scheduled)."""
    times = [t for s in scheduled for t in (s.starts_at, s.ends_at) if t > now]
    return min(times, default=None)


async def presence_event(
    sessions: async_sessionmaker[AsyncSession], user_id: int, now: datetime
) -> tuple[dict[str, Any], datetime | None]:
    """The ``presence`` event's data for the user now, and when to look again by itself."""
    async with sessions() as s:
        view = await p.presence_view(s, user_id, now)
        scheduled = await p.list_scheduled_activities(s, user_id, ending_after=now)
    pr = view.presence
    colour = view.colour(pr.activity)
    data = {
        # the shapes of GET /api/v1/me/presence's activity and role
        "activity": {
            "id": pr.activity,
            "fi": activity_name(pr.activity, "fi"),
            "en": activity_name(pr.activity, "en"),
            "colour": colour,
        },
        "role": {"id": pr.role, "fi": role_name(pr.role, "fi"), "en": role_name(pr.role, "en")},
        "colour": colour,
        "scheduled": view.in_effect is not None,
        "red_until": pr.red_until.isoformat() if pr.red_until else None,
    }
    return data, next_change(scheduled, now)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get(
    "/events",
    summary="Live updates (text/event-stream): event presence on every change",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(request: Request, me: Me) -> StreamingResponse:
    hub = hub_of(request.app)
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    user_id = me.user_id

    async def stream() -> AsyncIterator[str]:
        with hub.subscribe(user_id) as changed:
            last: dict[str, Any] | None = None
            yield "retry: 3000\n\n"
            while True:
                now = now_of(request)
                data, again = await presence_event(sessions, user_id, now)
                if data != last:
                    yield _sse("presence", data)
                    last = data
                wait = KEEP_ALIVE
                if again is not None:
                    wait = min(wait, max(0.05, (again - datetime.now(UTC)).total_seconds()))
                try:
                    await asyncio.wait_for(changed.get(), wait)
                except TimeoutError:
                    if again is None or again > datetime.now(UTC):
                        yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
