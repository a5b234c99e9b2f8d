"""Fixtures every test folder may use: one migrated throwaway PostgreSQL database per test
session (dropped at the end), emptied before each test that asks for ``engine``.

Test modules using them declare ``pytestmark = pytest.mark.asyncio(loop_scope="session")``:
the fixtures' asyncpg connections belong to the session event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pytest_asyncio import is_async_test
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


def _scenario(item: Any) -> bool:
    return "/tests/scenarios/" in str(getattr(item, "path", ""))


def pytest_collection_modifyitems(config: object, items: list[Any]) -> None:
    """One event loop for every async test outside the end-to-end scenarios, and the
    scenarios last.

    pytest-asyncio 0.24 runs a test on the thread's *current* loop, and the teardown of a
    function-scoped loop installs a fresh current loop. So a session-loop test that came
    after a function-loop test (the SMTP-security tests, say) ran on that fresh loop while
    its fixtures' asyncpg and Playwright connections lived on the session loop: "attached to
    a different loop" for every web test after them. Giving every such test the session
    loop (pytest-asyncio's own advice) leaves no function loop to interleave.

    The scenarios' async tests each run on a loop of their own (they start SIPp
    subprocesses and real apps); they run last, so nothing after them shares a loop."""
    session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if is_async_test(item) and not _scenario(item):
            item.add_marker(session_loop, append=False)
    items.sort(key=_scenario)
