"""Feature codes from the user's own handset: 983n activity, 984n role, 987number forwarding,
987 clear. Each is answered, confirmed with a prompt and hung up; the stored state and the
next call show the change. Bad codes and refused targets change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harness.app import eventually
from harness.party import uri_user
from tests.support.people import fresh_external, messages_of, state_of
from tests.support.voicemail import default_greeting_seconds


async def dial_code(parties, person, code: str, app=None, outcome: str | None = None):  # type: ignore[no-untyped-def]
    """Dial a feature code from the person's handset; with ``app`` and ``outcome``, check
    the app answered it that way (the outcome names the prompt that was played)."""
    run = parties.handset_caller(person.mobile, code, "uac_until_bye.xml").run()
    if app is not None and outcome is not None:
        count, call = await app.count_outcome(outcome, run)
        assert count == 1, f"{code}: expected outcome {outcome}, got {app.outcomes()}"
    else:
        call = await run
    assert call.ok, call.log
    bye = call.received("BYE")[0]
    assert "cause=16" in (bye.header("Reason") or ""), bye
    return call


def speak_after_greeting(dialled: str) -> str:
    """Hold the caller through the greeting (it speaks the dialled number) and three
    seconds of message."""
    return str(int((default_greeting_seconds(dialled) + 3.0) * 1000))


async def test_983_3_sets_lunch_and_landline_calls_then_go_to_voicemail(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org, landline=True)

    await dial_code(parties, maija, "9833", vipcall, "activity_set")
    assert (await state_of(database, maija.id))["activity"] == 3

    handset = await parties.handset().start()
    call = await parties.external_caller(
        "+358501110010",
        maija.landline,
        "uac_message.xml",
        hold=speak_after_greeting(maija.landline),
    ).run()
    handset.kill()
    assert call.ok, call.log
    assert not (await handset.wait()).received("INVITE"), "the handset did not ring"
    messages = await eventually(lambda: messages_of(database, maija.id))
    assert messages[0]["called_number"] == maija.landline


async def test_mobile_calls_still_ring_at_lunch(vipcall, people, parties, database) -> None:
    org = await people.org()
    maija = await people.user(org, landline=True)
    await dial_code(parties, maija, "9833")
    assert (await state_of(database, maija.id))["activity"] == 3

    handset = await parties.handset().start()
    call = await parties.external_caller("+358501110011", maija.mobile).run()
    assert call.ok, call.log
    assert (await handset.wait()).received("INVITE")


async def test_scheduled_holiday_sends_landline_calls_to_voicemail(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org, landline=True)
    now = datetime.now(UTC)
    await people.schedule(maija, 6, now - timedelta(minutes=1), now + timedelta(hours=1))

    call = await parties.external_caller(
        "+358501110012",
        maija.landline,
        "uac_message.xml",
        hold=speak_after_greeting(maija.landline),
    ).run()
    assert call.ok, call.log
    assert await eventually(lambda: messages_of(database, maija.id))
    assert (await state_of(database, maija.id))["activity"] == 1, "the manual activity stays"


async def test_984_2_shows_the_landline_on_outgoing_calls(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org, landline=True)
    await dial_code(parties, maija, "9842", vipcall, "role_set")
    assert (await state_of(database, maija.id))["role"] == 2

    far_end = await parties.pstn_far_end().start()
    call = await parties.handset_caller(maija.mobile, fresh_external()).run()
    assert call.ok, call.log
    invite = (await far_end.wait()).received("INVITE")[0]
    assert uri_user(invite.header("From")) == maija.landline
    assert uri_user(invite.header("P-Asserted-Identity")) == maija.landline


async def test_984_4_hides_the_caller_id(vipcall, people, parties, database) -> None:
    org = await people.org()
    maija = await people.user(org)
    await dial_code(parties, maija, "9844")

    far_end = await parties.pstn_far_end().start()
    call = await parties.handset_caller(maija.mobile, fresh_external()).run()
    assert call.ok, call.log
    invite = (await far_end.wait()).received("INVITE")[0]
    assert maija.mobile not in (invite.header("From") or "")
    assert "anonymous" in (invite.header("From") or "").lower()
    assert "id" in (invite.header("Privacy") or ""), invite.headers


async def test_role_without_its_number_falls_back_to_the_mobile_number(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org)  # no landline
    await dial_code(parties, maija, "9842", vipcall, "role_set_fallback")
    assert (await state_of(database, maija.id))["role"] == 2

    far_end = await parties.pstn_far_end().start()
    call = await parties.handset_caller(maija.mobile, fresh_external()).run()
    assert call.ok, call.log
    invite = (await far_end.wait()).received("INVITE")[0]
    assert uri_user(invite.header("From")) == maija.mobile


async def test_987_number_forwards_calls_and_987_clears_it(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org)
    target = fresh_external()
    national = "0" + target[4:]

    await dial_code(parties, maija, "987" + national, vipcall, "forward_set")
    assert (await state_of(database, maija.id))["forward"] == target

    far_end = await parties.pstn_far_end().start()
    call = await parties.external_caller("+358501110013", maija.mobile).run()
    assert call.ok, call.log
    invite = (await far_end.wait()).received("INVITE")[0]
    assert invite.request_user == target
    assert uri_user(invite.header("From")) == "+358501110013", "the caller's number is kept"

    await dial_code(parties, maija, "987", vipcall, "forward_cleared")
    assert (await state_of(database, maija.id))["forward"] is None


@pytest.mark.parametrize("code", ["9839", "9846", "98", "98312"])
async def test_invalid_code_changes_nothing(vipcall, people, parties, database, code) -> None:
    org = await people.org()
    maija = await people.user(org)
    before = await state_of(database, maija.id)

    await dial_code(parties, maija, code, vipcall, "invalid_code")

    assert await state_of(database, maija.id) == before


async def test_refused_forwarding_targets_change_nothing(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija, pekka = await people.user(org, landline=True), await people.user(org)
    await people.forward(pekka, maija.mobile)  # pekka -> maija: maija -> pekka would loop

    for refused, reason in (
        ("98712", "invalid_number"),
        ("9870600123456", "premium_or_shared_cost"),
        ("987" + maija.landline, "own_number"),
        ("987" + pekka.mobile, "loop"),
    ):
        await dial_code(parties, maija, refused, vipcall, f"forward_refused_{reason}")
        assert (await state_of(database, maija.id))["forward"] is None, refused


async def test_activity_bound_forwarding_applies_while_in_that_activity(
    vipcall, people, parties
) -> None:
    org = await people.org(switchboard_number="+35851234000")
    maija = await people.user(org)
    await people.forward(maija, "+35851234000", activity=4)
    await dial_code(parties, maija, "9834")

    far_end = await parties.pstn_far_end().start()
    call = await parties.external_caller("+358501110014", maija.mobile).run()
    assert call.ok, call.log
    assert (await far_end.wait()).received("INVITE")[0].request_user == "+35851234000"


async def test_983_during_a_scheduled_holiday_takes_effect_at_once(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org, landline=True)
    now = datetime.now(UTC)
    await people.schedule(maija, 6, now - timedelta(hours=1), now + timedelta(days=2))

    await dial_code(parties, maija, "9831")

    handset = await parties.handset().start()
    call = await parties.external_caller("+358501110017", maija.landline).run()
    assert call.ok, call.log
    assert (await handset.wait()).received("INVITE"), "available again: the landline rings"
