"""A caller leaves a message in a user's mailbox.

The audio is fetched from Asterisk and stored by vipcall (PostgreSQL) as soon as the
recording ends — also when the caller hangs up mid-message — then removed from Asterisk.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import wave
from collections.abc import Container
from typing import TYPE_CHECKING

from vipcall.ari import AriClient, AriError, AriNotFound
from vipcall.calls.channel import CallGone, Channel
from vipcall.metrics import MESSAGES, UNSAVED
from vipcall.prompts.media import sound
from vipcall.routing.decisions import Cause

if TYPE_CHECKING:
    from vipcall.calls.flows import CallState, Services

#: Recording stops after this much silence (seconds).
MAX_SILENCE = 10
#: Seconds storing a message may take before it is left for the next recovery round.
SAVE_TIMEOUT = 10.0
#: Recordings of messages are named ``vm~<user id>~<caller>~<called>~<channel id>``.
PREFIX = "vm~"

log = logging.getLogger("vipcall.voicemail")


async def leave_message(
    ch: Channel,
    user_id: int,
    caller: str | None,
    called: str | None,
    svc: Services,
    lang: str,
) -> None:
    """Greeting, tone, record; the message is kept even if the caller hangs up while speaking."""
    await ch.answer()
    await ch.play([sound("voicemail-greeting-default", lang), sound("beep", lang)])
    name = recording_name(user_id, caller, called, ch.id)
    try:
        await ch.ari.record(
            ch.id,
            name,
            format="wav",
            max_duration_seconds=svc.max_message_seconds,
            max_silence_seconds=MAX_SILENCE,
            if_exists="overwrite",
            terminate_on="#",
        )
    except AriNotFound as exc:
        raise CallGone from exc
    try:
        await ch.wait_for(
            {"RecordingFinished", "RecordingFailed"}, svc.max_message_seconds + 15, match=name
        )
    except CallGone:
        # The caller hung up while speaking: what was said is still a message. Asterisk
        # closes the file (and fills in the WAV header) when it reports the end.
        await _recording_ended(ch, name)
    except TimeoutError:
        ch.log.warning("recording %s did not report its end; stopping it", name)
        with contextlib.suppress(AriError):
            await ch.ari.stop_recording(name)
    await keep_message(ch.ari, svc.state, name, user_id, caller, called, ch.log)
    if not ch.gone:
        await ch.play([sound("goodbye", lang)])
        await ch.hangup(Cause.NORMAL)


def recording_name(user_id: int, caller: str | None, called: str | None, call_id: str) -> str:
    """The recording's name on Asterisk carries whose message it is, so one left behind
    (the app or the database away) can still be stored later by :func:`recover_messages`."""
    return f"{PREFIX}{user_id}~{caller or ''}~{called or ''}~{call_id}"


def parse_recording_name(name: str) -> tuple[int, str | None, str | None] | None:
    if not name.startswith(PREFIX):
        return None
    parts = name[len(PREFIX) :].split("~")
    if len(parts) != 4 or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1] or None, parts[2] or None


async def keep_message(
    ari: AriClient,
    state: CallState,
    name: str,
    user_id: int,
    caller: str | None,
    called: str | None,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> bool:
    """Store the recording in the user's mailbox, then remove it from Asterisk. If it cannot
    be stored now, it stays on Asterisk for the next recovery round: never lost.
    Returns True when the recording has been dealt with (stored, or empty)."""
    audio = await _fetch(ari, name)
    if audio is None:
        log.info("no recording %s: no message left for user %s", name, user_id)
        return True
    duration = _duration_ms(audio)
    if duration > 0:
        try:
            message_id = await asyncio.wait_for(
                state.save_message(user_id, caller, called, audio, duration), SAVE_TIMEOUT
            )
        except Exception as exc:  # noqa: BLE001 - kept on Asterisk, stored on recovery
            UNSAVED.inc()
            log.error("message for user %s not stored yet (%r); kept as %s", user_id, exc, name)
            return False
        MESSAGES.inc()
        log.info("message %s stored for user %s (%d ms)", message_id, user_id, duration)
    else:
        log.info("empty recording: no message left for user %s", user_id)
    try:
        await ari.delete_stored_recording(name)
    except AriError:
        log.warning("could not delete recording %s from Asterisk", name)
    return True


async def recover_messages(ari: AriClient, state: CallState, busy: Container[str]) -> int:
    """Store messages whose recordings were left on Asterisk (the app restarted, or the
    database was away when the caller finished). ``busy``: recordings still being made."""
    stored = 0
    for recording in await ari.list_stored_recordings():
        name = recording.get("name", "")
        owner = parse_recording_name(name)
        if owner is None or name.rsplit("~", 1)[-1] in busy:
            continue
        user_id, caller, called = owner
        if await keep_message(ari, state, name, user_id, caller, called, log):
            stored += 1
    return stored


async def _recording_ended(ch: Channel, name: str, timeout: float = 3.0) -> None:
    """After a hangup, wait briefly for Asterisk to report the recording's end."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (remaining := deadline - loop.time()) > 0:
        try:
            event = await asyncio.wait_for(ch.events.get(), remaining)
        except TimeoutError:
            return
        if event["type"] in ("RecordingFinished", "RecordingFailed"):
            if event.get("recording", {}).get("name") == name:
                return


async def _fetch(ari: AriClient, name: str) -> bytes | None:
    """The stored recording's bytes; a file not there yet is retried briefly."""
    for _ in range(20):
        try:
            return await ari.get_stored_recording_file(name)
        except AriNotFound:
            await asyncio.sleep(0.1)
    return None


def _duration_ms(audio: bytes) -> int:
    try:
        with wave.open(io.BytesIO(audio)) as w:
            return int(w.getnframes() * 1000 / w.getframerate())
    except (wave.Error, EOFError):
        return 0
