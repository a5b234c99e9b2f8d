"""Support of the "me" tests: what the endpoints may write, read back whole (a refused change
must leave it equal), and the call app's own view of a user (the next call's routing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall.db.engine import session_factory
from vipcall.db.models import (
    Contact,
    Forwarding,
    ScheduledActivity,
    ServiceNumberMember,
    Softphone,
    User,
    VipColleague,
    VoicemailMessage,
    VoicemailSettings,
)
from vipcall.routing.snapshot import Subscriber
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import create_pool

TABLES = (
    User,
    ScheduledActivity,
    Forwarding,
    Contact,
    VipColleague,
    VoicemailSettings,
    VoicemailMessage,
    Softphone,
    ServiceNumberMember,
)


async def snapshot(engine: AsyncEngine) -> dict[str, list[Any]]:
    """Every row of the user-data tables (audio included), in a stable order."""
    out: dict[str, list[Any]] = {}
    async with session_factory(engine)() as s:
        for model in TABLES:
            table = model.__table__  # type: ignore[attr-defined]
            rows = (await s.execute(select(table))).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


@pytest_asyncio.fixture(loop_scope="session")
async def call_app(database_url: str, engine: AsyncEngine) -> AsyncIterator[DbCallStore]:
    """The call app's own storage (its asyncpg pool and its one lookup query per call): what
    the next call is routed by."""
    pool = await create_pool(database_url)
    try:
        yield DbCallStore(pool, engine)
    finally:
        await pool.close()


async def callee(app: DbCallStore, number: str, caller: str | None = None) -> Subscriber:
    """The user called at ``number`` as the next call's routing sees them."""
    _, found = await app.parties(caller, None, number)
    assert found is not None
    return found
