"""Service numbers on a real (throwaway) PostgreSQL: the service layer (create, members,
log in/out; refused input changes nothing), the CLI's one-line errors, and the queue the
call flow keeps (vipcall.store.servicenumbers): who is offered a call (longest idle first,
logged-out and busy members skipped, the earliest caller first), last call end, take-over
by node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support import cli as support_cli
from vipcall import directory as d
from vipcall.db.engine import session_factory, transaction
from vipcall.db.models import ServiceNumber, ServiceNumberCall, ServiceNumberMember
from vipcall.directory import servicenumbers as sn
from vipcall.directory.errors import DirectoryError
from vipcall.presence.codes import ServiceLogin
from vipcall.routing.snapshot import Organization, Subscriber
from vipcall.selfservice.flow import apply_feature
from vipcall.servicenumbers.rules import QueueSettings, Strategy
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import create_pool

pytestmark = pytest.mark.asyncio(loop_scope="session")

A, B, C = "+358401260001", "+358401260002", "+358401260003"
OUTSIDER = "+358401260009"
SWITCHBOARD = "+358291260000"


@pytest_asyncio.fixture(loop_scope="session")
async def org(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    sessions = session_factory(engine)
    async with transaction(sessions) as s:
        await d.create_organization(s, name="Org", domain="sn.fi")
        await d.create_organization(s, name="Other", domain="other.fi")
        for name, mobile in (("Aino", A), ("Bertta", B), ("Cecilia", C)):
            await d.create_user(s, organization="sn.fi", display_name=name, mobile=mobile)
        await d.create_user(s, organization="other.fi", display_name="Olli", mobile=OUTSIDER)
    return sessions


@pytest_asyncio.fixture(loop_scope="session")
async def store(
    org: async_sessionmaker[AsyncSession], engine: AsyncEngine, database_url: str
) -> AsyncIterator[DbCallStore]:
    pool = await create_pool(database_url)
    try:
        yield DbCallStore(pool, engine)
    finally:
        await pool.close()


async def _switchboard(sessions: async_sessionmaker[AsyncSession], **kw: Any) -> int:
    async with transaction(sessions) as s:
        x = await sn.create_service_number(
            s, "sn.fi", number="029 126 0000", kind="switchboard", name="Vaihde", **kw
        )
        for mobile in (A, B, C):
            await sn.add_member(s, x.id, mobile)
        return x.id


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> Any:
    async with sessions() as s:
        sns = (await s.execute(select(ServiceNumber.__table__))).all()
        members = (await s.execute(select(ServiceNumberMember.__table__))).all()
        return sorted(map(tuple, sns)), sorted(map(tuple, members))


async def _uid(engine: AsyncEngine, mobile: str) -> int:
    async with engine.connect() as c:
        found = await c.scalar(text("SELECT id FROM users WHERE mobile_number = :m"), {"m": mobile})
        return int(found)


# -- service layer ----------------------------------------------------------------------


async def test_create_and_members(org: async_sessionmaker[AsyncSession]) -> None:
    sn_id = await _switchboard(org, strategy="longest-idle", max_wait_seconds="45")
    async with org() as s:
        x = await sn.get_service_number(s, "029 126 0000")
        assert (x.id, x.number, x.kind, x.strategy, x.max_wait_seconds) == (
            sn_id, SWITCHBOARD, "switchboard", "longest_idle", 45,
        )  # fmt: skip
        assert [li for _, li in await sn.members_of(s, x)] == [True, True, True]
    async with transaction(org) as s:
        assert await sn.set_logged_in(s, sn_id, B, False) is True
        assert await sn.set_logged_in(s, sn_id, B, False) is False
        await sn.remove_member(s, sn_id, C)
    async with org() as s:
        x = await sn.get_service_number(s, sn_id)
        assert [(u.mobile_number, li) for u, li in await sn.members_of(s, x)] == [
            (A, True), (B, False),
        ]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"number": "12x"}, "number"),
        ({"number": A}, "is already the number of user"),
        ({"kind": "queue"}, "switchboard, customer_service, group"),
        ({"strategy": "random"}, "ring_all, longest_idle"),
        ({"member_ring_seconds": "2"}, "between 5 and 120"),
        ({"max_wait_seconds": "x"}, "not a number of seconds"),
        ({"overflow": "number"}, "needs the number"),
        ({"overflow": "number", "overflow_target": "0700 123 456"}, "cannot be called"),
        ({"overflow": "number", "overflow_target": "029 126 0001x"}, "overflow_target"),
        ({"overflow": "voicemail", "overflow_target": OUTSIDER}, "another organisation"),
        ({"overflow": "announcement", "overflow_target": "no-such-prompt"}, "not a prompt"),
    ],
)
async def test_refused_fields_change_nothing(
    org: async_sessionmaker[AsyncSession], fields: dict[str, str], message: str
) -> None:
    before = await _rows(org)
    args: dict[str, Any] = {"number": "029 126 0005", "kind": "group", "name": "G", **fields}
    with pytest.raises(DirectoryError) as err:
        async with transaction(org) as s:
            await sn.create_service_number(s, "sn.fi", **args)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert await _rows(org) == before


async def test_members_only_from_the_organisation_and_once(
    org: async_sessionmaker[AsyncSession],
) -> None:
    sn_id = await _switchboard(org)
    before = await _rows(org)
    for user, message in ((OUTSIDER, "another organisation"), (A, "already a member")):
        with pytest.raises(DirectoryError, match=message):
            async with transaction(org) as s:
                await sn.add_member(s, sn_id, user)
    with pytest.raises(DirectoryError, match="unknown service number"):
        async with transaction(org) as s:
            await sn.set_logged_in(s, 999, A, True)
    assert await _rows(org) == before


async def test_log_in_and_out_by_feature_code(store: DbCallStore, engine: AsyncEngine) -> None:
    sn_id = await _switchboard(store.sessions)
    aino = Subscriber(await _uid(engine, A), Organization(1), A)
    media, outcome = await apply_feature(store, aino, ServiceLogin(sn_id, False))
    assert outcome == "service_logged_out" and media[0].endswith("service-logout")
    assert not [m for m in await store.members(sn_id) if m.member.user_id == aino.id][
        0
    ].member.logged_in
    media, outcome = await apply_feature(store, aino, ServiceLogin(sn_id, True))
    assert outcome == "service_logged_in"
    # Not a member / no such service number: a prompt, nothing changed.
    _, outcome = await apply_feature(store, aino, ServiceLogin(sn_id + 100, True))
    assert outcome == "service_login_refused"


# -- the queue --------------------------------------------------------------------------


async def test_hunt_order_busy_and_fairness(store: DbCallStore, engine: AsyncEngine) -> None:
    sn_id = await _switchboard(store.sessions, strategy="longest_idle")
    a, b, c = [await _uid(engine, m) for m in (A, B, C)]
    async with engine.begin() as conn:  # A idle longest, then C, then B (all logged in 2 h)
        for uid, minutes in ((a, 60), (b, 1), (c, 30)):
            await conn.execute(
                text("UPDATE service_number_members SET last_call_end = now() - :m * interval"
                     " '1 minute', logged_in_changed_at = now() - interval '2 hours'"
                     " WHERE user_id = :u"), {"m": minutes, "u": uid},
            )  # fmt: skip
    info = await store.service_number(sn_id)
    assert info is not None and info.settings.strategy == Strategy.LONGEST_IDLE
    first = await store.enqueue(sn_id, "chan-1", "node-1", "+358501110001")
    second = await store.enqueue(sn_id, "chan-2", "node-1", "+358501110002")
    assert await store.queue_position(second) == 2

    # The second caller must wait while the first has not been offered to anyone.
    offer, _ = await store.claim_offer(second, info.settings, frozenset())
    assert offer is None
    offer, _ = await store.claim_offer(first, info.settings, frozenset())
    assert offer is not None and offer.user_ids == (a,)
    # A rings for the first caller: busy for the second, who gets the next longest idle.
    offer2, lines = await store.claim_offer(second, info.settings, frozenset())
    assert offer2 is not None and offer2.user_ids == (c,)
    assert {ln.member.user_id for ln in lines if ln.member.busy} == {a}

    # Nobody answered for the first caller: A is free again, the hunt goes on to B
    # (C is ringing for the second caller).
    await store.offer_over(first.id)
    offer, _ = await store.claim_offer(first, info.settings, frozenset({a}))
    assert offer is not None and offer.user_ids == (b,)

    # B answers: connected; the call ends: B's last call end is now, the row is gone.
    await store.connected(first.id, b, "leg-1", "bridge-1")
    assert {ln.member.user_id for ln in await store.members(sn_id) if ln.member.busy} == {b, c}
    await store.finish_queue_call(first.id)
    async with engine.connect() as conn:
        ended = await conn.scalar(
            text("SELECT now() - last_call_end < interval '1 minute' FROM"
                 " service_number_members WHERE user_id = :u"), {"u": b},
        )  # fmt: skip
        assert ended is True
    assert await store.queue_call(first.id) is None


async def test_logged_out_members_are_not_offered(store: DbCallStore, engine: AsyncEngine) -> None:
    sn_id = await _switchboard(store.sessions)
    async with transaction(store.sessions) as s:
        await sn.set_logged_in(s, sn_id, A, False)
        await sn.set_logged_in(s, sn_id, C, False)
    call = await store.enqueue(sn_id, "chan-9", "node-1", None)
    offer, _ = await store.claim_offer(call, QueueSettings(), frozenset())
    assert offer is not None and offer.user_ids == (await _uid(engine, B),)


async def test_queue_calls_by_node_for_the_take_over(store: DbCallStore) -> None:
    sn_id = await _switchboard(store.sessions)
    one = await store.enqueue(sn_id, "chan-a", "http://ast1|vipcall", "+358501110001")
    await store.enqueue(sn_id, "chan-b", "http://ast2|vipcall", None)
    again = await store.enqueue(sn_id, "chan-a", "http://ast1|vipcall", "+358501110001")
    assert again.id == one.id  # one row per channel
    assert [c.channel_id for c in await store.queue_calls_on("http://ast1|vipcall")] == ["chan-a"]
    async with store.sessions() as s:
        assert len((await s.execute(select(ServiceNumberCall.id))).all()) == 2


# -- CLI ----------------------------------------------------------------------------------


async def test_cli(database_url: str, org: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cli = support_cli.Cli(database_url, capsys)
    out = await cli.ok(
        "service-number", "create", "--org", "sn.fi", "--number", "029 126 0000",
        "--kind", "customer_service", "--name", "Asiakaspalvelu", "--strategy", "longest_idle",
        "--max-wait", "30", "--overflow", "voicemail", "--overflow-target", A,
    )  # fmt: skip
    assert "created service number" in out and "9851" in out
    sn_id = out.split("service number ")[1].split(":")[0]
    await cli.ok("service-number", "add-member", sn_id, A)
    await cli.ok("service-number", "add-member", SWITCHBOARD, B)
    assert "logged out of" in await cli.ok("service-number", "logout", sn_id, B)
    shown = await cli.ok("service-number", "show", sn_id)
    assert "longest_idle" in shown and "voicemail" in shown and "9850" + sn_id in shown
    assert [ln.split()[-1] for ln in shown.splitlines() if ln.startswith(("1 ", "2 "))] == [
        "in", "out",
    ]  # fmt: skip
    listed = await cli.ok("service-number", "list", "--org", "sn.fi")
    assert "Asiakaspalvelu" in listed and "1/2" in listed
    for argv, message in (
        (("add-member", sn_id, OUTSIDER), "another organisation"),
        (("login", sn_id, C), "is not a member"),
        (("login", "77", A), "unknown service number"),
        (("remove-member", sn_id, "nobody"), "unknown user"),
    ):
        code, _, err = await cli("service-number", *argv)
        assert code == 1 and message in support_cli.one_error_line(err), err
    code, _, err = await cli(
        "service-number", "create", "--org", "sn.fi", "--number", "029 126 0000",
        "--kind", "group", "--name", "X",
    )  # fmt: skip
    assert code == 1 and "already the number of service number" in support_cli.one_error_line(err)


async def test_the_switchboard_number_may_be_a_switchboard_service_number(
    org: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(org) as s:
        await d.create_organization(
            s, name="Vaihteellinen", domain="vaihde.fi", switchboard_number="05 612 6000"
        )
        created = await sn.create_service_number(
            s, "vaihde.fi", number="05 612 6000", kind="switchboard", name="Vaihde"
        )
        org_row = await d.get_organization(s, "vaihde.fi")
    assert created.number == org_row.switchboard_number == "+35856126000"
