"""The call-path lookup (vipcall.routing.lookup) against a real PostgreSQL: one query gives
routing everything it reads, and the loop check at call time follows the forwardings in
effect now."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall import directory
from vipcall.db.engine import session_factory, transaction
from vipcall.presence.model import Activity
from vipcall.routing.decisions import Handset, Pstn, Ring
from vipcall.routing.rules import Policy, route_inbound
from vipcall.store.calls import DbCallStore as DbCallState
from vipcall.store.pool import create_pool

pytestmark = pytest.mark.asyncio(loop_scope="session")

A, B = "+358401110001", "+358401110002"
A_LANDLINE = "+35891110001"


@pytest_asyncio.fixture(loop_scope="session")
async def state(engine: AsyncEngine, database_url: str) -> AsyncIterator[DbCallState]:
    async with transaction(session_factory(engine)) as s:
        await directory.create_organization(s, name="Org", domain="org.fi", red_activities=[3])
        await directory.create_user(s, organization="org.fi", display_name="A", mobile=A,
                                    landline=A_LANDLINE)  # fmt: skip
        await directory.create_user(s, organization="org.fi", display_name="B", mobile=B)
    pool = await create_pool(database_url)
    try:
        yield DbCallState(pool, engine)
    finally:
        await pool.close()


async def forward(engine: AsyncEngine, owner: str, target: str, activity: int | None) -> None:
    """Written straight to the table: the service would refuse some of these."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO forwardings (user_id, kind, activity, target)"
                " SELECT id, :kind, :activity, :target FROM users WHERE mobile_number = :owner"
            ),
            {"kind": "immediate" if activity is None else "activity", "activity": activity,
             "target": target, "owner": owner},
        )  # fmt: skip


async def test_one_query_gives_caller_and_callee(state: DbCallState) -> None:
    caller, callee = await state.parties(B, None, A_LANDLINE)
    assert caller is not None and caller.mobile == B
    assert callee is not None and callee.mobile == A and callee.landline == A_LANDLINE
    assert callee.org.red_activities == frozenset({Activity.LUNCH})


async def test_scheduled_activity_is_the_activity_in_effect(
    state: DbCallState, engine: AsyncEngine
) -> None:
    now = datetime.now(UTC)
    async with transaction(session_factory(engine)) as s:
        await directory.add_scheduled_activity(
            s, A, 3, now - timedelta(minutes=5), now + timedelta(hours=1)
        )
    _, callee = await state.parties(None, None, A)
    assert callee is not None and callee.activity == Activity.LUNCH


async def test_forward_to_someone_whose_forward_back_is_not_on_now_is_placed(
    state: DbCallState, engine: AsyncEngine
) -> None:
    await forward(engine, A, B, None)
    await forward(engine, B, A, 3)  # B -> A only while B is at lunch; B is available
    _, callee = await state.parties(None, None, A)
    assert callee is not None
    assert route_inbound(callee, A, Policy()) == Ring((Pstn(B),), 30, callee.id)


async def test_forward_into_a_loop_in_effect_now_is_passed_over(
    state: DbCallState, engine: AsyncEngine
) -> None:
    await forward(engine, A, B, None)
    await forward(engine, B, A, None)
    _, callee = await state.parties(None, None, A)
    assert callee is not None
    assert route_inbound(callee, A, Policy()) == Ring((Handset(A),), 30, callee.id)
