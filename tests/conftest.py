"""Fixtures every test folder may use: one migrated throwaway PostgreSQL database per test
session (dropped at the end), emptied before each test that asks for ``engine``.

Test modules using them declare ``pytestmark = pytest.mark.asyncio(loop_scope="session")``:
the fixtures' asyncpg connections belong to the session event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from harness.db import drop_database, fresh_database
from vipcall.db.engine import create_engine
from vipcall.db.models import Base


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database_url() -> AsyncIterator[str]:
    url = await fresh_database("vipcall_test")
    try:
        yield url
    finally:
        await drop_database(url)


@pytest_asyncio.fixture(loop_scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(database_url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with eng.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    try:
        yield eng
    finally:
        await eng.dispose()


def pytest_collection_modifyitems(config: object, items: list[Any]) -> None:
    """Run the end-to-end scenarios last. Their async tests each run on a loop of their own
    and start SIPp subprocesses; a session-loop test after them (the browser tests'
    Playwright connection) found its futures on a different loop. Nothing after the
    scenarios shares the session loop."""
    items.sort(key=lambda item: "/tests/scenarios/" in str(getattr(item, "path", "")))
