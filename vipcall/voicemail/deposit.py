"""A caller leaves a message in a user's mailbox.

The audio is fetched from Asterisk and stored by vipcall (PostgreSQL) as soon as the
recording ends — also when the caller hangs up mid-message — then removed from Asterisk.
A recording that cannot be stored yet stays on Asterisk, named after its mailbox
(:mod:`vipcall.voicemail.naming`), for :func:`recover_messages`.
"""

from __future__ import annotations

import asyncio
import io
import logging
import wave
from collections.abc import Container

from vipcall.calls.channel import CallChannel, CallGone
from vipcall.calls.context import CallContext, MailboxStore
from vipcall.calls.recordings import StoredRecordings
from vipcall.calls.route import Routed
from vipcall.metrics import MESSAGES, UNSAVED
from vipcall.prompts.media import sound
from vipcall.routing.decisions import Cause, Voicemail
from vipcall.voicemail.naming import parse_recording_name, recording_name

#: Recording stops after this much silence (seconds).
MAX_SILENCE = 10
#: Seconds storing a message may take before it is left for the next recovery round.
SAVE_TIMEOUT = 10.0

log = logging.getLogger("vipcall.voicemail")
Log = logging.Logger | logging.LoggerAdapter[logging.Logger]


async def deposit(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    """The flow of a :class:`Voicemail` decision."""
    assert isinstance(routed.decision, Voicemail)
    await leave_message(
        ch,
        ctx,
        routed.decision.user_id,
        routed.call.caller,
        routed.call.dialled,
        routed.language(ctx),
    )
    return "voicemail"


async def leave_message(
    ch: CallChannel,
    ctx: CallContext,
    user_id: int,
    caller: str | None,
    called: str | None,
    lang: str,
) -> None:
    """Greeting, tone, record; the message is kept even if the caller hangs up while speaking."""
    await ch.answer()
    await ch.play([sound("voicemail-greeting-default", lang), sound("beep", lang)])
    name = recording_name(user_id, caller, called, ch.id)
    await ch.record(name, max_seconds=ctx.max_message_seconds, max_silence=MAX_SILENCE)
    try:
        await ch.recording_finished(name, ctx.max_message_seconds + 15)
    except CallGone:
        # The caller hung up while speaking: what was said is still a message.
        await ch.recording_closed(name)
    except TimeoutError:
        ch.log.warning("recording %s did not report its end; stopping it", name)
        await ch.stop_recording(name)
    await keep_message(StoredRecordings(ch.ari), ctx.store, name, ch.log)
    if not ch.gone:
        await ch.play([sound("goodbye", lang)])
        await ch.hangup(Cause.NORMAL)


async def keep_message(
    recordings: StoredRecordings, store: MailboxStore, name: str, log: Log
) -> bool:
    """Store the recording in its mailbox, then remove it from Asterisk. If it cannot be
    stored now, it stays on Asterisk for the next recovery round: never lost.
    Returns True when the recording has been dealt with (stored, or empty)."""
    owner = parse_recording_name(name)
    if owner is None:
        return False
    user_id, caller, called = owner
    audio = await recordings.fetch(name)
    if audio is None:
        log.info("no recording %s: no message left for user %s", name, user_id)
        return True
    duration = _duration_ms(audio)
    if duration > 0:
        try:
            message_id = await asyncio.wait_for(
                store.save_message(user_id, caller, called, audio, duration), SAVE_TIMEOUT
            )
        except Exception as exc:  # noqa: BLE001 - kept on Asterisk, stored on recovery
            UNSAVED.inc()
            log.error("message for user %s not stored yet (%r); kept as %s", user_id, exc, name)
            return False
        MESSAGES.inc()
        log.info("message %s stored for user %s (%d ms)", message_id, user_id, duration)
    else:
        log.info("empty recording: no message left for user %s", user_id)
    if not await recordings.delete(name):
        log.warning("could not delete recording %s from Asterisk", name)
    return True


async def recover_messages(
    recordings: StoredRecordings, store: MailboxStore, busy: Container[str]
) -> int:
    """Store messages whose recordings were left on Asterisk (the app restarted, or the
    database was away when the caller finished). ``busy``: calls still recording."""
    stored = 0
    for name in await recordings.names():
        if parse_recording_name(name) is None or name.rsplit("~", 1)[-1] in busy:
            continue
        if await keep_message(recordings, store, name, log):
            stored += 1
    return stored


def _duration_ms(audio: bytes) -> int:
    try:
        with wave.open(io.BytesIO(audio)) as w:
            return int(w.getnframes() * 1000 / w.getframerate())
    except (wave.Error, EOFError):
        return 0
