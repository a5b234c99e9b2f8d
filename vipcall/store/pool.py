"""The asyncpg pool of the call path."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN asyncpg wants for a SQLAlchemy URL."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


async def create_pool(url: str) -> asyncpg.Pool:
    """A pool that opens connections only when a call needs one, so the app starts (and
    fails open) while the database is away."""
    return await asyncpg.create_pool(
        asyncpg_dsn(url), min_size=0, max_size=10, command_timeout=10, timeout=5
    )
