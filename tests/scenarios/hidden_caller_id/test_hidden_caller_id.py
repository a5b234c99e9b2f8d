"""Role 4 (hidden) towards the PSTN: a carrier the operator trusts (RFC 3325 trust domain)
gets the real number in P-Asserted-Identity beside ``Privacy: id``; a carrier that is not
trusted never sees the real number, only an anonymous From."""

from __future__ import annotations

from harness.party import uri_user
from tests.support.people import fresh_external

HIDDEN = 4


def all_headers(invite) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(f"{k}: {v}" for k, values in invite.headers.items() for v in values)


async def test_hidden_caller_through_a_trusted_carrier_is_asserted_with_privacy(
    vipcall, people, parties
) -> None:
    org = await people.org()
    maija = await people.user(org)
    await people.set_role(maija, HIDDEN)

    far_end = await parties.pstn_far_end().start()
    call = await parties.handset_caller(maija.mobile, fresh_external()).run()
    assert call.ok, call.log
    invite = (await far_end.wait()).received("INVITE")[0]

    assert uri_user(invite.header("From")) == "anonymous", invite.headers
    assert uri_user(invite.header("P-Asserted-Identity")) == maija.mobile, invite.headers
    assert "id" in (invite.header("Privacy") or ""), invite.headers


async def test_hidden_caller_through_an_untrusted_carrier_never_shows_the_number(
    untrusted_vipcall, untrusted_parties, people
) -> None:
    org = await people.org()
    maija = await people.user(org)
    await people.set_role(maija, HIDDEN)

    far_end = await untrusted_parties.pstn_far_end().start()
    call = await untrusted_parties.handset_caller(maija.mobile, fresh_external()).run()
    assert call.ok, call.log
    invite = (await far_end.wait()).received("INVITE")[0]

    assert uri_user(invite.header("From")) == "anonymous", invite.headers
    assert invite.header("P-Asserted-Identity") is None, invite.headers
    assert invite.header("Remote-Party-ID") is None, invite.headers
    assert maija.mobile not in all_headers(invite)
    assert maija.mobile[4:] not in all_headers(invite), "not in national form either"


async def test_untrusted_carrier_still_sees_a_visible_caller_id(
    untrusted_vipcall, untrusted_parties, people
) -> None:
    """Trust only decides about hidden numbers: role 1 shows the mobile number as ever."""
    org = await people.org()
    maija = await people.user(org)

    far_end = await untrusted_parties.pstn_far_end().start()
    call = await untrusted_parties.handset_caller(maija.mobile, fresh_external()).run()
    assert call.ok, call.log
    invite = (await far_end.wait()).received("INVITE")[0]

    assert uri_user(invite.header("From")) == maija.mobile
    assert uri_user(invite.header("P-Asserted-Identity")) == maija.mobile
