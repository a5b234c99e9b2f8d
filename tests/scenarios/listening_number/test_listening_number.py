"""The listening number +358 40 1621485, end to end: the caller ID picks the mailbox, the
menus (1 new messages; during a message 6 next, 7 delete, 9 save; 0 options, 1 record
greeting; # exit) change what is stored; a caller from outside enters mailbox + PIN, and
three wrong PINs hang up (logged, counted); a call the mobile core diverted to the number
leaves a message in that user's mailbox, and the user's softphone gets a message waiting
NOTIFY, also when the message is marked heard on the home page (not by phone). Keys come
from one pcap per call with rising RTP timestamps (harness/dtmf.py)."""

from __future__ import annotations

import asyncio
import io
import math
import re
import secrets
import struct
import wave
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from harness.app import eventually
from harness.dtmf import write_pcap
from harness.party import media_seconds
from tests.support.people import People, fresh_external, messages_of
from vipcall.directory import mailbox as mailbox_service
from vipcall.directory import voicemail as vm_service
from vipcall.prompts.media import sound
from vipcall.voicemail.listen import intro_media

VOICEMAIL_NUMBER = "+358401621485"
CONTACT_PORT = 5063
ASTERISK = "127.0.0.1:15060"  # as tests/scenarios/conftest.py
SOFTPHONES = "127.0.1.4"


def wav(seconds: float = 1.0, hz: float = 500.0) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / 8000)))
            for i in range(int(8000 * seconds))
        )
        w.writeframes(frames)
    return buf.getvalue()


async def seed_messages(people: People, user_id: int, callers: list[str]) -> list[int]:
    """Messages in the user's mailbox (as the deposit flow stores them), oldest first."""
    ids = []
    first_id = 10**9 + secrets.randbelow(10**9)
    async with people.engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO mailboxes (user_id) VALUES (:u) ON CONFLICT DO NOTHING"),
            {"u": user_id},
        )
        for i, caller in enumerate(callers):
            row = await conn.execute(
                text(
                    "INSERT INTO voicemail_messages (id, mailbox_id, caller_number,"
                    " called_number, duration_ms, audio, created_at)"
                    " SELECT :id, id, :c, '', 1000, :a, now() - make_interval(mins => :age)"
                    " FROM mailboxes WHERE user_id = :u RETURNING id"
                ),
                # Ids no earlier test database used: Asterisk's media cache outlives the
                # database and would play a cached /media/message/<id> without fetching it.
                {"id": first_id + i, "c": caller, "a": wav(), "u": user_id, "age": 10 - i},
            )
            ids.append(row.scalar_one())
    return ids


async def flags(people: People, ids: list[int]) -> dict[int, dict[str, object]]:
    async with people.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, heard, heard_at, saved, deleted, created_at FROM voicemail_messages"
                " WHERE id = ANY(:ids)"
            ),
            {"ids": ids},
        )
        return {r.id: dict(r._mapping) for r in rows}


async def set_pin(people: People, user_id: int, pin: str) -> None:
    async with people.sessions() as s, s.begin():
        await vm_service.set_pin(s, user_id, pin)


def keys_caller(
    parties, tmp_path: Path, script: str, *, handset: str | None = None, external: str | None = None
):  # type: ignore[no-untyped-def]
    pcap = write_pcap(tmp_path / f"keys-{abs(hash(script))}.pcap", script)
    if handset is not None:
        sipp = parties.handset_caller(handset, VOICEMAIL_NUMBER, "uac_keys.xml",
                                      pcap=str(pcap), wait="300")  # fmt: skip
    else:
        sipp = parties.external_caller(external, VOICEMAIL_NUMBER, "uac_keys.xml",
                                       pcap=str(pcap), wait="300")  # fmt: skip
    sipp.timeout = 70.0  # a whole menu session, bounded
    return sipp


def national(e164: str) -> str:
    return "0" + e164[4:]


def failures_metric(app) -> float:  # type: ignore[no-untyped-def]
    m = re.search(r"^vipcall_mailbox_login_failures_total (\S+)", app.metrics(), re.M)
    return float(m.group(1)) if m else 0.0


async def test_user_listens_from_the_handset_next_delete_save(
    vipcall, people, parties, tmp_path
) -> None:
    org = await people.org()
    maija = await people.user(org)
    callers = [None, fresh_external(), fresh_external()]
    first, second, third = await seed_messages(people, maija.id, callers)  # type: ignore[arg-type]
    # The first message plays to its end: its introduction (number, caller, time) and the
    # one second of audio; 6 comes before the menu timeout would move on by itself.
    created = (await flags(people, [first]))[first]["created_at"]
    local = created.astimezone(ZoneInfo("Europe/Helsinki"))  # type: ignore[attr-defined]
    intro = intro_media(1, callers[0], local, local.date(), "fi")
    played_ms = int(media_seconds(intro) * 1000) + 1000 + 1000
    # 1: first new message (heard); 6: next (heard); 7: delete it, the third plays (heard);
    # 9: save the third; end of messages, main menu; #: goodbye.
    script = f"w1500 1 w{played_ms} 6 w2500 7 w2500 9 w2500 #"

    call = await keys_caller(parties, tmp_path, script, handset=maija.mobile).run()

    assert call.ok, call.log
    assert call.received("BYE"), "the service said goodbye and hung up"
    got = await flags(people, [first, second, third])
    assert got[first]["heard"] and got[first]["heard_at"] is not None
    assert not got[first]["deleted"] and not got[first]["saved"]
    assert got[second]["heard"] and got[second]["deleted"]
    assert got[third]["heard"] and got[third]["saved"] and not got[third]["deleted"]
    log = vipcall.log_path.read_text(errors="replace")
    assert f"GET /media/message/{first}-{first}.wav" in log, "Asterisk fetched the message"


async def test_user_records_a_greeting_by_phone(vipcall, people, parties, tmp_path) -> None:
    org = await people.org()
    maija = await people.user(org)
    intro = media_seconds([sound("voicemail-record-greeting", "fi"), sound("beep", "fi")])
    # 0: options; 1: record greeting; after the prompt and tone 2.5 s of tone, #;
    # then # back to the main menu and # exit.
    wait_ms = int(intro * 1000) + 1500
    script = f"w1500 0 w1500 1 w{wait_ms} tone:2500 # w4000 # w1500 #"

    call = await keys_caller(parties, tmp_path, script, handset=maija.mobile).run()

    assert call.ok, call.log
    greeting = await eventually(lambda: greeting_of(people, maija.id), timeout=5)
    with wave.open(io.BytesIO(greeting)) as w:
        assert w.getnframes() > 8000, "at least a second of the tone was kept"


async def greeting_of(people: People, user_id: int) -> bytes | None:
    async with people.engine.connect() as conn:
        return (
            await conn.execute(
                text("SELECT greeting_audio FROM voicemail_settings WHERE user_id = :u"),
                {"u": user_id},
            )
        ).scalar()


async def test_outside_caller_enters_mailbox_and_pin(vipcall, people, parties, tmp_path) -> None:
    org = await people.org()
    maija = await people.user(org)
    await set_pin(people, maija.id, "4826")
    (message,) = await seed_messages(people, maija.id, [fresh_external()])
    script = f"w1000 {national(maija.mobile)}# w600 4826# w3000 1 w2500 # w1500 #"

    call = await keys_caller(parties, tmp_path, script, external=fresh_external()).run()

    assert call.ok, call.log
    got = await flags(people, [message])
    assert got[message]["heard"], "the PIN opened the mailbox and the message was played"


async def test_three_wrong_pins_hang_up_logged_and_counted(
    vipcall, people, parties, tmp_path
) -> None:
    org = await people.org()
    maija = await people.user(org)
    await set_pin(people, maija.id, "4826")
    (message,) = await seed_messages(people, maija.id, [fresh_external()])
    before = failures_metric(vipcall)
    outsider = fresh_external()
    attempt = f"{national(maija.mobile)}# w600 1111#"
    script = f"w1000 {attempt} w4500 {attempt} w4500 {attempt} w2500 1"

    call = await keys_caller(parties, tmp_path, script, external=outsider).run()

    assert call.ok, call.log
    assert call.received("BYE"), "the service hung up"
    async with people.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT user_id, caller_number FROM mailbox_login_failures WHERE user_id = :u"
                ),
                {"u": maija.id},
            )
        ).all()
    assert [(r.user_id, r.caller_number) for r in rows] == [(maija.id, outsider)] * 3
    assert failures_metric(vipcall) - before == 3
    assert not (await flags(people, [message]))[message]["heard"], "the mailbox stayed shut"


async def registered(parties, person) -> None:  # type: ignore[no-untyped-def]
    """The person's softphone registered (retried until Asterisk has its endpoint)."""
    await parties.softphone_registered(person.softphone, person.softphone_password, CONTACT_PORT)


async def mwi_subscriber(parties, person, scenario: str, timeout: float | None = None):  # type: ignore[no-untyped-def]
    """The person's softphone subscribed to its mailbox's MWI (SIPp ``scenario``), after
    its first NOTIFY had time to arrive."""
    softphone = parties._sipp(
        scenario=scenario, ip=SOFTPHONES, port=CONTACT_PORT + 1, remote=ASTERISK,
        auth=(person.softphone, person.softphone_password), keys={"from": person.softphone},
    )  # fmt: skip
    if timeout is not None:
        softphone.timeout = timeout
    await softphone.start()
    await asyncio.sleep(1.0)
    return softphone


async def test_diverted_call_leaves_a_message_and_the_softphone_is_told(
    vipcall, people, parties, database
) -> None:
    org = await people.org()
    maija = await people.user(org, softphone=True)
    await registered(parties, maija)
    softphone = await mwi_subscriber(parties, maija, "uac_subscribe_mwi.xml")
    # subscribed: its first NOTIFY says no messages
    caller = fresh_external()

    call = await parties.external_caller(
        caller, VOICEMAIL_NUMBER, "uac_diverted_message.xml", hold="18000", diversion=maija.mobile
    ).run()

    assert call.ok, call.log
    messages = await eventually(lambda: messages_of(database, maija.id), timeout=10)
    assert len(messages) == 1
    assert messages[0]["caller_number"] == caller
    assert messages[0]["called_number"] == maija.mobile

    told = await softphone.wait()
    assert told.ok, told.log
    notifies = told.received("NOTIFY")
    assert "Messages-Waiting: no" in notifies[0].body
    assert re.search(r"Messages-Waiting: *yes", notifies[-1].body), notifies[-1].body
    assert "Voice-Message: 1/0" in notifies[-1].body


async def test_a_message_marked_heard_on_the_home_page_updates_the_softphone(
    vipcall, people, parties
) -> None:
    """Not the app's phone menu: the web's service layer marks the message heard in
    PostgreSQL; migration 0009's trigger tells the app, which publishes the new counts."""
    org = await people.org()
    maija = await people.user(org, softphone=True)
    await registered(parties, maija)
    (message,) = await seed_messages(people, maija.id, [fresh_external()])  # app publishes 1/0
    await asyncio.sleep(1.0)
    softphone = await mwi_subscriber(parties, maija, "uac_subscribe_mwi_heard.xml", timeout=20.0)
    # subscribed: its first NOTIFY says one new message

    async with people.sessions() as s, s.begin():  # as the home page marks it
        await mailbox_service.mark_message(s, maija.id, message, heard=True)

    told = await softphone.wait()
    assert told.ok, told.log
    notifies = told.received("NOTIFY")
    assert re.search(r"Messages-Waiting: *yes", notifies[0].body), notifies[0].body
    assert "Voice-Message: 1/0" in notifies[0].body
    assert re.search(r"Messages-Waiting: *no", notifies[-1].body), notifies[-1].body
    assert "Voice-Message: 0/1" in notifies[-1].body
    assert (await flags(people, [message]))[message]["heard"]


async def test_after_an_asterisk_restart_the_softphone_is_told_of_the_message_again(
    vipcall, asterisk, people, parties
) -> None:
    """Asterisk keeps the mailbox states it publishes in memory only. After it restarts, the
    app's reconnect pushes the softphones again and republishes every mailbox with messages
    (one query), so a softphone that subscribes then still hears of the new message."""
    org = await people.org()
    maija = await people.user(org, softphone=True)
    await registered(parties, maija)
    await seed_messages(people, maija.id, [fresh_external()])  # the app publishes 1/0
    await asyncio.sleep(1.0)

    await asyncio.to_thread(asterisk.stop)
    await asyncio.to_thread(asterisk.start)
    await asyncio.to_thread(vipcall.wait_healthy, 20.0)
    await registered(parties, maija)  # the app pushed the softphone to the new Asterisk
    softphone = await mwi_subscriber(parties, maija, "uac_subscribe_mwi.xml", timeout=15.0)

    told = await softphone.wait()
    assert told.ok, told.log
    notifies = told.received("NOTIFY")
    assert re.search(r"Messages-Waiting: *yes", notifies[-1].body), notifies[-1].body
    assert "Voice-Message: 1/0" in notifies[-1].body


async def test_diverted_call_for_no_users_number_is_refused(vipcall, people, parties) -> None:
    call = await parties.external_caller(
        fresh_external(), VOICEMAIL_NUMBER, "uac_diverted_until_bye.xml",
        diversion="+358409990001",
    ).run()  # fmt: skip

    assert call.ok, call.log
    assert call.received(200), "answered for the announcement"
    bye = call.received("BYE")[0]
    assert "cause=1" in (bye.header("Reason") or ""), bye
