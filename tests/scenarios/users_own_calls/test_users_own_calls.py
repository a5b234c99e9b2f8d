"""A user's own calls: from the handset (through the mobile core) or a softphone, out to
the PSTN showing the user's mobile number, or to a colleague's phones."""

from __future__ import annotations

from harness.party import uri_user
from tests.support.people import fresh_external


async def test_handset_call_to_external_number_goes_out_via_pstn_with_the_mobile_number(
    vipcall, people, parties
) -> None:
    org = await people.org()
    maija = await people.user(org)
    far_end = await parties.pstn_far_end().start()
    external = fresh_external()

    call = await parties.handset_caller(maija.mobile, external).run()
    seen = await far_end.wait()

    assert call.ok, call.log
    invite = seen.received("INVITE")[0]
    assert invite.request_user == external
    assert uri_user(invite.header("From")) == maija.mobile
    assert uri_user(invite.header("P-Asserted-Identity")) == maija.mobile
    assert invite.header("X-Vipcall") is None, "only deliveries to the mobile core are marked"


async def test_handset_call_in_national_format_is_normalised(vipcall, people, parties) -> None:
    org = await people.org()
    maija = await people.user(org)
    far_end = await parties.pstn_far_end().start()
    external = fresh_external()
    national = "0" + external[4:]

    call = await parties.handset_caller(maija.mobile, national).run()
    seen = await far_end.wait()

    assert call.ok, call.log
    assert seen.received("INVITE")[0].request_user == external


async def test_handset_call_to_a_colleague_rings_the_colleagues_handset(
    vipcall, people, parties
) -> None:
    org = await people.org()
    maija, pekka = await people.user(org), await people.user(org)
    handset = await parties.handset().start()

    call = await parties.handset_caller(maija.mobile, pekka.mobile).run()
    seen = await handset.wait()

    assert call.ok, call.log
    invite = seen.received("INVITE")[0]
    assert invite.request_user == pekka.mobile
    assert invite.header("X-Vipcall") == "delivered"
    assert uri_user(invite.header("From")) == maija.mobile


async def test_busy_far_end_is_reported_to_the_caller(vipcall, people, parties) -> None:
    org = await people.org()
    maija = await people.user(org)
    far_end = await parties.pstn_far_end("uas_busy.xml").start()

    call = await parties.handset_caller(maija.mobile, fresh_external(), "uac_rejected.xml").run()
    await far_end.wait()

    assert call.final_status() == 486, call.log


async def test_emergency_number_goes_out_as_dialled(vipcall, people, parties) -> None:
    org = await people.org()
    maija = await people.user(org)
    far_end = await parties.pstn_far_end().start()

    call = await parties.handset_caller(maija.mobile, "112").run()
    seen = await far_end.wait()

    assert call.ok, call.log
    invite = seen.received("INVITE")[0]
    assert invite.request_user == "112"
    assert uri_user(invite.header("From")) == maija.mobile
