"""Direct routes (vipcall.service.direct): a call from outside to a green user who forwards
nowhere rings the handset from the route the app wrote into Asterisk ahead of time, with no
Stasis round trip; every other call still asks the app; a 983 code from the handset takes
effect on the very next call."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from harness.app import AppProcess, eventually
from harness.party import uri_user
from tests.scenarios.self_service.test_self_service import dial_code, speak_after_greeting
from tests.support.people import Person, fresh_external, messages_of


def direct_route(app: AppProcess, number: str) -> str | None:
    """The number's direct route in Asterisk when it is one Asterisk would take now (it
    carries the current ``VIP_DIRECT_TOKEN``), else ``None``."""
    token = re.search(r"VIP_DIRECT_TOKEN=(\w+)", app.asterisk.cli("dialplan show globals"))
    value = re.search(r"Value: (\S+)", app.asterisk.cli(f"database get vipcall-direct {number}"))
    if token and value and value.group(1).startswith(token.group(1) + "|"):
        return value.group(1)
    return None


async def direct_route_written(app: AppProcess, number: str) -> None:
    """Wait until the app has written the number's route (it follows the user's creation
    through the routing memory's notification, within milliseconds)."""
    await eventually(lambda: direct_route(app, number))


async def landline_call_leaves_a_message(parties, database: str, person: Person) -> None:  # type: ignore[no-untyped-def]
    """A call from outside to the person's landline: the handset does not ring, the caller
    leaves a message for the landline (the app decided: red landline -> voicemail)."""
    assert person.landline is not None
    handset = await parties.handset().start()
    call = await parties.external_caller(
        fresh_external(), person.landline, "uac_message.xml",
        hold=speak_after_greeting(person.landline),
    ).run()  # fmt: skip
    handset.kill()
    assert call.ok, call.log
    assert not (await handset.wait()).received("INVITE"), "the handset did not ring"
    messages = await eventually(lambda: messages_of(database, person.id))
    assert messages[0]["called_number"] == person.landline


async def test_a_green_users_handset_rings_without_asking_the_app(vipcall, people, parties) -> None:
    org = await people.org()
    maija = await people.user(org)
    await direct_route_written(vipcall, maija.mobile)
    caller = fresh_external()
    await vipcall.reports_taken()  # an earlier test's direct call is counted by now
    direct, asked = vipcall.direct_calls(), sum(vipcall.outcomes().values())
    handset = await parties.handset().start()

    call = await parties.external_caller(caller, maija.mobile).run()
    phone = await handset.wait()

    assert call.ok, call.log
    invite = phone.received("INVITE")[0]
    assert invite.request_user == maija.mobile
    assert invite.header("X-Vipcall") == "delivered"
    assert uri_user(invite.header("From")) == caller, "the caller's own number is shown"
    await eventually(lambda: vipcall.direct_calls() == direct + 1)
    assert sum(vipcall.outcomes().values()) == asked, "the app decided nothing for this call"


async def test_a_caller_id_the_route_does_not_cover_is_decided_by_the_app(
    vipcall, people, parties
) -> None:
    """A landline caller ID (not among the direct route's caller IDs): the app decides the
    same ring."""
    org = await people.org()
    maija = await people.user(org)
    await direct_route_written(vipcall, maija.mobile)
    await vipcall.reports_taken()  # an earlier test's direct call is counted by now
    direct = vipcall.direct_calls()
    handset = await parties.handset().start()

    count, call = await vipcall.count_outcome(
        "handed_off", parties.external_caller("+35891110077", maija.mobile).run()
    )
    phone = await handset.wait()

    assert call.ok, call.log
    assert count == 1, vipcall.outcomes()
    assert uri_user(phone.received("INVITE")[0].header("From")) == "+35891110077"
    await vipcall.reports_taken()  # its report is in by now
    assert vipcall.direct_calls() == direct


async def test_983_takes_effect_on_the_very_next_call_after_a_direct_one(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org, landline=True)
    await direct_route_written(vipcall, maija.landline)
    await vipcall.reports_taken()  # an earlier test's direct call is counted by now
    direct = vipcall.direct_calls()
    handset = await parties.handset().start()
    call = await parties.external_caller(fresh_external(), maija.landline).run()
    assert call.ok, call.log
    assert (await handset.wait()).received("INVITE")
    await eventually(lambda: vipcall.direct_calls() == direct + 1)  # the route was there

    await dial_code(parties, maija, "9833")  # lunch: red, landline calls to voicemail

    await landline_call_leaves_a_message(parties, database, maija)


async def test_a_route_ends_when_a_scheduled_activity_begins(
    vipcall, people, parties, database
) -> None:
    """The entry carries the start of the next scheduled activity; from that second the
    landline's calls go to the app, which sends them to voicemail (holiday is red)."""
    org = await people.org()
    maija = await people.user(org, landline=True)
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
    await people.schedule(maija, 6, starts, starts + timedelta(hours=1))

    def until_the_start() -> bool:
        value = direct_route(vipcall, maija.landline)
        return value is not None and value.split("|")[1] == str(int(starts.timestamp()))

    await eventually(until_the_start)
    await asyncio.sleep(max(0.0, (starts - datetime.now(UTC)).total_seconds()) + 0.2)

    await landline_call_leaves_a_message(parties, database, maija)
