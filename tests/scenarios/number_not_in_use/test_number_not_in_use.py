"""A number that is not a vipcall user (from outside), or not a phone number at all (from a
user's handset), gets a clear announcement and a hangup with a cause."""

from __future__ import annotations

import re

from harness.party import SipMessage


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


def cause(bye: SipMessage) -> int | None:
    """The Q.850 cause of a BYE's ``Reason: Q.850;cause=N``."""
    m = re.search(r"cause=(\d+)", bye.header("Reason") or "")
    return int(m.group(1)) if m else None


async def test_handset_dialling_letters_gets_the_same_answer_as_any_invalid_number(
    vipcall, people, parties
) -> None:
    """``abc`` is decided by the app's one rule like ``0000000``: an announcement (the
    call is answered) and cause 28, never a bare 404 from Asterisk."""
    org = await people.org()
    maija = await people.user(org)

    call = await parties.handset_caller(maija.mobile, "abc", "uac_until_bye.xml").run()

    assert call.ok, call.log
    assert call.received(200), "answered for the announcement"
    assert cause(call.received("BYE")[0]) == 28


async def test_letters_dialled_from_outside_are_a_number_not_in_use(
    vipcall, people, parties
) -> None:
    call = await parties.external_caller("+358501110004", "abc", "uac_until_bye.xml").run()

    assert call.ok, call.log
    assert call.received(200), "answered for the announcement"
    assert cause(call.received("BYE")[0]) == 1


async def test_letters_dialled_while_the_app_is_down_fail_open_the_same_way(
    vipcall, people, parties
) -> None:
    """The fail-open dialplan gives what the app would: an own call to ``abc`` is an invalid
    number (cause 28, SIP 484), a call from outside a number not in use (cause 1, 404);
    never dialled out to the PSTN."""
    org = await people.org()
    maija = await people.user(org)
    vipcall.stop()
    try:
        far_end = await parties.pstn_far_end().start()
        own = await parties.handset_caller(maija.mobile, "abc", "uac_rejected.xml").run()
        outside = await parties.external_caller("+358501110005", "abc", "uac_rejected.xml").run()
    finally:
        vipcall.start()

    assert own.ok, own.log
    assert own.final_status() == 484
    assert outside.ok, outside.log
    assert outside.final_status() == 404
    far_end.kill()
    assert not (await far_end.wait(timeout=5)).received("INVITE"), "never dialled out"
