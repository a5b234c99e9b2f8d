"""Directory service layer against a real (throwaway) PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall import directory as d
from vipcall.db.engine import transaction
from vipcall.db.models import (
    Forwarding,
    Mailbox,
    Organization,
    ScheduledActivity,
    User,
    VoicemailSettings,
)
from vipcall.directory.presence import ACTIVITY_CHANGE
from vipcall.presence.activity import activity_in_effect
from vipcall.store.pool import create_pool
from vipcall.store.sql import PoolStatements

pytestmark = pytest.mark.asyncio(loop_scope="session")

DOMAIN = "taipalsaari.fi"


async def _org(s: AsyncSession, domain: str = DOMAIN) -> Organization:
    return await d.create_organization(
        s, name="Taipalsaaren kunta", domain=domain, switchboard_number="05 123 4000"
    )


async def test_create_organization_normalises(session: AsyncSession) -> None:
    org = await d.create_organization(
        session,
        name="  Taipalsaaren   kunta ",
        domain="Taipalsaari.FI",
        switchboard_number="05 123 4000",
    )
    assert org.domain == "taipalsaari.fi"
    assert org.name == "Taipalsaaren kunta"
    assert org.switchboard_number == "+35851234000"
    assert org.language == "fi"
    assert org.red_activities == [2, 3, 4, 5, 6]
    assert org.created_at is not None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"domain": "not a domain"}, "domain"),
        ({"language": "sv"}, "language"),
        ({"switchboard_number": "123"}, "switchboard"),
        ({"name": "  "}, "name"),
    ],
)
async def test_create_organization_invalid(
    session: AsyncSession, kwargs: dict[str, str], field: str
) -> None:
    args = {"name": "X", "domain": "x.fi"} | kwargs
    with pytest.raises(d.InvalidField) as info:
        await d.create_organization(session, **args)
    assert info.value.field == field


async def test_duplicate_organization(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as s:
        await _org(s)
    with pytest.raises(d.DuplicateOrganization):
        async with transaction(sessions) as s:
            await _org(s, "TAIPALSAARI.fi")


async def test_create_user_username_and_children(session: AsyncSession) -> None:
    await _org(session)
    user = await d.create_user(
        session,
        organization=DOMAIN,
        display_name="Maija Meikäläinen",
        mobile="040 123 4567",
        landline="09 1234 5678",
        email="Maija@Taipalsaari.FI",
        is_admin=True,
        password="correct horse",
    )
    assert user.username == "fi0401234567@taipalsaari.fi"
    assert user.mobile_number == "+358401234567"
    assert user.landline_number == "+358912345678"
    assert user.email == "Maija@taipalsaari.fi"
    assert user.is_admin and user.activity == 1 and user.role == 1
    assert d.verify_password(user, "correct horse")
    assert not d.verify_password(user, "wrong")
    assert user.password_hash and user.password_hash.startswith("$argon2")
    await session.commit()
    assert await session.scalar(select(func.count()).select_from(Mailbox)) == 1
    settings = await session.get(VoicemailSettings, user.id)
    assert settings is not None and settings.notify_by == "sms"


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"mobile": "123"}, "mobile", "'123' is not a valid phone number"),
        ({"mobile": "09 1234 5678"}, "mobile", "not a Finnish mobile number"),
        ({"landline": "0600 12345"}, "landline", "premium-rate"),
        ({"landline": "040 123 4567"}, "landline", "same as the mobile"),
        ({"email": "nope"}, "email", "not a valid e-mail"),
        ({"display_name": ""}, "display_name", "must not be empty"),
        ({"password": "short"}, "password", "at least 8"),
    ],
)
async def test_create_user_invalid(
    session: AsyncSession, kwargs: dict[str, str], field: str, fragment: str
) -> None:
    await _org(session)
    args = {"display_name": "Maija", "mobile": "0401234567"} | kwargs
    with pytest.raises(d.InvalidField) as info:
        await d.create_user(session, organization=DOMAIN, **args)
    assert info.value.field == field
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"field {field}: ")


async def test_unknown_org(session: AsyncSession) -> None:
    with pytest.raises(d.UnknownOrganization, match="unknown organisation 'nope.fi'"):
        await d.create_user(session, organization="nope.fi", display_name="X", mobile="0401234567")


async def test_duplicate_user(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as s:
        await _org(s)
        await d.create_user(
            s, organization=DOMAIN, display_name="A", mobile="0401234567", landline="0912345678"
        )
    for kwargs, field in (
        ({"mobile": "+358 40 1234567"}, "mobile"),  # same mobile
        ({"mobile": "0401234599", "landline": "09 1234 5678"}, "landline"),  # same landline
        ({"mobile": "0501111111", "landline": "0401234567"}, "landline"),  # landline = a mobile
    ):
        with pytest.raises(d.DuplicateUser) as info:
            async with transaction(sessions) as s:
                await d.create_user(s, organization=DOMAIN, display_name="B", **kwargs)
        assert info.value.field == field
        assert "fi0401234567@taipalsaari.fi" in str(info.value)
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 1


async def test_db_enforces_constraints(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as s:
        org = await _org(s)
        user = await d.create_user(s, organization=org, display_name="A", mobile="0401234567")
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as s:
            u = await s.get(User, user.id)
            assert u is not None
            u.activity = 9
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as s:
            u = await s.get(User, user.id)
            assert u is not None
            u.role = 0
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as s:
            s.add_all(
                [
                    Forwarding(user_id=user.id, kind="immediate", target="+358401111111"),
                    Forwarding(user_id=user.id, kind="immediate", target="+358401111112"),
                ]
            )


async def test_lookup_by_number_and_ref(session: AsyncSession) -> None:
    await _org(session)
    user = await d.create_user(
        session, organization=DOMAIN, display_name="A", mobile="0401234567", landline="0912345678"
    )
    assert (await d.get_user_by_number(session, "+358401234567")) is user
    assert (await d.get_user_by_number(session, "+358912345678")) is user
    assert await d.get_user_by_number(session, "+358401234599") is None
    assert (await d.get_user(session, "FI0401234567@taipalsaari.fi")) is user
    assert (await d.get_user(session, "040 123 4567")) is user
    assert (await d.get_user(session, user.id)) is user
    with pytest.raises(d.UnknownUser):
        await d.get_user(session, "0409999999")


async def test_list_users_and_orgs(session: AsyncSession) -> None:
    await _org(session)
    await _org(session, "lappeenranta.fi")
    await d.create_user(session, organization=DOMAIN, display_name="B", mobile="0401234568")
    await d.create_user(session, organization=DOMAIN, display_name="A", mobile="0401234567")
    await d.create_user(
        session, organization="lappeenranta.fi", display_name="C", mobile="0501234569"
    )
    assert {o.domain for o in await d.list_organizations(session)} == {
        "lappeenranta.fi",
        "taipalsaari.fi",
    }
    users = await d.list_users(session, DOMAIN)
    assert [u.display_name for u in users] == ["A", "B"]
    assert all(u.organization.domain == DOMAIN for u in users)
    assert len(await d.list_users(session)) == 3
    with pytest.raises(d.UnknownOrganization):
        await d.list_users(session, "nope.fi")


async def test_presence_helpers(session: AsyncSession) -> None:
    await _org(session)
    a = await d.create_user(session, organization=DOMAIN, display_name="A", mobile="0401234567")
    b = await d.create_user(session, organization=DOMAIN, display_name="B", mobile="0401234568")
    await d.set_activity(session, a, 4)
    await d.set_role(session, a.username, 2)
    assert (a.activity, a.role) == (4, 2)
    with pytest.raises(d.InvalidField, match="between 1 and 8"):
        await d.set_activity(session, a, 9)
    with pytest.raises(d.InvalidField, match="between 1 and 5"):
        await d.set_role(session, a, 6)

    fwd = await d.set_forwarding(session, a, "040 123 4568")
    assert fwd is not None and fwd.target == "+358401234568"
    fwd2 = await d.set_forwarding(session, a, "050 123 4569")
    assert fwd2 is fwd and fwd.target == "+358501234569"
    await d.set_forwarding(session, a, "05 123 4000", activity=4)
    for bad, fragment in (
        ("0600 12345", "premium"),
        ("0401234567", "own number"),
        ("garbage", "not a valid phone number"),
    ):
        with pytest.raises(d.InvalidField, match=fragment):
            await d.set_forwarding(session, a, bad)
    # B -> A while A -> +358501234569: no loop; A -> B while B -> A: loop.
    await d.set_forwarding(session, b, "0401234567")
    with pytest.raises(d.InvalidField, match="loop"):
        await d.set_forwarding(session, a, "0401234568")

    p = await d.get_presence(session, a)
    assert p.activity == 4 and p.is_red and p.role == 2
    assert p.immediate_forward == "+358501234569"
    assert p.activity_forwards == {4: "+35851234000"}
    assert await d.set_forwarding(session, a, None) is None
    assert (await d.get_presence(session, a)).immediate_forward is None


async def test_scheduled_activities(session: AsyncSession) -> None:
    await _org(session)
    a = await d.create_user(session, organization=DOMAIN, display_name="A", mobile="0401234567")
    now = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    h = timedelta(hours=1)
    await d.add_scheduled_activity(session, a, 4, now - h, now + h)  # meeting 8-10
    await d.add_scheduled_activity(session, a, 3, now + h, now + 2 * h)  # lunch 10-11
    await d.add_scheduled_activity(session, a, 7, now + 2 * h, now + 3 * h)  # remote 11-12
    with pytest.raises(d.InvalidField):
        await d.add_scheduled_activity(session, a, 4, now, now)
    with pytest.raises(d.InvalidField, match="time zone"):
        await d.add_scheduled_activity(session, a, 4, now.replace(tzinfo=None), now + h)
    p = await d.get_presence(session, a, now)
    assert p.activity == 4 and p.manual_activity == 1 and p.is_red
    assert p.red_until == now + 2 * h  # meeting then lunch; remote work is green
    later = await d.get_presence(session, a, now + 5 * h)
    assert later.activity == 1 and not later.is_red and later.red_until is None
    rows = (await session.scalars(select(ScheduledActivity))).all()
    assert activity_in_effect(1, rows, now + 2.5 * h) == 7


async def test_softphones(session: AsyncSession) -> None:
    await _org(session)
    a = await d.create_user(session, organization=DOMAIN, display_name="A", mobile="0401234567")
    p1 = await d.add_softphone(session, a)
    p2 = await d.add_softphone(session, a.username, label="laptop")
    assert p1.endpoint_id == f"sp-{a.id}-1" and p2.sip_username == f"sp-{a.id}-2"
    assert len(p1.sip_password) >= 20 and p1.sip_password != p2.sip_password
    found = await d.get_softphone_by_endpoint(session, p2.endpoint_id)
    assert found is p2 and found.user.username == a.username
    assert [p.seq for p in await d.list_softphones(session, a)] == [1, 2]


async def test_ensure_demo_idempotent(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as s:
        first = await d.ensure_demo(s)
    async with transaction(sessions) as s:
        second = await d.ensure_demo(s)
    assert first.created and not second.created
    assert first.organization.domain == "taipalsaari.fi"
    assert first.organization.name == "Taipalsaaren kunta"
    assert [u.username for u in first.users] == [u.username for u in second.users]
    assert len(first.users) >= 3
    assert any(u.landline_number for u in first.users)
    assert len(second.softphones) == 1
    assert second.softphones[0].sip_password == first.softphones[0].sip_password


async def test_a_manual_activity_ends_the_scheduled_one_in_effect_and_keeps_the_rest(
    session: AsyncSession,
) -> None:
    """983n / the page: back early from a scheduled holiday is back; past and future
    scheduled activities stay as they were. The phone's path (apply_activity by id)."""
    await _org(session)
    a = await d.create_user(session, organization=DOMAIN, display_name="A", mobile="0401234567")
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    past = await d.add_scheduled_activity(session, a, 6, now - 3 * hour, now - 2 * hour)
    running = await d.add_scheduled_activity(session, a, 6, now - hour, now + hour)
    future = await d.add_scheduled_activity(session, a, 4, now + 2 * hour, now + 3 * hour)
    await session.flush()

    await d.apply_activity(session, a.id, 1)

    await session.refresh(a)
    for row in (past, running, future):
        await session.refresh(row)
    assert a.activity == 1 and a.activity_changed_at >= now
    assert past.ends_at == now - 2 * hour and future.starts_at == now + 2 * hour
    assert now <= running.ends_at <= datetime.now(UTC), "the running one ended now"


@asynccontextmanager
async def _writer(
    path: str, sessions: async_sessionmaker[AsyncSession], database_url: str
) -> AsyncIterator[AsyncSession | PoolStatements]:
    """Where the presence rules run: the CLI's/web's session (one transaction) or the call
    path's pool (each statement alone, one round trip)."""
    if path == "session":
        async with transaction(sessions) as s:
            yield s
        return
    pool = await create_pool(database_url)
    try:
        yield PoolStatements(pool)
    finally:
        await pool.close()


@pytest.mark.parametrize("path", ["session", "call"])
async def test_the_activity_statement_cuts_short_removes_and_keeps_alike_on_both_paths(
    sessions: async_sessionmaker[AsyncSession], database_url: str, path: str
) -> None:
    """The rule's one statement: the scheduled activity in effect is cut short at now, one
    starting this very moment is removed, past and future ones stay; the manual activity
    is set."""
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    hour = timedelta(hours=1)
    async with transaction(sessions) as s:
        await _org(s)
        a = await d.create_user(s, organization=DOMAIN, display_name="A", mobile="0401234567")
        past = await d.add_scheduled_activity(s, a, 6, now - 3 * hour, now - 2 * hour)
        running = await d.add_scheduled_activity(s, a, 6, now - hour, now + hour)
        starting = await d.add_scheduled_activity(s, a, 5, now, now + hour)
        future = await d.add_scheduled_activity(s, a, 4, now + 2 * hour, now + 3 * hour)
    params = {"uid": a.id, "chosen": 3, "at": now}
    async with _writer(path, sessions, database_url) as db:
        if isinstance(db, AsyncSession):
            changed = (await db.execute(ACTIVITY_CHANGE, params)).rowcount  # type: ignore[attr-defined]
        else:
            changed = await db.run(ACTIVITY_CHANGE, params)
    assert changed == 1
    async with sessions() as s:
        user = await s.get(User, a.id)
        rows = {r.id: r for r in await s.scalars(select(ScheduledActivity))}
    assert user is not None and (user.activity, user.activity_changed_at) == (3, now)
    assert starting.id not in rows, "the one starting now is removed"
    assert rows[running.id].ends_at == now, "the one in effect ends now"
    assert rows[past.id].ends_at == now - 2 * hour
    assert rows[future.id].starts_at == now + 2 * hour


@pytest.mark.parametrize("path", ["session", "call"])
async def test_the_phones_path_refuses_an_unknown_user_or_value_and_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], database_url: str, path: str
) -> None:
    """apply_activity / apply_role by id (983n / 984n), in a session or on the call path."""
    async with transaction(sessions) as s:
        await _org(s)
        a = await d.create_user(s, organization=DOMAIN, display_name="A", mobile="0401234567")
    async with _writer(path, sessions, database_url) as db:
        with pytest.raises(d.UnknownUser):
            await d.apply_activity(db, a.id + 100, 3)
        with pytest.raises(d.UnknownUser):
            await d.apply_role(db, a.id + 100, 3)
        with pytest.raises(d.InvalidField, match="between 1 and 8"):
            await d.apply_activity(db, a.id, 0)
        with pytest.raises(d.InvalidField, match="between 1 and 5"):
            await d.apply_role(db, a.id, 9)
    async with sessions() as s:
        user = await s.get(User, a.id)
        assert user is not None and (user.activity, user.role) == (1, 1), "nothing changed"
    async with _writer(path, sessions, database_url) as db:
        await d.apply_activity(db, a.id, 4)
        await d.apply_role(db, a.id, 5)
    async with sessions() as s:
        user = await s.get(User, a.id)
    assert user is not None and (user.activity, user.role) == (4, 5)
