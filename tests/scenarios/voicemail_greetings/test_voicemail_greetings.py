"""A call routing sends to voicemail, through real Asterisk: the greeting tells the activity
and its end time, keys 1 and 2 connect elsewhere, a full mailbox takes no message (its keys
still work), and a recording under a second is no message."""

from __future__ import annotations

import asyncio
import io
import re
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from harness.app import eventually
from tests.support.people import Person, fresh_external, messages_of
from vipcall import directory
from vipcall.db.engine import transaction
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import asyncpg_dsn

HERE = Path(__file__).resolve().parent
SOUNDS = HERE.parents[2] / "sounds"
#: Presses a key after [wait] ms, stays [hold] ms on the call the key gave, hangs up.
KEY_THEN_HANG_UP = str(HERE / "uac_key_then_hang_up.xml")
NAME_SECONDS = 1.0
LUNCH = 3


def tone(seconds: float) -> bytes:
    """A recorded name: WAV 8 kHz mono 16-bit."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x10\x00\xf0" * int(4000 * seconds))
    return buf.getvalue()


async def red_landline_user(people, **settings: object) -> Person:  # type: ignore[no-untyped-def]
    """A user at lunch (scheduled, one more hour) with a recorded name and ``settings``."""
    org = await people.org()
    user = await people.user(org, landline=True)
    now = datetime.now(UTC)
    await people.schedule(user, LUNCH, now - timedelta(minutes=5), now + timedelta(hours=1))
    async with transaction(people.sessions) as s:
        await directory.set_audio(s, user.id, "name", tone(NAME_SECONDS))
        if settings:
            await directory.update_voicemail_settings(s, user.id, **settings)
    return user


def greeting_logged(log: Path, user_id: int) -> list[str]:
    """The media of the greeting the app played for the user (from the app's log)."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        m = re.search(rf"greeting for user {user_id} \([^)]*\): (.*)$", line)
        if m:
            return m.group(1).split()
    return []


def seconds_of(media: list[str]) -> float:
    """How long the greeting lasts: the prompts' WAV files, the recorded name."""
    total = 0.0
    for uri in media:
        if uri.startswith("sound:vipcall/"):
            with wave.open(str(SOUNDS / (uri.removeprefix("sound:vipcall/") + ".wav"))) as w:
                total += w.getnframes() / w.getframerate()
        else:
            total += NAME_SECONDS
    return total


async def stopped_calls(database: str, user_id: int) -> list[str]:
    conn = await asyncpg.connect(asyncpg_dsn(database))
    try:
        rows = await conn.fetch(
            "SELECT caller_number FROM stopped_calls WHERE user_id = $1", user_id
        )
        return [r["caller_number"] for r in rows]
    finally:
        await conn.close()


async def test_red_landline_greeting_tells_the_activity_and_end_time_then_records(
    vipcall, people, parties, database
) -> None:
    maija = await red_landline_user(people, announce_activity=True, announce_end_time=True)
    assert maija.landline is not None
    hold = 14.0
    call = await parties.external_caller(
        "+358501110205", maija.landline, "uac_message.xml", hold=str(int(hold * 1000))
    ).run()

    assert call.ok, call.log
    messages = await eventually(lambda: messages_of(database, maija.id), timeout=10)
    assert len(messages) == 1
    message = messages[0]
    assert message["caller_number"] == "+358501110205"
    assert message["called_number"] == maija.landline
    with wave.open(io.BytesIO(message["audio"])) as w:  # type: ignore[arg-type]
        assert w.getnframes() == message["duration_ms"] * 8  # type: ignore[operator]

    greeting = greeting_logged(vipcall.log_path, maija.id)
    assert greeting, vipcall.log_tail()
    assert greeting[0].startswith("sound:http://") and "/media/name/" in greeting[0]
    assert "sound:vipcall/fi/activity-is-3" in greeting  # "... on lounaalla"
    assert "sound:vipcall/fi/until" in greeting  # "... klo NN.NN asti"
    assert greeting[-1] == "sound:vipcall/fi/voicemail-leave-message"
    # What was recorded is what followed that greeting and the tone: the greeting Asterisk
    # played lasted as long as those prompts (the caller's hang-up ends the message).
    expected = hold - seconds_of(greeting) - 0.3
    assert abs(message["duration_ms"] / 1000 - expected) < 1.5, (  # type: ignore[operator]
        message["duration_ms"],
        expected,
    )
    # The red landline stopped this caller: counted for "repeat caller breaks through".
    assert await stopped_calls(database, maija.id) == ["+358501110205"]


async def test_key_1_connects_to_the_users_other_number(vipcall, people, parties, database) -> None:
    work = fresh_external()
    maija = await red_landline_user(people, transfer_target=work, offer_transfer=True)
    assert maija.landline is not None
    far_end = await parties.pstn_far_end().start()

    call = await parties.external_caller(
        "+358501110206",
        maija.landline,
        KEY_THEN_HANG_UP,
        digit="1",
        wait="2000",
        hold="4000",
    ).run()
    seen = await far_end.wait()

    assert call.ok, call.log
    assert seen.ok, seen.log
    invites = seen.received("INVITE")
    assert [i.request_user for i in invites] == [work], seen.log
    assert await messages_of(database, maija.id) == []


async def test_key_2_rings_the_user_past_the_red_landline(
    vipcall, people, parties, database
) -> None:
    maija = await red_landline_user(people, offer_bypass=True)
    assert maija.landline is not None
    handset = await parties.handset().start()

    call = await parties.external_caller(
        "+358501110207",
        maija.landline,
        KEY_THEN_HANG_UP,
        digit="2",
        wait="2000",
        hold="4000",
    ).run()
    phone = await handset.wait()

    assert call.ok, call.log
    assert phone.ok, phone.log
    assert [i.request_user for i in phone.received("INVITE")] == [maija.mobile], phone.log
    assert "sound:vipcall/fi/voicemail-press-2-reach" in greeting_logged(vipcall.log_path, maija.id)


async def test_a_full_mailbox_says_so_and_takes_no_message(
    vipcall, people, parties, database, capsys
) -> None:
    maija = await one_message_mailbox(people, database, capsys)

    call = await parties.external_caller("+358501110208", maija.landline, "uac_until_bye.xml").run()

    assert call.ok, call.log
    # The prompt (~3.5 s) is heard, then the service hangs up.
    assert call.seconds_between(200, "BYE") > 3.0, call.log
    await asyncio.sleep(1.0)
    messages = await messages_of(database, maija.id)
    assert [m["caller_number"] for m in messages] == ["+358501110001"]
    log = vipcall.log_path.read_text(errors="replace")
    assert f"mailbox of user {maija.id} is full (1 messages)" in log


async def test_a_full_mailbox_still_offers_key_2_which_rings_the_user(
    vipcall, people, parties, database, capsys
) -> None:
    maija = await one_message_mailbox(people, database, capsys, offer_bypass=True)
    handset = await parties.handset().start()

    call = await parties.external_caller(
        "+358501110210", maija.landline, KEY_THEN_HANG_UP, digit="2", wait="2000", hold="4000"
    ).run()
    phone = await handset.wait()

    assert call.ok, call.log
    assert phone.ok, phone.log
    assert [i.request_user for i in phone.received("INVITE")] == [maija.mobile], phone.log
    assert len(await messages_of(database, maija.id)) == 1, "still only the one message"
    log = vipcall.log_path.read_text(errors="replace")
    assert f"mailbox of user {maija.id} is full (1 messages)" in log
    assert f"key 2: ringing user {maija.id}" in log


async def test_two_callers_at_once_to_a_mailbox_one_short_of_full_leave_one_message(
    vipcall, people, parties, database, capsys
) -> None:
    maija = await one_message_mailbox(people, database, capsys, filled=False)
    greeting = seconds_of(
        ["name", "sound:vipcall/fi/voicemail-cannot-answer",
         "sound:vipcall/fi/voicemail-leave-message", "sound:vipcall/fi/beep"]
    )  # fmt: skip
    first = await parties.external_caller(
        "+358501110211", maija.landline, "uac_message.xml", hold=str(int((greeting + 4) * 1000))
    ).start()
    # The second caller arrives while the first is being greeted: the mailbox has room for
    # one message only, and that one is being left.
    await eventually(lambda: greeting_logged(vipcall.log_path, maija.id), timeout=10)
    second = await parties.external_caller(
        "+358501110212", maija.landline, "uac_message.xml", hold=str(int((greeting + 4) * 1000))
    ).run()
    one = await first.wait()

    assert one.ok, one.log
    # The second caller would speak, but is told the mailbox is full and hung up on.
    assert second.received("BYE"), second.log
    messages = await eventually(lambda: messages_of(database, maija.id), timeout=10)
    await asyncio.sleep(1.0)
    assert [m["caller_number"] for m in await messages_of(database, maija.id)] == [
        "+358501110211"
    ], messages
    log = vipcall.log_tail(300)
    assert f"mailbox of user {maija.id} is full (0 messages): no message taken (1 more" in log


async def test_a_recording_under_a_second_is_no_message(vipcall, people, parties, database) -> None:
    maija = await red_landline_user(people)
    assert maija.landline is not None
    # The default greeting with the name, then the tone; the caller hangs up ~0.5 s into
    # the recording.
    greeting = seconds_of(
        ["name", "sound:vipcall/fi/voicemail-cannot-answer",
         "sound:vipcall/fi/voicemail-leave-message", "sound:vipcall/fi/beep"]
    )  # fmt: skip
    hold = int((greeting + 0.5) * 1000)
    call = await parties.external_caller(
        "+358501110209", maija.landline, "uac_message.xml", hold=str(hold)
    ).run()

    assert call.ok, call.log
    pattern = rf"recording of (\d+) ms discarded: no message left for user {maija.id}$"

    async def discarded() -> int | None:
        for line in vipcall.log_path.read_text(errors="replace").splitlines():
            if m := re.search(pattern, line):
                return int(m.group(1))
        return None

    ms = await eventually(discarded, timeout=10)
    assert 0 <= ms < 1000
    assert await messages_of(database, maija.id) == []


async def one_message_mailbox(  # type: ignore[no-untyped-def]
    people, database: str, capsys, *, filled: bool = True, **settings: object
) -> Person:
    """A red-landline user whose organisation's mailboxes hold one message at most (set by
    the CLI); ``filled``: that one message is there already."""
    from tests.support.cli import Cli

    maija = await red_landline_user(people, **settings)
    assert maija.landline is not None
    domain = await _domain_of(database, maija.id)
    await Cli(database, capsys).ok("org", "set-voicemail-limits", domain, "--max-messages", "1")
    if filled:
        pool = await asyncpg.create_pool(asyncpg_dsn(database), min_size=1, max_size=1)
        try:
            store = DbCallStore(pool, people.engine)
            await store.save_message(maija.id, "+358501110001", maija.landline, tone(2.0), 2000)
        finally:
            await pool.close()
    return maija


async def _domain_of(database: str, user_id: int) -> str:
    conn = await asyncpg.connect(asyncpg_dsn(database))
    try:
        domain: str = await conn.fetchval(
            "SELECT o.domain FROM organizations o JOIN users u ON u.organization_id = o.id"
            " WHERE u.id = $1",
            user_id,
        )
        return domain
    finally:
        await conn.close()
