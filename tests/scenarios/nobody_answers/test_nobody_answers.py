"""No answer within the ring time, busy, or unreachable: the caller hears the default
greeting and a tone, and what they say is stored as a message in the user's mailbox —
also when they hang up in the middle of it."""

from __future__ import annotations

import io
import wave

import pytest

from harness.app import eventually
from tests.support.people import messages_of
from tests.support.voicemail import default_greeting_seconds


def speaking_caller(parties, dialled: str):  # type: ignore[no-untyped-def]
    """Sends audio from the answer on (the greeting speaks the dialled number, then the
    message) and hangs up about five seconds into the message, while it is still being
    recorded."""
    hold = int((default_greeting_seconds(dialled) + 5.0) * 1000)
    return parties.external_caller("+358501110005", dialled, "uac_message.xml", hold=str(hold))


async def assert_message_stored(database: str, user_id: int, called: str) -> None:
    messages = await eventually(lambda: messages_of(database, user_id), timeout=10)
    assert len(messages) == 1
    message = messages[0]
    assert message["caller_number"] == "+358501110005"
    assert message["called_number"] == called
    # The caller hangs up ~5 s after the greeting and the tone.
    assert 3000 < message["duration_ms"] < 7000, message["duration_ms"]
    with wave.open(io.BytesIO(message["audio"])) as w:
        assert w.getnframes() > 8000


@pytest.mark.parametrize(
    "handset_scenario", ["uas_ring.xml", "uas_busy.xml"], ids=["no-answer", "busy"]
)
async def test_unanswered_call_leaves_a_message(
    vipcall, people, parties, database, handset_scenario
) -> None:
    org = await people.org()
    maija = await people.user(org)
    handset = await parties.handset(handset_scenario).start()

    call = await speaking_caller(parties, maija.mobile).run()
    phone = await handset.wait()

    assert call.ok, call.log
    assert phone.ok, phone.log
    assert phone.received("INVITE"), "the handset rang first"
    await assert_message_stored(database, maija.id, maija.mobile)


async def test_unreachable_handset_leaves_a_message(vipcall, people, parties, database) -> None:
    org = await people.org()
    maija = await people.user(org)  # no handset party listening: nobody answers the INVITE

    call = await speaking_caller(parties, maija.mobile).run()

    assert call.ok, call.log
    await assert_message_stored(database, maija.id, maija.mobile)
    await parties.end_unanswered_invite()


@pytest.mark.parametrize(
    ("handset_scenario", "status"),
    [("uas_busy.xml", 486), (None, 480)],
    ids=["busy", "unreachable"],
)
async def test_user_without_voicemail_gives_the_caller_the_reason(
    vipcall, people, parties, database, handset_scenario, status
) -> None:
    org = await people.org()
    maija = await people.user(org)
    await people.without_voicemail(maija)
    handset = await parties.handset(handset_scenario).start() if handset_scenario else None

    call = await parties.external_caller("+358501110016", maija.mobile, "uac_rejected.xml").run()
    if handset is not None:
        await handset.wait()
    else:
        await parties.end_unanswered_invite()

    assert call.final_status() == status, call.log
    assert await messages_of(database, maija.id) == []
