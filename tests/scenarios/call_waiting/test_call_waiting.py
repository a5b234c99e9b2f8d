"""Call waiting, end to end: a user already in a call still gets a new direct call offered
(the handset gets a second INVITE; its own call waiting decides). vipcall keeps no "busy"
state of its own for direct calls: only a busy answer from the far end (486) sends the
caller to voicemail."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.app import eventually
from tests.scenarios.conftest import MOBILE_CORE
from tests.support.people import fresh_external, messages_of
from tests.support.voicemail import default_greeting_seconds

HERE = Path(__file__).resolve().parent
ANSWER_OR_BUSY = str(HERE / "uas_answer_or_busy.xml")


async def test_a_second_call_is_offered_to_a_user_already_in_a_call(
    vipcall, people, parties
) -> None:
    org = await people.org()
    maija = await people.user(org)
    phone = await parties._sipp(
        scenario="uas_answer.xml", ip=MOBILE_CORE, port=5060, calls=2, keys={"ring": "300"}
    ).start()

    first = await parties.external_caller(fresh_external(), maija.mobile, hold="8000").start()
    await asyncio.sleep(2.0)  # answered after 0.3 s: in the call now
    second = await parties.external_caller(fresh_external(), maija.mobile, hold="2000").run()
    one = await first.wait()
    seen = await phone.wait()

    assert one.ok, one.log
    assert second.ok, second.log
    assert seen.ok, seen.log
    invites = seen.received("INVITE")
    assert [m.request_user for m in invites] == [maija.mobile, maija.mobile]
    # The second INVITE came while the first call was up (before its BYE).
    first_call = invites[0].header("Call-ID")
    bye_of_first = [m for m in seen.received("BYE") if m.header("Call-ID") == first_call]
    assert bye_of_first and invites[1].at < bye_of_first[0].at
    assert second.final_status() == 200  # answered on the waiting line, hung up by the caller


async def test_busy_from_the_handset_sends_the_caller_to_voicemail(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org)
    waiting = fresh_external()
    phone = await parties._sipp(
        scenario=ANSWER_OR_BUSY, ip=MOBILE_CORE, port=5060, calls=2,
        keys={"busy_from": waiting.removeprefix("+")},
    ).start()  # fmt: skip

    first = await parties.external_caller(fresh_external(), maija.mobile, hold="20000").start()
    await asyncio.sleep(2.0)
    hold = int((default_greeting_seconds(maija.mobile) + 4) * 1000)
    second = await parties.external_caller(
        waiting, maija.mobile, "uac_message.xml", hold=str(hold)
    ).run()
    one = await first.wait()
    seen = await phone.wait()

    assert second.ok, second.log
    assert one.ok, one.log  # the call in progress was not disturbed
    assert seen.ok, seen.log
    assert len(seen.received("INVITE")) == 2
    messages = await eventually(lambda: messages_of(database, maija.id), timeout=10)
    assert len(messages) == 1, vipcall.log_tail()
    assert messages[0]["caller_number"] == waiting
    assert "unanswered (BUSY)" in vipcall.log_tail(200)
