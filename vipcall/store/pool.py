"""The asyncpg pool of the call path."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN asyncpg wants for a SQLAlchemy URL."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


async def keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing to undo. The call path's connections never hold
    session state (no SET, LISTEN, cursor or session-level advisory lock: the listeners
    connect on their own, the service-number lock is per transaction), and asyncpg itself
    rolls back an open transaction before this runs. asyncpg's default reset would send
    ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` after every use: one
    more round trip per statement the call path makes."""


async def create_pool(url: str) -> asyncpg.Pool:
    """A pool that opens connections only when a call needs one, so the app starts (and
    fails open) while the database is away."""
    return await asyncpg.create_pool(
        asyncpg_dsn(url), min_size=0, max_size=10, command_timeout=10, timeout=5,
        reset=keep_session,
    )  # fmt: skip
