"""What a handler can ask for: the request's transaction, who is calling, the settings.

``Db``: one transaction per request, committed when the handler returns and rolled back on
any error, so a refused change leaves nothing half-written. ``Me``: the logged-in user, by
session cookie (unsafe methods also need the session's CSRF token in ``X-CSRF-Token``) or by
``Authorization: Bearer <token>``. ``Admin``: the same, for an organisation admin.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall.config import Settings
from vipcall.web.problems import Problem
from vipcall.web.sessions import Principal, session_principal, token_principal

COOKIE = "vipcall_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def now_of(request: Request) -> datetime:
    """The clock (tests may replace ``app.state.clock``)."""
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", lambda: datetime.now(UTC))
    return clock()


def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


async def db(request: Request) -> AsyncIterator[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as session, session.begin():
        yield session


Db = Annotated[AsyncSession, Depends(db, scope="function")]
AppSettings = Annotated[Settings, Depends(settings_of)]
Now = Annotated[datetime, Depends(now_of)]


async def optional_principal(request: Request, s: Db) -> Principal | None:
    """Who is calling, or None; enforces CSRF on unsafe methods over a cookie session."""
    now = now_of(request)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        principal = await token_principal(s, auth[7:].strip(), now=now)
        if principal is None:
            raise Problem(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        return principal
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    idle = timedelta(minutes=settings_of(request).web_idle_minutes)
    principal = await session_principal(s, secret, now=now, idle=idle)
    if principal is None:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
            raise Problem(403, f"missing or wrong {CSRF_HEADER} header (CSRF protection)")
    return principal


OptionalMe = Annotated[Principal | None, Depends(optional_principal)]


async def current_principal(principal: OptionalMe) -> Principal:
    if principal is None:
        raise Problem(401, "log in first (kirjaudu ensin sisään)")
    return principal


Me = Annotated[Principal, Depends(current_principal)]


async def current_admin(principal: Me) -> Principal:
    if not principal.is_admin:
        raise Problem(403, "for organisation admins only (vain pääkäyttäjälle)")
    return principal


Admin = Annotated[Principal, Depends(current_admin)]
