"""Real parts for the notice tests: the throwaway PostgreSQL database of tests/conftest.py,
Debian's Kannel (bearerbox + smsbox + fakesmsc) on loopback, and an aiosmtpd SMTP server on
loopback that keeps what arrived.

Test modules declare ``pytestmark = pytest.mark.asyncio(loop_scope="session")``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

import harness.kannel as kannel
from harness.sandbox import unavailable
from tests.notices.parts import SmtpServer, Users, wav
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import create_pool


@pytest_asyncio.fixture(loop_scope="session")
async def pool(database_url: str, engine: AsyncEngine) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url)
    try:
        yield p
    finally:
        await p.close()


@pytest.fixture
def store(pool: asyncpg.Pool, engine: AsyncEngine) -> DbCallStore:
    return DbCallStore(pool, engine)


@pytest.fixture
def users(pool: asyncpg.Pool) -> Users:
    return Users(pool)


@pytest.fixture(scope="session")
def kannel_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[kannel.KannelChain]:
    why = kannel.ensure_installed()
    if why:
        unavailable(f"Kannel not available: {why}")
    chain = kannel.KannelChain(tmp_path_factory.mktemp("kannel"))
    chain.start()
    try:
        yield chain
    finally:
        chain.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.up()
    try:
        yield server
    finally:
        server.down()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """The SMTP server's port, nobody listening yet (the test calls ``up()``)."""
    server = SmtpServer()
    try:
        yield server
    finally:
        server.down()


@pytest.fixture
def audio() -> bytes:
    return wav()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
