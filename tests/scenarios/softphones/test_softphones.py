"""Softphones: credentials live in the database and reach Asterisk through the app; a
registered softphone rings together with the handset, and calls out like the handset."""

from __future__ import annotations

from harness.app import AppProcess, eventually
from harness.party import uri_user
from tests.support.people import fresh_external
from vipcall.db.engine import transaction
from vipcall.directory import remove_softphone

CONTACT_PORT = 5061
MOVED_PORT = 5067


async def registered(parties, person) -> None:
    await parties.softphone_registered(person.softphone, person.softphone_password, CONTACT_PORT)


async def test_call_rings_handset_and_softphone_and_the_first_to_answer_wins(
    vipcall, people, parties
) -> None:
    org = await people.org()
    liisa = await people.user(org, softphone=True)
    await registered(parties, liisa)
    handset = await parties.handset("uas_ring.xml").start()
    softphone = await parties.softphone(CONTACT_PORT).start()

    call = await parties.external_caller("+358501110004", liisa.mobile).run()
    on_softphone = await softphone.wait()
    on_handset = await handset.wait()

    assert call.ok, call.log
    assert on_softphone.ok and on_softphone.received("BYE"), "the softphone answered"
    assert on_handset.received("INVITE"), "the handset rang too"
    assert on_handset.received("CANCEL"), "and stopped ringing when the softphone answered"


async def test_softphone_call_to_external_number_shows_the_mobile_number(
    vipcall, people, parties
) -> None:
    org = await people.org()
    liisa = await people.user(org, softphone=True)
    await registered(parties, liisa)
    far_end = await parties.pstn_far_end().start()
    external = fresh_external()

    call = await parties.softphone_caller(liisa.softphone, liisa.softphone_password, external).run()
    seen = await far_end.wait()

    assert call.ok, call.log
    invite = seen.received("INVITE")[0]
    assert invite.request_user == external
    assert uri_user(invite.header("From")) == liisa.mobile


async def test_softphone_call_to_a_colleague_rings_the_colleague(vipcall, people, parties) -> None:
    org = await people.org()
    liisa, pekka = await people.user(org, softphone=True), await people.user(org)
    await registered(parties, liisa)
    handset = await parties.handset().start()

    call = await parties.softphone_caller(
        liisa.softphone, liisa.softphone_password, pekka.mobile
    ).run()
    seen = await handset.wait()

    assert call.ok, call.log
    invite = seen.received("INVITE")[0]
    assert invite.request_user == pekka.mobile
    assert uri_user(invite.header("From")) == liisa.mobile


async def test_a_softphone_added_or_removed_on_the_home_page_takes_effect_at_once(
    app, asterisk, database, people, parties, tmp_path
) -> None:
    """The periodic sync is an hour here, so only the database's notification (migration
    0010) can bring a new softphone to Asterisk, and take a removed one away, in seconds."""
    app.stop()  # the session's app; the vipcall fixture starts it again for later tests
    hourly = AppProcess(
        asterisk, database, tmp_path / "vipcall.log", extra_env={"VIPCALL_SYNC_INTERVAL": "3600"}
    )
    hourly.start()
    try:
        await eventually(lambda: "provisioned" in hourly.log_tail(400), timeout=15)
        org = await people.org()
        liisa = await people.user(org, softphone=True)  # as the home page adds one

        async def registers() -> bool:
            return await parties.softphone_registers(
                liisa.softphone, liisa.softphone_password, CONTACT_PORT
            )

        await eventually(registers, timeout=5, interval=0.2)

        async with transaction(people.sessions) as s:
            assert await remove_softphone(s, liisa.softphone)
        await eventually(lambda: _not(registers), timeout=5, interval=0.2)
    finally:
        hourly.stop()


async def _not(check) -> bool:  # type: ignore[no-untyped-def]
    return not await check()


async def test_a_softphone_registering_again_from_a_new_address_is_rung_there(
    vipcall, people, parties
) -> None:
    """One device per account: a new registration replaces the old binding (a softphone
    after a NAT rebinding or a restart), so the call reaches it at once, not the address it
    left, which would otherwise keep every call until it expired."""
    org = await people.org()
    liisa = await people.user(org, softphone=True)
    await registered(parties, liisa)  # from CONTACT_PORT
    assert await parties.softphone_registers(liisa.softphone, liisa.softphone_password, MOVED_PORT)
    handset = await parties.handset("uas_ring.xml").start()
    softphone = await parties.softphone(MOVED_PORT).start()

    call = await parties.external_caller(fresh_external(), liisa.mobile).run()
    on_softphone = await softphone.wait()
    await handset.wait()

    assert call.ok, call.log
    assert on_softphone.ok and on_softphone.received("BYE"), "the softphone answered there"
