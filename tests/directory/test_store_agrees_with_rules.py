"""The call-time store and the pure rules agree on random data.

The store (:mod:`vipcall.store.calls`) gathers in SQL what the rules read: the manual
activity, the scheduled activities, the forwardings and the users a forwarding reaches
(a recursive query). Random users, schedules and forwarding graphs are written to a real
PostgreSQL; the decision routing makes from the store's snapshot must equal the decision
made from a snapshot built in Python straight from the same data, and the service layer's
presence view must show the same activity.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall import directory
from vipcall.db.engine import session_factory, transaction
from vipcall.presence.activity import Period, activity_in_effect
from vipcall.presence.forwarding import Forwarding, Reached, next_hops_now
from vipcall.presence.model import DEFAULT_RED_ACTIVITIES, Activity
from vipcall.routing.rules import Policy, route_inbound
from vipcall.routing.snapshot import Organization, Subscriber
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import create_pool

pytestmark = pytest.mark.asyncio(loop_scope="session")

MOBILES = ("+358401230001", "+358401230002", "+358401230003", "+358401230004")
EXTERNAL = "+358501239999"
activities = st.integers(min_value=1, max_value=8)
periods = st.lists(
    st.tuples(activities, st.integers(-180, 180), st.integers(1, 240)), max_size=3
)
targets = st.sampled_from((*MOBILES, EXTERNAL))
forwardings = st.tuples(
    st.none() | targets, st.dictionaries(activities, targets, max_size=2)
)
people = st.lists(st.tuples(activities, periods, forwardings), min_size=4, max_size=4)


def expected_snapshot(
    data: list[tuple[int, list[tuple[int, int, int]], tuple[str | None, dict[int, str]]]],
    now: datetime,
    org: Organization,
) -> Subscriber:
    """User 0 as the rules should see them, computed in Python from the generated data."""
    users = []
    for mobile, (manual, sched, (immediate, by_activity)) in zip(MOBILES, data, strict=True):
        ps = tuple(
            Period(a, now + timedelta(minutes=s), now + timedelta(minutes=s + n))
            for a, s, n in sched
        )
        fs = (
            *((Forwarding(immediate),) if immediate else ()),
            *(Forwarding(t, a) for a, t in sorted(by_activity.items())),
        )
        users.append(Reached((mobile,), manual, ps, fs))
    me = users[0]
    # Everyone reachable from user 0's targets by any forwarding.
    by_number = {u.numbers[0]: u for u in users}
    seen: set[str] = set()
    todo = [f.target for f in me.forwardings]
    while todo:
        number = todo.pop()
        if number in seen or number not in by_number:
            continue
        seen.add(number)
        todo.extend(f.target for f in by_number[number].forwardings)
    hops = next_hops_now((by_number[n] for n in seen), now)
    immediate, by_activity = data[0][2]
    return Subscriber(
        id=0,
        org=org,
        mobile=MOBILES[0],
        activity=Activity(activity_in_effect(me.manual_activity, me.scheduled, now)),
        immediate_forward=immediate,
        activity_forwards={Activity(a): t for a, t in by_activity.items()},
        forward_hops=hops,
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=people)
async def test_store_snapshot_routes_like_the_rules(
    engine: AsyncEngine, database_url: str, data: list
) -> None:  # type: ignore[type-arg]
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE organizations RESTART IDENTITY CASCADE"))
    now = datetime.now(UTC)
    sessions = session_factory(engine)
    async with transaction(sessions) as s:
        org = await directory.create_organization(s, name="Org", domain="agree.fi")
        ids = []
        for i, mobile in enumerate(MOBILES):
            user = await directory.create_user(
                s, organization="agree.fi", display_name=f"U{i}", mobile=mobile
            )
            ids.append(user.id)
    async with engine.begin() as conn:
        for user_id, (manual, sched, (immediate, by_activity)) in zip(ids, data, strict=True):
            await conn.execute(
                text("UPDATE users SET activity = :a WHERE id = :id"), {"a": manual, "id": user_id}
            )
            for a, start, length in sched:
                await conn.execute(
                    text(
                        "INSERT INTO scheduled_activities (user_id, activity, starts_at, ends_at)"
                        " VALUES (:u, :a, :s, :e)"
                    ),
                    {
                        "u": user_id,
                        "a": a,
                        "s": now + timedelta(minutes=start),
                        "e": now + timedelta(minutes=start + length),
                    },
                )
            rows = ([("immediate", None, immediate)] if immediate else []) + [
                ("activity", a, t) for a, t in sorted(by_activity.items())
            ]
            for kind, activity, target in rows:
                await conn.execute(
                    text(
                        "INSERT INTO forwardings (user_id, kind, activity, target)"
                        " VALUES (:u, :k, :a, :t)"
                    ),
                    {"u": user_id, "k": kind, "a": activity, "t": target},
                )
    pool = await create_pool(database_url)
    try:
        _, callee = await DbCallStore(pool, engine).parties(None, None, MOBILES[0])
    finally:
        await pool.close()
    assert callee is not None
    organization = Organization(id=org.id, red_activities=DEFAULT_RED_ACTIVITIES)
    want = expected_snapshot(data, now, organization)
    assert callee.activity == want.activity
    assert callee.forward_hops == want.forward_hops
    policy = Policy()
    got = route_inbound(callee, MOBILES[0], policy)
    expected = route_inbound(
        Subscriber(**{**{f: getattr(want, f) for f in want.__slots__}, "id": callee.id}),
        MOBILES[0],
        policy,
    )
    assert got == expected
    async with sessions() as s:
        presence = await directory.get_presence(s, MOBILES[0], now)
    assert presence.activity == want.activity
