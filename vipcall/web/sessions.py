"""Web sessions and API tokens in PostgreSQL.

The browser's cookie and an app's bearer token are random secrets; only their SHA-256 is
stored, so a copy of the table opens nothing. A session is valid while it has been used
within the idle limit; each use moves its ``last_seen_at`` on (at most once a minute, so a
busy page does not write on every request).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vipcall.db.models import ApiToken, User, WebSession

#: How often a used session's last-seen time is written at most.
TOUCH_EVERY = timedelta(minutes=1)


def new_secret() -> str:
    """A URL-safe random secret (256 bits)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for."""

    user_id: int
    organization_id: int
    username: str
    is_admin: bool
    via: str  # "session" | "token"
    csrf_token: str | None = None
    session_hash: str | None = None


def _principal(
    user: User, via: str, *, csrf: str | None = None, sid: str | None = None
) -> Principal:
    return Principal(
        user_id=user.id,
        organization_id=user.organization_id,
        username=user.username,
        is_admin=user.is_admin,
        via=via,
        csrf_token=csrf,
        session_hash=sid,
    )


async def open_session(
    s: AsyncSession, user: User, *, client_addr: str | None
) -> tuple[str, Principal]:
    """A new session for ``user``: (the cookie's secret, the principal)."""
    secret = new_secret()
    row = WebSession(
        token_hash=digest(secret),
        user_id=user.id,
        csrf_token=new_secret(),
        client_addr=client_addr,
    )
    s.add(row)
    await s.flush()
    return secret, _principal(user, "session", csrf=row.csrf_token, sid=row.token_hash)


async def session_principal(
    s: AsyncSession, secret: str, *, now: datetime, idle: timedelta
) -> Principal | None:
    """The principal of a live session, or None (unknown, or idle too long: then deleted)."""
    sid = digest(secret)
    found = (
        await s.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == sid)
        )
    ).first()
    if found is None:
        return None
    row, user = found
    if now - row.last_seen_at > idle:
        await s.execute(delete(WebSession).where(WebSession.token_hash == sid))
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        await s.execute(
            update(WebSession).where(WebSession.token_hash == sid).values(last_seen_at=now)
        )
    return _principal(user, "session", csrf=row.csrf_token, sid=sid)


async def close_session(s: AsyncSession, session_hash: str) -> None:
    await s.execute(delete(WebSession).where(WebSession.token_hash == session_hash))


async def close_user_sessions(s: AsyncSession, user_id: int) -> None:
    """Log a user out everywhere (after a password change)."""
    await s.execute(delete(WebSession).where(WebSession.user_id == user_id))


async def token_principal(s: AsyncSession, secret: str, *, now: datetime) -> Principal | None:
    """The principal of an API token, or None."""
    found = (
        await s.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == digest(secret))
        )
    ).first()
    if found is None:
        return None
    token, user = found
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        await s.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return _principal(user, "token")


async def issue_token(s: AsyncSession, user_id: int, label: str) -> tuple[int, str]:
    """A new API token: (its id, the secret — shown once, never stored)."""
    secret = "vip_" + new_secret()
    row = ApiToken(user_id=user_id, label=label, token_hash=digest(secret))
    s.add(row)
    await s.flush()
    return row.id, secret


async def list_tokens(s: AsyncSession, user_id: int) -> list[ApiToken]:
    rows = await s.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
    )
    return list(rows)


async def revoke_token(s: AsyncSession, user_id: int, token_id: int) -> bool:
    result = await s.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    return bool(getattr(result, "rowcount", 0))
