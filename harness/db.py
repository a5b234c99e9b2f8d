"""Throwaway PostgreSQL databases for tests.

    url = await fresh_database("vipcall_test")   # created + migrated to head
    ...
    await drop_database(url)

The server comes from ``VIPCALL_TEST_DATABASE_URL`` (any database on it; default
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``). Each call makes a database named
``<prefix>_<random>``.
"""

from __future__ import annotations

import os
import secrets

from sqlalchemy.engine import make_url

from vipcall.db.migrate import (
    create_database_if_missing_async,
    drop_database_async,
    upgrade_async,
)

DEFAULT_SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("VIPCALL_TEST_DATABASE_URL", DEFAULT_SERVER_URL)


def new_database_url(prefix: str = "vipcall_test") -> str:
    """A URL for a not-yet-created database ``<prefix>_<random>`` on the test server."""
    name = f"{prefix}_{secrets.token_hex(4)}".lower()
    url = make_url(server_url()).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


async def fresh_database(prefix: str = "vipcall_test", *, migrate: bool = True) -> str:
    """Create a new empty database (migrated to head unless ``migrate=False``); its URL."""
    url = new_database_url(prefix)
    await create_database_if_missing_async(url)
    if migrate:
        try:
            await upgrade_async(url)
        except BaseException:
            await drop_database_async(url)
            raise
    return url


async def drop_database(url: str) -> None:
    """Drop a database made by :func:`fresh_database` (forcing its connections closed)."""
    await drop_database_async(url)
