"""The call-time store gives routing what the absence notice needs (real PostgreSQL): the
VIP standing of the caller (agreeing with the service layer's VIP list), earlier stopped
calls from the caller, the user's notice settings and whether the activity is scheduled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall import directory
from vipcall.db.engine import session_factory, transaction
from vipcall.routing.decisions import AbsenceNotice
from vipcall.routing.rules import Policy, route_inbound
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import create_pool

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIJA, KALLE, LIISA = "+358401240001", "+358401240002", "+358401240003"
KALLE_LANDLINE = "+35891240002"
OUTSIDER = "+358501249999"


@pytest_asyncio.fixture(loop_scope="session")
async def store(engine: AsyncEngine, database_url: str) -> AsyncIterator[DbCallStore]:
    async with transaction(session_factory(engine)) as s:
        await directory.create_organization(s, name="Org", domain="abs.fi")
        await directory.create_user(s, organization="abs.fi", display_name="Maija", mobile=MAIJA)
        await directory.create_user(s, organization="abs.fi", display_name="Kalle", mobile=KALLE,
                                    landline=KALLE_LANDLINE)  # fmt: skip
        await directory.create_user(s, organization="abs.fi", display_name="Liisa", mobile=LIISA)
        await directory.set_role(s, MAIJA, 5)
        await directory.set_activity(s, MAIJA, 6)
    pool = await create_pool(database_url)
    try:
        yield DbCallStore(pool, engine)
    finally:
        await pool.close()


async def test_a_colleague_marked_vip_is_a_vip_caller_from_any_of_their_numbers(
    store: DbCallStore, engine: AsyncEngine
) -> None:
    async with transaction(session_factory(engine)) as s:
        await directory.set_colleague_vip(s, MAIJA, KALLE, True)
    for number in (KALLE, KALLE_LANDLINE):
        _, maija = await store.parties(number, None, MAIJA)
        assert maija is not None and maija.caller_is_vip
    _, maija = await store.parties(LIISA, None, MAIJA)
    assert maija is not None and not maija.caller_is_vip
    assert route_inbound(maija, MAIJA, Policy()) == AbsenceNotice(maija.id, 6)


async def test_a_colleague_also_saved_as_an_external_contact_stays_vip(
    store: DbCallStore, engine: AsyncEngine
) -> None:
    async with transaction(session_factory(engine)) as s:
        await directory.set_colleague_vip(s, MAIJA, KALLE, True)
        await directory.add_contact(s, MAIJA, name="Kalle (mobile)", number="040 124 0002")
    _, maija = await store.parties(KALLE, None, MAIJA)
    assert maija is not None and maija.caller_is_vip


async def test_earlier_stopped_calls_within_the_window_are_counted(
    store: DbCallStore, engine: AsyncEngine
) -> None:
    async with transaction(session_factory(engine)) as s:
        await directory.update_voicemail_settings(s, MAIJA, repeat_breakthrough=True)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        for minutes in (1, 5, 30):
            await conn.execute(
                text(
                    "INSERT INTO stopped_calls (user_id, caller_number, at)"
                    " SELECT id, :c, :at FROM users WHERE mobile_number = :m"
                ),
                {"c": OUTSIDER, "at": now - timedelta(minutes=minutes), "m": MAIJA},
            )
    _, maija = await store.parties(OUTSIDER, None, MAIJA)
    assert maija is not None
    assert maija.absence.repeat_calls == 3 and maija.earlier_stopped_calls == 2
    assert maija.caller_breaks_through


async def test_notice_settings_reach_the_snapshot(store: DbCallStore, engine: AsyncEngine) -> None:
    async with transaction(session_factory(engine)) as s:
        await directory.update_voicemail_settings(
            s,
            LIISA,
            notice_on_scheduled_red=True,
            offer_customer_service=True,
            customer_service_number="020 123 4567",
        )
        now = datetime.now(UTC)
        await directory.add_scheduled_activity(
            s, LIISA, 5, now - timedelta(minutes=1), now + timedelta(hours=2)
        )
    _, liisa = await store.parties(OUTSIDER, None, LIISA)
    assert liisa is not None
    assert liisa.activity_scheduled and liisa.red_until is not None
    assert liisa.absence.customer_service == "+358201234567"
    assert route_inbound(liisa, LIISA, Policy()) == AbsenceNotice(liisa.id, 5, "+358201234567")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    colleague_vip=st.booleans(),
    contact=st.sampled_from([None, KALLE, "040 124 0002", OUTSIDER, "050 124 9999"]),
    contact_vip=st.booleans(),
    caller=st.sampled_from([KALLE, KALLE_LANDLINE, LIISA, OUTSIDER]),
)
async def test_store_and_service_layer_agree_on_vip_callers(
    store: DbCallStore,
    engine: AsyncEngine,
    colleague_vip: bool,
    contact: str | None,
    contact_vip: bool,
    caller: str,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM vip_colleagues"))
        await conn.execute(text("DELETE FROM contacts"))
    async with transaction(session_factory(engine)) as s:
        if colleague_vip:
            await directory.set_colleague_vip(s, MAIJA, KALLE, True)
        if contact is not None:
            await directory.add_contact(s, MAIJA, name="C", number=contact, vip=contact_vip)
    async with session_factory(engine)() as s:
        expected = await directory.is_vip_caller(s, MAIJA, caller)
    _, maija = await store.parties(caller, None, MAIJA)
    assert maija is not None and maija.caller_is_vip == expected
