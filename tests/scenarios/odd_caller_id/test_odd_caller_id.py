"""An external caller whose caller ID is not a plausible number (a thousand digits, letters)
calls a user: the handset is shown an anonymous caller (From and P-Asserted-Identity
``anonymous``, ``Privacy: id``), never a cut-down copy of the string, and the app's log
names the caller the same way. A valid number in another spelling is shown in E.164."""

from __future__ import annotations

import pytest

from harness.party import SippResult, uri_user

THOUSAND_DIGITS = "4" * 1000


async def ring_the_handset(parties, people, caller_id: str):  # type: ignore[no-untyped-def]
    org = await people.org()
    maija = await people.user(org)
    handset = await parties.handset().start()
    call = await parties.external_caller(caller_id, maija.mobile).run()
    phone: SippResult = await handset.wait()
    assert call.ok, call.log
    assert phone.ok, phone.log
    return maija, phone.received("INVITE")[0]


@pytest.mark.parametrize(
    "caller_id", [THOUSAND_DIGITS, "Matti.Meikalainen"], ids=["digits", "letters"]
)
async def test_caller_id_that_is_not_a_number_reaches_the_handset_as_anonymous(
    vipcall, people, parties, caller_id: str
) -> None:
    maija, invite = await ring_the_handset(parties, people, caller_id)

    assert invite.request_user == maija.mobile
    assert uri_user(invite.header("From")) == "anonymous", invite.headers
    assert uri_user(invite.header("P-Asserted-Identity")) == "anonymous", invite.headers
    assert "id" in (invite.header("Privacy") or ""), invite.headers
    everything = "\n".join(v for values in invite.headers.values() for v in values)
    assert caller_id[:20] not in everything, "no part of the odd caller ID is passed on"
    # The app's log says what the handset saw.
    log = vipcall.log_path.read_text(errors="replace")
    assert f"anonymous -> {maija.mobile}" in log


async def test_valid_caller_id_in_national_form_reaches_the_handset_in_e164(
    vipcall, people, parties
) -> None:
    maija, invite = await ring_the_handset(parties, people, "0501110031")

    assert uri_user(invite.header("From")) == "+358501110031"
    assert uri_user(invite.header("P-Asserted-Identity")) == "+358501110031"
    assert "id" not in (invite.header("Privacy") or "")
    assert f"+358501110031 -> {maija.mobile}" in vipcall.log_path.read_text(errors="replace")
