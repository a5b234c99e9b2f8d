"""An external caller dials a user's mobile or landline number: the handset (through the
mobile core, marked as already steered) and the user's softphones ring; the first to
answer is bridged with the caller."""

from __future__ import annotations

from harness.party import uri_user


async def test_call_to_mobile_number_reaches_the_handset(vipcall, people, parties) -> None:
    org = await people.org()
    maija = await people.user(org)
    handset = await parties.handset().start()
    caller = parties.external_caller("+358501110001", maija.mobile)

    call = await caller.run()
    phone = await handset.wait()

    assert call.ok, call.log
    assert phone.ok, phone.log
    invite = phone.received("INVITE")[0]
    assert invite.request_user == maija.mobile
    assert invite.header("X-Vipcall") == "delivered"
    assert uri_user(invite.header("From")) == "+358501110001"
    assert phone.received("BYE"), "the caller's hangup reached the handset: they were bridged"


async def test_call_to_landline_number_reaches_the_same_handset(vipcall, people, parties) -> None:
    org = await people.org()
    pekka = await people.user(org, landline=True)
    handset = await parties.handset().start()

    call = await parties.external_caller("0501110002", pekka.landline).run()
    phone = await handset.wait()

    assert call.ok, call.log
    invite = phone.received("INVITE")[0]
    assert invite.request_user == pekka.mobile
    assert invite.header("X-Vipcall") == "delivered"
