"""A number that is not a vipcall user (from outside), or not a phone number at all (from a
user's handset), gets a clear announcement and a hangup with a cause."""

from __future__ import annotations


async def test_external_call_to_a_number_nobody_has_is_announced_and_hung_up(
    vipcall, people, parties
) -> None:
    call = await parties.external_caller(
        "+358501110003", "+358409999998", "uac_until_bye.xml"
    ).run()

    assert call.ok, call.log
    bye = call.received("BYE")[0]
    assert "cause=1" in (bye.header("Reason") or ""), bye


async def test_handset_dialling_garbage_is_announced_and_hung_up(vipcall, people, parties) -> None:
    org = await people.org()
    maija = await people.user(org)

    call = await parties.handset_caller(maija.mobile, "12", "uac_until_bye.xml").run()

    assert call.ok, call.log
    bye = call.received("BYE")[0]
    assert "cause=28" in (bye.header("Reason") or ""), bye
