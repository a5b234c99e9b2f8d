"""A caller leaves a message in a user's mailbox.

The audio is fetched from Asterisk and stored by vipcall (PostgreSQL) as soon as the
recording ends — also when the caller hangs up mid-message — then removed from Asterisk.
"""

from __future__ import annotations

import asyncio
import io
import wave
from typing import TYPE_CHECKING

from vipcall.ari import AriError, AriNotFound
from vipcall.calls.channel import CallGone, Channel
from vipcall.metrics import MESSAGES
from vipcall.prompts.media import sound
from vipcall.routing.decisions import Cause

if TYPE_CHECKING:
    from vipcall.calls.flows import Services

#: Recording stops after this much silence (seconds).
MAX_SILENCE = 10


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
    name = f"vm-{ch.id}"
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
        pass  # the caller hung up while speaking: what was said is still a message
    audio = await _fetch(ch, name)
    if audio is not None and _duration_ms(audio) > 0:
        duration = _duration_ms(audio)
        message_id = await svc.state.save_message(user_id, caller, called, audio, duration)
        MESSAGES.inc()
        ch.log.info("message %s stored for user %s (%d ms)", message_id, user_id, duration)
    else:
        ch.log.info("no message left for user %s", user_id)
    if not ch.gone:
        await ch.play([sound("goodbye", lang)])
        await ch.hangup(Cause.NORMAL)


async def _fetch(ch: Channel, name: str) -> bytes | None:
    """The stored recording's bytes; Asterisk may need a moment to close the file after a
    hangup, so a missing file is retried briefly."""
    for _ in range(20):
        try:
            audio = await ch.ari.get_stored_recording_file(name)
        except AriNotFound:
            await asyncio.sleep(0.1)
            continue
        try:
            await ch.ari.delete_stored_recording(name)
        except AriError:
            ch.log.warning("could not delete recording %s from Asterisk", name)
        return audio
    return None


def _duration_ms(audio: bytes) -> int:
    try:
        with wave.open(io.BytesIO(audio)) as w:
            return int(w.getnframes() * 1000 / w.getframerate())
    except (wave.Error, EOFError):
        return 0
