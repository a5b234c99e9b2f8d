"""Personal contacts, VIP lists and the directory search (vipcall.directory.contacts) against
a real (throwaway) PostgreSQL database. Every refused change is checked to change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall import directory as d
from vipcall.db.engine import transaction
from vipcall.db.models import Contact, User, VipColleague

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIJA = "+358401234567"  # landline +35851234010
MATTI = "+358401234568"
LIISA = "+358501234569"


async def _demo(sessions: async_sessionmaker[AsyncSession]) -> d.Demo:
    async with transaction(sessions) as s:
        return await d.ensure_demo(s)


async def _other_org_user(sessions: async_sessionmaker[AsyncSession]) -> User:
    async with transaction(sessions) as s:
        await d.create_organization(s, name="Lappeenranta", domain="lappeenranta.fi")
        return await d.create_user(
            s,
            organization="lappeenranta.fi",
            display_name="Pekka Outsider",
            mobile="044 765 4321",
            landline="05 616 2000",
        )


async def _state(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with sessions() as s:
        contacts = (
            await s.execute(
                select(
                    Contact.id,
                    Contact.owner_user_id,
                    Contact.organization_id,
                    Contact.name,
                    Contact.number,
                    Contact.is_vip,
                ).order_by(Contact.id)
            )
        ).all()
        vips = (
            await s.execute(
                select(VipColleague.user_id, VipColleague.colleague_id).order_by(
                    VipColleague.user_id, VipColleague.colleague_id
                )
            )
        ).all()
    return {"contacts": contacts, "vips": vips}


async def test_add_list_edit_delete(sessions: async_sessionmaker[AsyncSession]) -> None:
    demo = await _demo(sessions)
    maija = demo.users[0]
    async with transaction(sessions) as s:
        c1 = await d.add_contact(s, MAIJA, name="  Kalle   Kirvesmies ", number="(040) 765-4321")
        c2 = await d.add_contact(s, maija, name="Aino Asiakas", number="00358 50 7654321", vip=True)
    assert (c1.name, c1.number, c1.is_vip) == ("Kalle Kirvesmies", "+358407654321", False)
    assert (c2.number, c2.is_vip) == ("+358507654321", True)
    assert c1.owner_user_id == maija.id and c1.organization_id == demo.organization.id
    async with sessions() as s:
        listed = await d.list_contacts(s, "fi0401234567@taipalsaari.fi")
    assert [c.name for c in listed] == ["Aino Asiakas", "Kalle Kirvesmies"]

    async with transaction(sessions) as s:
        edited = await d.edit_contact(s, c1.id, number="+358 40 111 2222")
        renamed = await d.edit_contact(s, str(c2.id), name="Aino A.", owner=maija)
    assert (edited.name, edited.number) == ("Kalle Kirvesmies", "+358401112222")
    assert (renamed.name, renamed.number, renamed.is_vip) == ("Aino A.", "+358507654321", True)

    async with transaction(sessions) as s:
        gone = await d.delete_contact(s, c1.id)
    assert gone.id == c1.id
    async with sessions() as s:
        assert [c.id for c in await d.list_contacts(s, maija)] == [c2.id]
        # Another user's list is separate.
        assert list(await d.list_contacts(s, MATTI)) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"name": "X", "number": "123"}, d.InvalidField, "field number: '123'"),
        ({"name": "X", "number": "not a number"}, d.InvalidField, "field number"),
        ({"name": "   ", "number": "040 765 4321"}, d.InvalidField, "field name: must not be"),
        # The same number in another spelling is a duplicate.
        ({"name": "Y", "number": "+358 40 765 4321"}, d.DuplicateContact, "already saved"),
    ],
)
async def test_add_refused_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
    kwargs: dict[str, str],
    error: type[Exception],
    fragment: str,
) -> None:
    await _demo(sessions)
    async with transaction(sessions) as s:
        await d.add_contact(s, MAIJA, name="Kalle", number="040 765 4321")
    before = await _state(sessions)
    with pytest.raises(error, match=fragment):
        async with transaction(sessions) as s:
            await d.add_contact(s, MAIJA, **kwargs)
    assert await _state(sessions) == before


async def test_same_number_for_another_owner_is_fine(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _demo(sessions)
    async with transaction(sessions) as s:
        a = await d.add_contact(s, MAIJA, name="Kalle", number="040 765 4321")
        b = await d.add_contact(s, MATTI, name="Kalle K", number="0407654321")
    assert a.number == b.number and a.owner_user_id != b.owner_user_id


async def test_edit_and_delete_refused_change_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _demo(sessions)
    async with transaction(sessions) as s:
        kalle = await d.add_contact(s, MAIJA, name="Kalle", number="040 765 4321")
        aino = await d.add_contact(s, MAIJA, name="Aino", number="050 765 4321")
        mattis = await d.add_contact(s, MATTI, name="Matin kaveri", number="044 111 2222")
    before = await _state(sessions)
    async with sessions() as s:
        for call, error, fragment in (
            (
                lambda s: d.edit_contact(s, aino.id, number="0407654321"),
                d.DuplicateContact,
                f"already saved as contact {kalle.id}",
            ),
            (lambda s: d.edit_contact(s, aino.id, number="12"), d.InvalidField, "number"),
            (
                lambda s: d.edit_contact(s, aino.id, name=" ", number="0401112222"),
                d.InvalidField,
                "name",
            ),
            (lambda s: d.edit_contact(s, aino.id), d.InvalidField, "nothing to change"),
            (lambda s: d.edit_contact(s, 999999, name="X"), d.UnknownContact, "999999"),
            (lambda s: d.edit_contact(s, "abc", name="X"), d.UnknownContact, "abc"),
            # Not Maija's contact.
            (
                lambda s: d.edit_contact(s, mattis.id, name="X", owner=MAIJA),
                d.UnknownContact,
                "of fi0401234567@taipalsaari.fi",
            ),
            (lambda s: d.delete_contact(s, 999999), d.UnknownContact, "unknown contact"),
            (
                lambda s: d.delete_contact(s, mattis.id, owner=MAIJA),
                d.UnknownContact,
                "unknown contact",
            ),
            (
                lambda s: d.set_contact_vip(s, MAIJA, mattis.id, True),
                d.UnknownContact,
                "unknown contact",
            ),
        ):
            with pytest.raises(error, match=fragment):
                async with s.begin():
                    await call(s)
    assert await _state(sessions) == before


async def test_colleague_vip_mark_unmark_and_refusals(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    demo = await _demo(sessions)
    maija, matti, liisa = demo.users
    outsider = await _other_org_user(sessions)
    async with transaction(sessions) as s:
        # Any way a user is named: number spelling, username, id (as text, too).
        assert (await d.set_colleague_vip(s, maija, "050 123 4569", True)).id == liisa.id
        assert (await d.set_colleague_vip(s, MAIJA, matti.username, True)).id == matti.id
        # Marking twice is harmless.
        await d.set_colleague_vip(s, MAIJA, str(matti.id), True)
    async with sessions() as s:
        entries = await d.vip_list(s, maija)
    assert [(e.kind, e.ref, e.numbers) for e in entries] == [
        ("colleague", liisa.id, (LIISA,)),
        ("colleague", matti.id, (MATTI,)),
    ]
    before = await _state(sessions)
    async with sessions() as s:
        for colleague, error, fragment in (
            (MAIJA, d.InvalidField, "cannot mark themself"),
            ("05 123 4010", d.InvalidField, "cannot mark themself"),  # her own landline
            (outsider.username, d.InvalidField, "not in the organisation"),
            ("044 765 4321", d.InvalidField, "not in the organisation"),
            ("0409999999", d.UnknownUser, "0409999999"),
        ):
            with pytest.raises(error, match=fragment):
                async with s.begin():
                    await d.set_colleague_vip(s, maija, colleague, True)
    assert await _state(sessions) == before
    async with transaction(sessions) as s:
        await d.set_colleague_vip(s, maija, LIISA, False)
        await d.set_colleague_vip(s, maija, LIISA, False)  # unmarking twice is harmless
    async with sessions() as s:
        assert [e.ref for e in await d.vip_list(s, maija)] == [matti.id]
        # Marks are per user: Matti's list is empty.
        assert await d.vip_list(s, matti) == []


async def test_vip_contacts_and_numbers(sessions: async_sessionmaker[AsyncSession]) -> None:
    demo = await _demo(sessions)
    maija = demo.users[0]
    async with transaction(sessions) as s:
        aino = await d.add_contact(s, maija, name="Aino", number="050 765 4321", vip=True)
        kalle = await d.add_contact(s, maija, name="Kalle", number="040 765 4321")
    async with sessions() as s:
        assert [(e.kind, e.ref) for e in await d.vip_list(s, maija)] == [("contact", aino.id)]
        assert not await d.is_vip_caller(s, maija, "040 765 4321")
        # Any spelling of the caller's number matches.
        for caller in ("+358507654321", "0507654321", "00358 50 765 4321", "358507654321"):
            assert await d.is_vip_caller(s, maija, caller), caller
        for caller in (None, "", "anonymous", "123"):
            assert not await d.is_vip_caller(s, maija, caller)
        # Only Maija's list.
        assert not await d.is_vip_caller(s, MATTI, "0507654321")
    async with transaction(sessions) as s:
        await d.set_contact_vip(s, maija, kalle.id, True)
        await d.set_contact_vip(s, maija, str(aino.id), False)
    async with sessions() as s:
        assert await d.vip_numbers(s, maija) == frozenset({"+358407654321"})


async def test_colleague_also_saved_as_external_contact_keeps_bypass(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The operator's guide warns that a colleague saved also as a personal external contact
    breaks the VIP bypass; vipcall matches by normalised number over every VIP entry."""
    demo = await _demo(sessions)
    maija, _, liisa = demo.users
    async with transaction(sessions) as s:
        await d.set_colleague_vip(s, maija, liisa, True)
        # Liisa also saved as an ordinary (not VIP) external contact, another spelling.
        await d.add_contact(s, maija, name="Liisa (kännykkä)", number="050-123 4569")
    async with sessions() as s:
        assert await d.is_vip_caller(s, maija, "+358501234569")
        assert await d.is_vip_caller(s, maija, "050 123 4569")
    # The other way round: only the external contact is VIP, the colleague mark is off.
    async with transaction(sessions) as s:
        await d.set_colleague_vip(s, maija, liisa, False)
        (contact,) = await d.list_contacts(s, maija)
        await d.set_contact_vip(s, maija, contact.id, True)
    async with sessions() as s:
        entries = await d.vip_list(s, maija)
        assert [(e.kind, e.numbers) for e in entries] == [("contact", (LIISA,))]
        assert await d.is_vip_caller(s, maija, "0501234569")


async def test_colleague_vip_matches_mobile_and_landline(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    demo = await _demo(sessions)
    maija, matti, _ = demo.users
    async with transaction(sessions) as s:
        await d.set_colleague_vip(s, matti, maija, True)
    async with sessions() as s:
        (entry,) = await d.vip_list(s, matti)
        assert entry.numbers == (MAIJA, "+35851234010")
        assert entry.username == "fi0401234567@taipalsaari.fi"
        assert await d.is_vip_caller(s, matti, "05 123 4010")
        assert await d.is_vip_caller(s, matti, "040 123 4567")


async def test_deleting_a_user_drops_their_marks(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    demo = await _demo(sessions)
    maija, _, liisa = demo.users
    async with transaction(sessions) as s:
        await d.set_colleague_vip(s, maija, liisa, True)
    async with transaction(sessions) as s:
        await s.delete(await s.get(User, liisa.id))
    async with sessions() as s:
        assert await d.vip_list(s, maija) == []


async def test_search_directory(sessions: async_sessionmaker[AsyncSession]) -> None:
    demo = await _demo(sessions)
    maija, matti, liisa = demo.users
    await _other_org_user(sessions)

    async def ids(query: str) -> list[int]:
        async with sessions() as s:
            return [u.id for u in await d.search_directory(s, "taipalsaari.fi", query)]

    assert await ids("maija") == [maija.id]
    assert await ids("  VIRTA ") == [matti.id]
    assert await ids("ä") == [maija.id]  # Meikäläinen
    assert await ids("040 123") == [maija.id, matti.id]
    assert await ids("+358 50") == [liisa.id]
    assert await ids("00358 501") == [liisa.id]
    assert await ids("4010") == [maija.id]  # landline 05 123 4010
    assert await ids("05 123") == [maija.id]
    assert await ids("4569") == [liisa.id]
    # Only this organisation (the outsider's mobile 044 765 4321, landline 05 616 2000).
    assert await ids("044 765") == []
    assert await ids("Pekka") == []
    assert await ids("%") == []  # LIKE wildcards are literal
    assert await ids("_") == []
    async with sessions() as s:
        with pytest.raises(d.InvalidField, match="field query: must not be empty"):
            await d.search_directory(s, "taipalsaari.fi", "  ")
        with pytest.raises(d.UnknownOrganization):
            await d.search_directory(s, "nowhere.fi", "x")
