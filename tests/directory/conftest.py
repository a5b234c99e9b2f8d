"""Session fixtures for directory tests; the database itself comes from tests/conftest.py
(one migrated throwaway database per test session, emptied before each test).

Test modules here declare ``pytestmark = pytest.mark.asyncio(loop_scope="session")``: the
fixtures' asyncpg connections belong to the session event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from vipcall.db.engine import session_factory


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest_asyncio.fixture(loop_scope="session")
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as s:
        yield s
