"""The absence notice ("Tiedote loma ja poissa"), end to end: role 5 and a red activity send
every call to the notice for the activity; key 2 rings the user, key 1 (when offered) the
customer-service number; no key: the notice once more, then a message (or, without
voicemail, "cannot be reached"). VIP callers and repeat callers ring through.

What the caller heard is read from the app: its outcome metric per call and its log (one
line per notice played, with the key pressed), beside what the SIP parties saw."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from harness.app import ROOT, AppProcess, eventually
from harness.party import media_seconds, uri_user
from tests.support.people import Person, fresh_external, messages_of
from vipcall import directory
from vipcall.absence.rules import notice_media
from vipcall.db.engine import transaction
from vipcall.presence.model import Activity, Role
from vipcall.routing.decisions import AbsenceNotice

HERE = Path(__file__).resolve().parent
KEY_THEN_HANG_UP = str(HERE / "uac_key_then_hang_up.xml")
SILENT_THEN_MESSAGE = str(HERE / "uac_silent_then_message.xml")


async def on_holiday_with_notice(  # type: ignore[no-untyped-def]
    people, org: str | None = None, **settings: object
) -> Person:
    """A user with role 5 (absence notice) on holiday (a red activity), Finnish org."""
    org = org or await people.org()
    maija = await people.user(org)
    await people.set_role(maija, int(Role.ABSENCE_NOTICE))
    await people.set_activity(maija, int(Activity.ON_HOLIDAY))
    if settings:
        async with transaction(people.sessions) as s:
            await directory.update_voicemail_settings(s, maija.id, **settings)  # type: ignore[arg-type]
    return maija


def log_of(app: AppProcess) -> str:
    return app.log_path.read_text(errors="replace")


def notices_heard(app: AppProcess, since: int, user: Person) -> list[tuple[int, str]]:
    """(which notice, key pressed) for each notice the user's callers heard after ``since``
    (a position in the app log)."""
    text = log_of(app)[since:]
    found = re.findall(rf"absence notice (\d)/2 for user {user.id}: key (\S+) ->", text)
    return [(int(n), key) for n, key in found]


def decisions_for(app: AppProcess, since: int, dialled: str) -> list[str]:
    """The routing decisions (class names) the app logged for calls to ``dialled``."""
    text = log_of(app)[since:]
    return re.findall(rf" -> {re.escape(dialled)}: (\w+)\(", text)


async def test_key_2_rings_the_handset(vipcall, people, parties) -> None:
    maija = await on_holiday_with_notice(people)
    handset = await parties.handset().start()
    mark = len(log_of(vipcall))

    count, call = await vipcall.count_outcome(
        "absence_ring_user",
        parties.external_caller(
            "+358501110101", maija.mobile, KEY_THEN_HANG_UP, digit="2", wait="3000", hold="3000"
        ).run(),
    )
    phone = await handset.wait()

    assert call.ok, call.log
    assert count == 1
    assert notices_heard(vipcall, mark, maija) == [(1, "2")]
    assert phone.ok, phone.log
    invite = phone.received("INVITE")[0]
    assert invite.request_user == maija.mobile
    assert invite.header("X-Vipcall") == "delivered"
    # The key interrupted the notice: the handset rang well before the notice's end.
    notice = media_seconds(notice_media(AbsenceNotice(maija.id, 6), "fi"))
    answered = call.received(200)[0].at
    assert invite.at - answered < notice, (invite.at - answered, notice)


async def test_key_2_from_a_colleague_rings_the_called_user(vipcall, people, parties) -> None:
    """A colleague who is not VIP hears the notice too; key 2 rings the user they called
    (not themselves), showing the colleague's own number."""
    org = await people.org()
    maija = await on_holiday_with_notice(people, org)
    colleague = await people.user(org)
    handset = await parties.handset().start()
    mark = len(log_of(vipcall))

    count, call = await vipcall.count_outcome(
        "absence_ring_user",
        parties.handset_caller(
            colleague.mobile, maija.mobile, KEY_THEN_HANG_UP, digit="2", wait="3000", hold="3000"
        ).run(),
    )
    phone = await handset.wait()

    assert call.ok, call.log
    assert count == 1
    assert notices_heard(vipcall, mark, maija) == [(1, "2")]
    assert phone.ok, phone.log
    invite = phone.received("INVITE")[0]
    assert invite.request_user == maija.mobile
    assert uri_user(invite.header("From")) == colleague.mobile


async def with_vip_colleague(people) -> tuple[Person, Person]:  # type: ignore[no-untyped-def]
    """Maija (notice on) and a colleague she marked VIP."""
    org = await people.org()
    maija = await on_holiday_with_notice(people, org)
    colleague = await people.user(org)
    async with transaction(people.sessions) as s:
        await directory.set_colleague_vip(s, maija.id, colleague.id, True)
    return maija, colleague


async def test_internal_vip_colleague_rings_through(vipcall, people, parties) -> None:
    maija, colleague = await with_vip_colleague(people)
    await assert_rings_through(vipcall, parties, maija, colleague.mobile, own=True)


async def test_external_vip_contact_rings_through(vipcall, people, parties) -> None:
    maija = await on_holiday_with_notice(people)
    number = fresh_external()
    async with transaction(people.sessions) as s:
        # Saved as typed on a phone (national form); the caller ID arrives in E.164.
        contact = await directory.add_contact(
            s, maija.id, name="Asiakas Oy", number="0" + number[4:]
        )
        await directory.set_contact_vip(s, maija.id, contact.id, True)
    await assert_rings_through(vipcall, parties, maija, number, own=False)


async def test_colleague_saved_also_as_external_contact_still_rings_through(
    vipcall, people, parties
) -> None:
    maija, colleague = await with_vip_colleague(people)
    async with transaction(people.sessions) as s:
        # The same person as a personal contact, not marked VIP, in another spelling: on
        # the operator's own service this duplicate breaks the bypass.
        national = "0" + colleague.mobile[4:]
        spaced = f"{national[:3]} {national[3:6]} {national[6:]}"
        await directory.add_contact(s, maija.id, name="Kollega (oma)", number=spaced)
    await assert_rings_through(vipcall, parties, maija, colleague.mobile, own=True)


async def assert_rings_through(  # type: ignore[no-untyped-def]
    vipcall, parties, maija: Person, caller: str, *, own: bool
) -> None:
    handset = await parties.handset().start()
    mark = len(log_of(vipcall))
    place = parties.handset_caller if own else parties.external_caller

    call = await place(caller, maija.mobile, "uac_call.xml", hold="1500").run()
    phone = await handset.wait()

    assert call.ok, call.log
    assert phone.ok, phone.log
    invite = phone.received("INVITE")[0]
    assert invite.request_user == maija.mobile
    assert decisions_for(vipcall, mark, maija.mobile) == ["Ring"]
    assert notices_heard(vipcall, mark, maija) == []


async def test_no_key_hears_the_notice_twice_then_leaves_a_message(
    vipcall, people, parties, database
) -> None:
    maija = await on_holiday_with_notice(people)
    async with transaction(people.sessions) as s:
        # Maija has a VIP list; this caller is not on it.
        vip = await directory.add_contact(s, maija.id, name="Joku muu", number=fresh_external())
        await directory.set_contact_vip(s, maija.id, vip.id, True)
    notice = media_seconds(notice_media(AbsenceNotice(maija.id, 6), "fi"))
    # Silent through both notices and their waits for a key (2 s each in e2e), then talks.
    silent_ms = int((2 * notice + 2 * 2) * 1000)
    mark = len(log_of(vipcall))
    caller = parties.external_caller(
        "+358501110102", maija.mobile, SILENT_THEN_MESSAGE, wait=str(silent_ms), hold="9000"
    )
    caller.timeout = 60

    count, call = await vipcall.count_outcome("absence_voicemail", caller.run())

    assert call.ok, call.log
    assert count == 1
    assert notices_heard(vipcall, mark, maija) == [(1, "None"), (2, "None")]
    messages = await eventually(lambda: messages_of(database, maija.id), timeout=10)
    assert len(messages) == 1
    assert messages[0]["caller_number"] == "+358501110102"
    assert messages[0]["called_number"] == maija.mobile
    assert messages[0]["duration_ms"] > 1000
    # The recording began only after both notices: what the caller said before the tone
    # (while the notices played) is not in the message.
    assert messages[0]["duration_ms"] < 9000 + 1000


def vipcall_cli(database: str, *args: str) -> str:
    env = dict(os.environ, VIPCALL_DATABASE_URL=database)
    done = subprocess.run(
        [sys.executable, "-m", "vipcall", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_third_call_within_ten_minutes_rings_through(
    vipcall, people, parties, database
) -> None:
    maija = await on_holiday_with_notice(people)
    vipcall_cli(database, "voicemail", "set", maija.username, "--repeat-callers", "on")
    caller = fresh_external()
    mark = len(log_of(vipcall))

    for _ in range(2):
        call = await parties.external_caller(caller, maija.mobile, hold="1000").run()
        assert call.ok, call.log
    handset = await parties.handset().start()
    third = await parties.external_caller(caller, maija.mobile, hold="1500").run()
    phone = await handset.wait()

    assert third.ok, third.log
    assert decisions_for(vipcall, mark, maija.mobile) == ["AbsenceNotice", "AbsenceNotice", "Ring"]
    assert phone.ok, phone.log
    assert phone.received("INVITE")[0].request_user == maija.mobile


async def test_another_caller_is_not_a_repeat_caller(vipcall, people, parties, database) -> None:
    maija = await on_holiday_with_notice(people, repeat_breakthrough=True)
    mark = len(log_of(vipcall))

    for _ in range(3):
        call = await parties.external_caller(fresh_external(), maija.mobile, hold="800").run()
        assert call.ok, call.log

    assert decisions_for(vipcall, mark, maija.mobile) == ["AbsenceNotice"] * 3


async def test_key_1_connects_to_customer_service(vipcall, people, parties) -> None:
    service = fresh_external()
    maija = await on_holiday_with_notice(
        people, offer_customer_service=True, customer_service_number=service
    )
    far_end = await parties.pstn_far_end().start()
    mark = len(log_of(vipcall))

    count, call = await vipcall.count_outcome(
        "absence_customer_service",
        parties.external_caller(
            "+358501110103", maija.mobile, KEY_THEN_HANG_UP, digit="1", wait="3000", hold="4000"
        ).run(),
    )
    answered = await far_end.wait()

    assert call.ok, call.log
    assert count == 1
    assert notices_heard(vipcall, mark, maija) == [(1, "1")]
    assert answered.ok, answered.log
    assert answered.received("INVITE")[0].request_user == service


async def test_key_1_without_customer_service_repeats_the_notice(vipcall, people, parties) -> None:
    maija = await on_holiday_with_notice(people)
    await people.without_voicemail(maija)
    mark = len(log_of(vipcall))

    call = await parties.external_caller(
        "+358501110104", maija.mobile, "uac_dtmf.xml", digit="1", wait="3000"
    ).run()

    assert call.ok, call.log
    # Key 1 is not offered: the notice once more, then (no key, no voicemail) "cannot be
    # reached" and the service hangs up.
    assert notices_heard(vipcall, mark, maija) == [(1, "1"), (2, "None")]


async def test_user_without_voicemail_cannot_be_reached_after_the_notice(
    vipcall, people, parties, database
) -> None:
    maija = await on_holiday_with_notice(people)
    await people.without_voicemail(maija)
    mark = len(log_of(vipcall))

    count, call = await vipcall.count_outcome(
        "absence_cannot_be_reached",
        parties.external_caller("+358501110105", maija.mobile, "uac_until_bye.xml").run(),
    )

    assert call.ok, call.log
    assert count == 1
    assert notices_heard(vipcall, mark, maija) == [(1, "None"), (2, "None")]
    notice = media_seconds(notice_media(AbsenceNotice(maija.id, 6), "fi"))
    assert call.seconds_between(200, "BYE") > 2 * notice
    assert await messages_of(database, maija.id) == []
