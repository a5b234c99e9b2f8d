"""The routing state held in memory agrees with the database, change after change.

Random users (activities, schedules, forwarding graphs, softphones, voicemail groups, VIP
contacts and colleagues, absence-notice settings, stopped calls, the organisation's red
set) are written to a real PostgreSQL while a :class:`RoutingCache` listens; then random
changes are made the way any writer makes them (plain SQL, so only migration 0008's
triggers can tell the cache). After each round, for every caller/softphone/dialled number
combination, the snapshot from memory must equal the one
:class:`vipcall.store.calls.DbCallStore` reads from the database at the same moment.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall import directory
from vipcall.db.engine import session_factory, transaction
from vipcall.routing.snapshot import Subscriber
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import asyncpg_dsn, create_pool
from vipcall.store.routing_cache import CachedCallStore, RoutingCache

pytestmark = pytest.mark.asyncio(loop_scope="session")

MOBILES = ("+358401230001", "+358401230002", "+358401230003", "+358401230004")
LANDLINES = ("+358921230001", "+358921230002", None, None)
EXTERNAL = "+358501239999"
NUMBERS = (*MOBILES, "+358921230001", "+358921230002", EXTERNAL)

activities = st.integers(min_value=1, max_value=8)
periods = st.lists(st.tuples(activities, st.integers(-180, 180), st.integers(1, 240)), max_size=2)
targets = st.sampled_from((*MOBILES, EXTERNAL))
forwardings = st.tuples(st.none() | targets, st.dictionaries(activities, targets, max_size=2))
person = st.fixed_dictionaries(
    {
        "activity": activities,
        "role": st.integers(1, 5),
        "periods": periods,
        "forwardings": forwardings,
        "softphones": st.integers(0, 2),
        "no_voicemail": st.booleans(),
        "vip": st.lists(st.sampled_from(NUMBERS), max_size=2),
        "vip_colleagues": st.lists(st.integers(0, 3), max_size=2),
        "absence": st.none()
        | st.tuples(st.booleans(), st.booleans(), st.integers(2, 4), st.integers(1, 30)),
        "stopped": st.lists(st.tuples(st.sampled_from(NUMBERS), st.integers(0, 2000)), max_size=3),
    }
)
change = st.one_of(
    st.tuples(st.just("activity"), st.integers(0, 3), activities),
    st.tuples(st.just("role"), st.integers(0, 3), st.integers(1, 5)),
    st.tuples(st.just("forward"), st.integers(0, 3), st.none() | targets),
    st.tuples(st.just("schedule"), st.integers(0, 3), activities),
    st.tuples(st.just("unschedule"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("red"), st.just(0), st.lists(activities, max_size=4)),
    st.tuples(st.just("group_kind"), st.just(0), st.sampled_from(("no_voicemail", "custom"))),
    st.tuples(st.just("landline"), st.integers(0, 3), st.sampled_from((None, "+358921239998"))),
    st.tuples(st.just("mobile"), st.integers(1, 3), st.just("+358401239997")),
    st.tuples(st.just("stop"), st.integers(0, 3), st.sampled_from(NUMBERS)),
    st.tuples(st.just("delete"), st.integers(1, 3), st.just(0)),
    st.tuples(st.just("service_number"), st.just(0), st.sampled_from((EXTERNAL, MOBILES[3]))),
)


async def _write_people(conn: asyncpg.Connection, org_id: int, ids: list[int], data: list) -> None:  # type: ignore[type-arg]
    now = datetime.now(UTC)
    group = await conn.fetchval(
        "INSERT INTO groups (organization_id, name, kind) VALUES ($1, 'nv', 'no_voicemail')"
        " RETURNING id",
        org_id,
    )
    for i, (user_id, p) in enumerate(zip(ids, data, strict=True)):
        await conn.execute(
            "UPDATE users SET activity = $1, role = $2, landline_number = $3 WHERE id = $4",
            p["activity"], p["role"], LANDLINES[i], user_id,
        )  # fmt: skip
        for a, start, length in p["periods"]:
            await conn.execute(
                "INSERT INTO scheduled_activities (user_id, activity, starts_at, ends_at)"
                " VALUES ($1, $2, $3, $4)",
                user_id, a, now + timedelta(minutes=start), now + timedelta(minutes=start + length),
            )  # fmt: skip
        immediate, by_activity = p["forwardings"]
        rows = ([("immediate", None, immediate)] if immediate else []) + [
            ("activity", a, t) for a, t in sorted(by_activity.items())
        ]
        for kind, activity, target in rows:
            await conn.execute(
                "INSERT INTO forwardings (user_id, kind, activity, target) VALUES ($1,$2,$3,$4)",
                user_id, kind, activity, target,
            )  # fmt: skip
        for n in range(p["softphones"]):
            await conn.execute(
                "INSERT INTO softphones (user_id, seq, sip_username, sip_password)"
                " VALUES ($1, $2, $3, 'x')",
                user_id, n + 1, f"sp-{user_id}-{n + 1}",
            )  # fmt: skip
        if p["no_voicemail"]:
            await conn.execute(
                "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)", group, user_id
            )
        for number in p["vip"]:
            await conn.execute(
                "INSERT INTO contacts (organization_id, owner_user_id, name, number, is_vip)"
                " VALUES ($1, $2, 'c', $3, true)",
                org_id, user_id, number,
            )  # fmt: skip
        for j in set(p["vip_colleagues"]):
            if ids[j] != user_id:
                await conn.execute(
                    "INSERT INTO vip_colleagues (user_id, colleague_id) VALUES ($1, $2)",
                    user_id, ids[j],
                )  # fmt: skip
        if p["absence"] is not None:
            on_red, breakthrough, calls, minutes = p["absence"]
            await conn.execute(
                "INSERT INTO voicemail_settings (user_id, notice_on_scheduled_red,"
                " repeat_breakthrough, repeat_calls, repeat_minutes, offer_customer_service,"
                " customer_service_number) VALUES ($1, $2, $3, $4, $5, true, $6)"
                " ON CONFLICT (user_id) DO UPDATE SET notice_on_scheduled_red = $2,"
                " repeat_breakthrough = $3, repeat_calls = $4, repeat_minutes = $5,"
                " offer_customer_service = true, customer_service_number = $6",
                user_id, on_red, breakthrough, calls, minutes, EXTERNAL,
            )  # fmt: skip
        for caller, seconds_ago in p["stopped"]:
            await conn.execute(
                "INSERT INTO stopped_calls (user_id, caller_number, at) VALUES ($1, $2, $3)",
                user_id, caller, now - timedelta(seconds=seconds_ago),
            )  # fmt: skip


async def _apply(conn: asyncpg.Connection, org_id: int, ids: list[int], c: tuple) -> None:  # type: ignore[type-arg]
    kind, who, value = c
    user_id = ids[who]
    now = datetime.now(UTC)
    match kind:
        case "activity":
            await conn.execute("UPDATE users SET activity = $1 WHERE id = $2", value, user_id)
        case "role":
            await conn.execute("UPDATE users SET role = $1 WHERE id = $2", value, user_id)
        case "forward":
            await conn.execute(
                "DELETE FROM forwardings WHERE user_id = $1 AND kind = 'immediate'", user_id
            )
            if value is not None:
                await conn.execute(
                    "INSERT INTO forwardings (user_id, kind, target) VALUES ($1, 'immediate', $2)",
                    user_id, value,
                )  # fmt: skip
        case "schedule":
            await conn.execute(
                "INSERT INTO scheduled_activities (user_id, activity, starts_at, ends_at)"
                " VALUES ($1, $2, $3, $4)",
                user_id, value, now - timedelta(minutes=5), now + timedelta(minutes=30),
            )  # fmt: skip
        case "unschedule":
            await conn.execute("DELETE FROM scheduled_activities WHERE user_id = $1", user_id)
        case "red":
            await conn.execute(
                "UPDATE organizations SET red_activities = $1 WHERE id = $2",
                sorted(set(value)), org_id,
            )  # fmt: skip
        case "group_kind":
            await conn.execute(
                "UPDATE groups SET kind = $1 WHERE organization_id = $2", value, org_id
            )
        case "landline":
            await conn.execute(
                "UPDATE users SET landline_number = $1 WHERE id = $2 AND NOT EXISTS"
                " (SELECT 1 FROM users WHERE landline_number = $1)",
                value, user_id,
            )  # fmt: skip
        case "mobile":
            await conn.execute(
                "UPDATE users SET mobile_number = $1 WHERE id = $2 AND NOT EXISTS"
                " (SELECT 1 FROM users WHERE mobile_number = $1)",
                value, user_id,
            )  # fmt: skip
        case "stop":
            await conn.execute(
                "INSERT INTO stopped_calls (user_id, caller_number) VALUES ($1, $2)", user_id, value
            )
        case "delete":
            await conn.execute("DELETE FROM users WHERE id = $1", user_id)
        case "service_number":
            await conn.execute("DELETE FROM service_numbers")
            if not await conn.fetchval(
                "SELECT 1 FROM users WHERE mobile_number = $1 OR landline_number = $1", value
            ):
                await conn.execute(
                    "INSERT INTO service_numbers (organization_id, name, number, kind)"
                    " VALUES ($1, 'sn', $2, 'group')",
                    org_id, value,
                )  # fmt: skip


def _same(a: Subscriber | None, b: Subscriber | None) -> bool:
    return a == b


async def _agree(db: DbCallStore, cache: RoutingCache, ids: list[int]) -> None:
    softphones = [None, *(f"sp-{i}-1" for i in ids)]
    for softphone in softphones:
        for caller in (None, *NUMBERS) if softphone is None else (None,):
            for dialled in (None, *NUMBERS, "+358401239997", "+358921239998"):
                now = datetime.now(UTC)
                want = await db.parties(caller, softphone, dialled)
                got = cache.parties(caller, softphone, dialled, now)
                assert _same(got[0], want[0]), (caller, softphone, dialled, got[0], want[0])
                assert _same(got[1], want[1]), (caller, softphone, dialled, got[1], want[1])
    for user_id in ids:
        assert cache.user(user_id, datetime.now(UTC)) == await db.user(user_id)
    for number in NUMBERS:
        assert cache.service_numbers.get(number) == await db.service_number_at(number)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.lists(person, min_size=4, max_size=4), changes=st.lists(change, max_size=6))
async def test_cache_agrees_with_the_database(
    engine: AsyncEngine,
    database_url: str,
    data: list,  # type: ignore[type-arg]
    changes: list,  # type: ignore[type-arg]
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE organizations RESTART IDENTITY CASCADE"))
        await conn.execute(text("TRUNCATE stopped_calls, service_numbers CASCADE"))
    sessions = session_factory(engine)
    async with transaction(sessions) as s:
        org = await directory.create_organization(s, name="Org", domain="cache.fi")
        ids = []
        for i, mobile in enumerate(MOBILES):
            user = await directory.create_user(
                s, organization="cache.fi", display_name=f"U{i}", mobile=mobile
            )
            ids.append(user.id)
    dsn = asyncpg_dsn(database_url)
    cache = RoutingCache(lambda: asyncpg.connect(dsn))
    listener = asyncio.create_task(cache.run())
    pool = await create_pool(database_url)
    conn = await asyncpg.connect(dsn)
    try:
        assert await cache.wait_fresh(10)
        db = DbCallStore(pool, engine)
        await _write_people(conn, org.id, ids, data)  # after the load: notified
        assert await cache.caught_up(conn, 10)
        await _agree(db, cache, ids)
        deleted: set[int] = set()
        for c in changes:
            if c[1] in deleted and c[0] not in ("red", "group_kind", "service_number"):
                continue  # a change of a user deleted earlier in the list
            await _apply(conn, org.id, ids, c)
            if c[0] == "delete":
                deleted.add(c[1])
        assert await cache.caught_up(conn, 10)
        await _agree(db, cache, ids)
        # A full load of the same state agrees too.
        reloaded = RoutingCache(lambda: asyncpg.connect(dsn))
        await reloaded.load(conn)
        await _agree(db, reloaded, ids)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await conn.close()
        await pool.close()


async def test_a_write_of_this_node_is_read_by_the_next_call(
    engine: AsyncEngine, database_url: str
) -> None:
    """A feature code's write marks the user: the very next call reads it, even before the
    notification has been applied (here it never is: the cache does not listen)."""
    sessions = session_factory(engine)
    async with transaction(sessions) as s:
        await directory.create_organization(s, name="Org", domain="touch.fi")
        user = await directory.create_user(
            s, organization="touch.fi", display_name="T", mobile=MOBILES[0]
        )
    dsn = asyncpg_dsn(database_url)
    cache = RoutingCache(lambda: asyncpg.connect(dsn))
    pool = await create_pool(database_url)
    conn = await asyncpg.connect(dsn)
    try:
        await cache.load(conn)
        cache.listening = True  # as if listening, but no notification will be applied
        store = CachedCallStore(pool, engine, cache, 2.0)
        _, before = await store.parties(None, None, MOBILES[0])
        assert before is not None and before.activity == 1
        await store.set_activity(user.id, 5)
        _, after = await store.parties(None, None, MOBILES[0])
        assert after is not None and after.activity == 5
        # Once the re-read that started after the write is applied, memory answers again.
        await cache.apply_pending(conn)
        assert not cache.dirty(user.id)
        _, cached = cache.parties(None, None, MOBILES[0], datetime.now(UTC))
        assert cached is not None and cached.activity == 5
    finally:
        await conn.close()
        await pool.close()


async def test_routes_from_the_remembered_state_while_the_database_is_away(
    engine: AsyncEngine, database_url: str
) -> None:
    """Not listening (the database went away) and the database does not answer: the call
    is routed from the state remembered, not failed open."""
    sessions = session_factory(engine)
    async with transaction(sessions) as s:
        await directory.create_organization(s, name="Org", domain="away.fi")
        await directory.create_user(s, organization="away.fi", display_name="A", mobile=MOBILES[1])
        await directory.set_activity(s, MOBILES[1], 4)
    dsn = asyncpg_dsn(database_url)
    cache = RoutingCache(lambda: asyncpg.connect(dsn))
    conn = await asyncpg.connect(dsn)
    try:
        await cache.load(conn)
    finally:
        await conn.close()
    # A pool to a port nothing listens on: every database read fails at once.
    dead = await create_pool("postgresql+asyncpg://postgres@127.0.0.1:9/none")
    try:
        store = CachedCallStore(dead, engine, cache, 0.5)
        assert not cache.fresh
        _, callee = await store.parties(EXTERNAL, None, MOBILES[1])
        assert callee is not None and callee.activity == 4
        assert store.stale_reads == 1
    finally:
        await dead.close()
