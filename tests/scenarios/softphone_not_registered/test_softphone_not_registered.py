"""A call rings only the softphones that are registered: one without a contact is left out
of the Dial (Asterisk would only log "Could not create dialog to invalid URI" twice), and
it is rung again as soon as it registers (the app follows ARI EndpointStateChange)."""

from __future__ import annotations

from harness.app import AppProcess, eventually

CONTACT_PORT = 5063


def pushed(app: AppProcess, endpoint: str) -> bool:
    """The app has pushed the softphone into Asterisk (it logs the state it then reads)."""
    return f"softphone {endpoint}: " in app.log_path.read_text(errors="replace")


def registered(asterisk, endpoint: str) -> bool:  # type: ignore[no-untyped-def]
    """Asterisk holds a contact for the softphone (what a call is checked against)."""
    return f"{endpoint}/sip:" in asterisk.cli("pjsip show contacts")


def dialog_errors(asterisk, endpoint: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        line
        for line in asterisk.messages_log.read_text(errors="replace").splitlines()
        if "Could not create dialog" in line and f"'{endpoint}'" in line
    ]


async def test_unregistered_softphone_is_not_dialled_and_the_handset_rings(
    vipcall, asterisk, people, parties
) -> None:
    org = await people.org()
    liisa = await people.user(org, softphone=True)
    assert liisa.softphone is not None
    await eventually(lambda: pushed(vipcall, liisa.softphone), timeout=15)

    handset = await parties.handset().start()
    call = await parties.external_caller("+358501110021", liisa.mobile).run()
    seen = await handset.wait()

    assert call.ok, call.log
    assert seen.received("INVITE")[0].request_user == liisa.mobile, "the handset rang"
    assert dialog_errors(asterisk, liisa.softphone) == []


async def test_softphone_rings_once_it_registers(vipcall, asterisk, people, parties) -> None:
    org = await people.org()
    liisa = await people.user(org, softphone=True)
    assert liisa.softphone is not None and liisa.softphone_password is not None
    await eventually(lambda: pushed(vipcall, liisa.softphone), timeout=15)
    reg = await parties.softphone_registration(
        liisa.softphone, liisa.softphone_password, CONTACT_PORT
    ).run()
    assert reg.ok, reg.log
    await eventually(lambda: registered(asterisk, liisa.softphone), timeout=10)

    handset = await parties.handset("uas_ring.xml").start()
    softphone = await parties.softphone(CONTACT_PORT).start()
    call = await parties.external_caller("+358501110022", liisa.mobile).run()
    on_softphone, on_handset = await softphone.wait(), await handset.wait()

    assert call.ok, call.log
    assert on_softphone.ok and on_softphone.received("INVITE"), "the softphone rang and answered"
    assert on_handset.received("INVITE"), "the handset rang too"
    assert dialog_errors(asterisk, liisa.softphone) == []
