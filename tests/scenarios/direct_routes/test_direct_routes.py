"""Direct routes (vipcall.service.direct): a call from outside to a green user who forwards
nowhere rings the handset from the route the app wrote into Asterisk ahead of time, with no
Stasis round trip; every other call still asks the app; a 983 code from the handset takes
effect on the very next call."""

from __future__ import annotations

import re

from harness.app import AppProcess, eventually
from harness.party import uri_user
from tests.scenarios.self_service.test_self_service import dial_code, speak_after_greeting
from tests.support.people import fresh_external, messages_of


def direct_calls(app: AppProcess) -> float:
    """``vipcall_direct_calls_total``: calls rung from a direct route (their end reports)."""
    found = re.search(r"^vipcall_direct_calls_total (\S+)$", app.metrics(), re.M)
    return float(found.group(1)) if found else 0.0


def decided(app: AppProcess) -> float:
    """Calls the app decided itself (every outcome)."""
    return sum(app.outcomes().values())


async def direct_route_written(app: AppProcess, number: str) -> None:
    """Wait until the app has written the number's route (its log says the routes are on;
    the entry follows the user's creation within milliseconds)."""
    await eventually(lambda: "direct routes on" in app.log_path.read_text(errors="replace"))


async def test_a_green_users_handset_rings_without_asking_the_app(vipcall, people, parties) -> None:
    org = await people.org()
    maija = await people.user(org)
    await direct_route_written(vipcall, maija.mobile)
    caller = fresh_external()
    direct, asked = direct_calls(vipcall), decided(vipcall)
    handset = await parties.handset().start()

    call = await parties.external_caller(caller, maija.mobile).run()
    phone = await handset.wait()

    assert call.ok, call.log
    invite = phone.received("INVITE")[0]
    assert invite.request_user == maija.mobile
    assert invite.header("X-Vipcall") == "delivered"
    assert uri_user(invite.header("From")) == caller, "the caller's own number is shown"
    await eventually(lambda: direct_calls(vipcall) == direct + 1)
    assert decided(vipcall) == asked, "the app decided nothing for this call"


async def test_a_caller_id_the_route_does_not_cover_is_decided_by_the_app(
    vipcall, people, parties
) -> None:
    """A landline caller ID (not among the direct route's caller IDs): the app decides the
    same ring."""
    org = await people.org()
    maija = await people.user(org)
    await direct_route_written(vipcall, maija.mobile)
    direct = direct_calls(vipcall)
    handset = await parties.handset().start()

    count, call = await vipcall.count_outcome(
        "handed_off", parties.external_caller("+35891110077", maija.mobile).run()
    )
    phone = await handset.wait()

    assert call.ok, call.log
    assert count == 1, vipcall.outcomes()
    assert uri_user(phone.received("INVITE")[0].header("From")) == "+35891110077"
    assert direct_calls(vipcall) == direct


async def test_983_takes_effect_on_the_very_next_call_after_a_direct_one(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org, landline=True)
    await direct_route_written(vipcall, maija.landline)
    direct = direct_calls(vipcall)
    handset = await parties.handset().start()
    call = await parties.external_caller(fresh_external(), maija.landline).run()
    assert call.ok, call.log
    assert (await handset.wait()).received("INVITE")
    await eventually(lambda: direct_calls(vipcall) == direct + 1)  # the route was there

    await dial_code(parties, maija, "9833")  # lunch: red, landline calls to voicemail

    handset = await parties.handset().start()
    call = await parties.external_caller(
        fresh_external(), maija.landline, "uac_message.xml",
        hold=speak_after_greeting(maija.landline),
    ).run()  # fmt: skip
    handset.kill()
    assert call.ok, call.log
    assert not (await handset.wait()).received("INVITE"), "the handset did not ring"
    messages = await eventually(lambda: messages_of(database, maija.id))
    assert messages[0]["called_number"] == maija.landline
