"""Wrong attempts (passwords, codes) are logged in ``auth_events`` and limited per username
and per client address within a window; the limits are one table here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vipcall.db.models import AuthEvent

log = logging.getLogger("vipcall.web.auth")


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``per_user`` events of ``kind`` for one username and ``per_addr`` from one
    client address within ``window``."""

    kind: str
    per_user: int
    per_addr: int
    window: timedelta


LOGIN_FAILED = Limit("login_failed", per_user=10, per_addr=30, window=timedelta(minutes=15))
CODE_REQUESTED = Limit("code_requested", per_user=5, per_addr=20, window=timedelta(hours=1))
CODE_FAILED = Limit("code_failed", per_user=5, per_addr=20, window=timedelta(minutes=15))


def exceeded(limit: Limit, *, by_user: int, by_addr: int) -> bool:
    """The rule: a limit is reached when either count has reached its maximum."""
    return by_user >= limit.per_user or by_addr >= limit.per_addr


async def over_limit(
    s: AsyncSession, limit: Limit, *, username: str, client_addr: str | None, now: datetime
) -> bool:
    since = now - limit.window
    base = (
        select(func.count())
        .select_from(AuthEvent)
        .where(AuthEvent.kind == limit.kind, AuthEvent.at > since)
    )
    by_user = await s.scalar(base.where(AuthEvent.username == username)) or 0
    by_addr = 0
    if client_addr is not None:
        by_addr = await s.scalar(base.where(AuthEvent.client_addr == client_addr)) or 0
    return exceeded(limit, by_user=by_user, by_addr=by_addr)


async def record(
    s: AsyncSession,
    kind: str,
    *,
    username: str | None,
    user_id: int | None,
    client_addr: str | None,
    now: datetime,
) -> None:
    """Log an authentication event (and keep it for the limits)."""
    log.info("auth %s username=%s user_id=%s from=%s", kind, username, user_id, client_addr)
    s.add(AuthEvent(kind=kind, username=username, user_id=user_id, client_addr=client_addr, at=now))
    await s.flush()
