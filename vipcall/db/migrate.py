"""Programmatic migrations and database creation.

    create_database_if_missing(url)   # CREATE DATABASE if it does not exist
    upgrade(url)                      # alembic upgrade head
    downgrade(url, "base")

The plain functions work from synchronous code and from inside a running event loop (they
then run in a worker thread); ``*_async`` variants are for async callers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from vipcall.db.engine import async_url, create_engine

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "create_database_if_missing",
    "create_database_if_missing_async",
    "current_revision_async",
    "downgrade",
    "downgrade_async",
    "drop_database",
    "drop_database_async",
    "upgrade",
    "upgrade_async",
]

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = REPO_ROOT / "migrations"


def alembic_config(url: str | URL | None = None) -> Config:
    """An alembic Config pointing at the project's ``migrations/`` directory."""
    ini = REPO_ROOT / "alembic.ini"
    cfg = Config(str(ini)) if ini.exists() else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["configure_logger"] = False
    if url is not None:
        rendered = async_url(url).render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even if a loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())  # type: ignore[arg-type]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()  # type: ignore[arg-type]


async def _with_connection(url: str | URL, fn: Callable[[Connection], None]) -> None:
    engine = create_engine(url, poolclass=NullPool, pool_pre_ping=False)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(fn)
            await conn.commit()
    finally:
        await engine.dispose()


async def upgrade_async(url: str | URL, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` on ``url``."""
    cfg = alembic_config(url)

    def run(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    await _with_connection(url, run)


async def downgrade_async(url: str | URL, revision: str = "base") -> None:
    """``alembic downgrade <revision>`` on ``url``."""
    cfg = alembic_config(url)

    def run(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

    await _with_connection(url, run)


async def current_revision_async(url: str | URL) -> str | None:
    """The revision the database is at (None if never migrated)."""
    from alembic.runtime.migration import MigrationContext

    result: list[str | None] = []

    def run(conn: Connection) -> None:
        result.append(MigrationContext.configure(conn).get_current_revision())

    await _with_connection(url, run)
    return result[0]


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Run ``alembic upgrade head`` (or ``revision``) against ``url``."""
    _run(lambda: upgrade_async(url, revision))


def downgrade(url: str | URL, revision: str = "base") -> None:
    """Run ``alembic downgrade base`` (or ``revision``) against ``url``."""
    _run(lambda: downgrade_async(url, revision))


def _server_dsn(url: str | URL, database: str = "postgres") -> tuple[str, str]:
    """(libpq DSN of the maintenance database, name of the target database)."""
    parsed = async_url(url)
    name = parsed.database
    if not name:
        raise ValueError(f"database URL has no database name: {parsed!r}")
    server = parsed.set(drivername="postgresql", database=database)
    return server.render_as_string(hide_password=False), name


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def create_database_if_missing_async(url: str | URL) -> bool:
    """Create the database named in ``url`` if it does not exist. True if it was created."""
    dsn, name = _server_dsn(url)
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        try:
            await conn.execute(f"CREATE DATABASE {_quote_ident(name)}")
        except asyncpg.DuplicateDatabaseError:
            return False  # created concurrently
        return True
    finally:
        await conn.close()


async def drop_database_async(url: str | URL) -> None:
    """Drop the database named in ``url`` (terminating its connections); no error if absent."""
    dsn, name = _server_dsn(url)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
    finally:
        await conn.close()


def create_database_if_missing(url: str | URL) -> bool:
    """Sync wrapper of :func:`create_database_if_missing_async`."""
    return _run(lambda: create_database_if_missing_async(url))


def drop_database(url: str | URL) -> None:
    """Sync wrapper of :func:`drop_database_async`."""
    _run(lambda: drop_database_async(url))
