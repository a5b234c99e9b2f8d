"""The listening number (+358 40 1621485): the flow of a :class:`ListenMailbox` decision.

The caller ID picked the mailbox (:func:`vipcall.routing.rules.route_voicemail_number`), or
the caller enters a mailbox number and its PIN (three wrong tries hang up; each is logged
in ``mailbox_login_failures`` and counted). Then the menus of :mod:`vipcall.voicemail.menu`
(keys as Asterisk's VoiceMailMain), carried out here: every prompt can be interrupted by a
key, a message is introduced with its number, caller and time and played from the database
(:func:`vipcall.calls.media.media_uri`), heard / saved / deleted marks are stored at once
and the message waiting indicator follows (:mod:`vipcall.voicemail.mwi`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import wave
from datetime import date, datetime

from vipcall.calls.channel import CallChannel, CallGone
from vipcall.calls.context import CallContext
from vipcall.calls.media import MediaKind, media_uri
from vipcall.calls.recordings import StoredRecordings
from vipcall.calls.route import Routed
from vipcall.directory.errors import DirectoryError
from vipcall.metrics import MAILBOX_LOGIN_FAILURES
from vipcall.numbers import try_normalize
from vipcall.prompts.media import (
    count_pieces,
    date_pieces,
    message_number,
    new_messages,
    number_pieces,
    sound,
    time_pieces,
)
from vipcall.routing.decisions import Cause, ListenMailbox
from vipcall.voicemail import menu, mwi

#: Wrong mailbox number / PIN entries before the call is hung up.
MAX_LOGIN_ATTEMPTS = 3
#: Menus in a row with no key before the call ends.
MAX_SILENT_MENUS = 2
#: A greeting or name recorded by phone stops after this much silence (seconds).
RECORD_SILENCE = 5
RECORD_SECONDS = {"greeting": 120, "name": 10}
#: Shorter recordings are "nothing recorded".
MIN_RECORDING_MS = 500


# --- what is said (pure) ---------------------------------------------------------------------


def counts_media(new: int, saved: int, lang: str) -> list[str]:
    """ "You have N new messages [and M saved messages]"."""
    out = new_messages(new, lang)
    if saved:
        noun = "listen-saved-message" if saved == 1 else "listen-saved-messages"
        out += [sound("listen-and", lang), *count_pieces(saved, lang), sound(noun, lang)]
    return out


def menu_media(which: menu.Menu, lang: str) -> list[str]:
    prompt = {
        menu.Menu.MAIN: "listen-main-menu",
        menu.Menu.MESSAGE: "listen-message-menu",
        menu.Menu.OPTIONS: "listen-options-menu",
    }[which]
    return [sound(prompt, lang)]


def intro_media(
    position: int, caller: str | None, when: datetime, today: date, lang: str
) -> list[str]:
    """ "Message <n>, from <number> [<date>] <time>" (the date only when not today)."""
    out = message_number(position, lang)
    pieces: list[str] | None = None
    if caller:
        with contextlib.suppress(ValueError):
            pieces = number_pieces(caller, lang)
    if pieces:
        out += [sound("listen-from", lang), *pieces]
    else:
        out.append(sound("listen-unknown-caller", lang))
    if when.date() != today:
        out += date_pieces(when.date(), lang)
    return out + time_pieces(when, lang)


# --- keys --------------------------------------------------------------------------------------


async def ask(ch: CallChannel, media: list[str], timeout: float) -> str | None:
    """Play ``media`` (a key interrupts it) and return the key, ``None`` for none."""
    if not media:
        try:
            event = await ch.wait_for({"ChannelDtmfReceived"}, timeout)
        except TimeoutError:
            return None
        return str(event["digit"])
    return await ch.prompt_digit(media, timeout)


async def collect(ch: CallChannel, media: list[str], timeout: float, limit: int = 20) -> str:
    """Digits up to ``#`` (or a pause of ``timeout`` seconds); the first may interrupt the
    prompt. ``""`` when nothing was entered."""
    first = await ask(ch, media, timeout)
    if first is None or first == "#":
        return ""
    digits = first
    while len(digits) < limit:
        try:
            event = await ch.wait_for({"ChannelDtmfReceived"}, timeout)
        except TimeoutError:
            break
        key = str(event["digit"])
        if key == "#":
            break
        digits += key
    return digits


def drain_keys(ch: CallChannel) -> None:
    """Forget keys already pressed (the ``#`` that ended a recording)."""
    kept = []
    while not ch.events.empty():
        event = ch.events.get_nowait()
        if event["type"] != "ChannelDtmfReceived":
            kept.append(event)
    for event in kept:
        ch.events.put_nowait(event)


# --- the flow ----------------------------------------------------------------------------------


async def listen(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    """The flow of a :class:`ListenMailbox` decision."""
    assert isinstance(routed.decision, ListenMailbox)
    lang = routed.language(ctx)
    await ch.answer()
    user_id = routed.decision.user_id
    if user_id is None:
        user_id = await log_in(ch, ctx, routed.call.caller, lang)
        if user_id is None:
            await ch.play([sound("goodbye", lang)])
            await ch.hangup(Cause.NORMAL)
            return "mailbox_locked"
    ch.log.info("listening to mailbox of user %s", user_id)
    return await Session(ch, ctx, user_id, lang).run()


async def log_in(ch: CallChannel, ctx: CallContext, caller: str | None, lang: str) -> int | None:
    """Mailbox number + ``#``, PIN + ``#``; the user, or ``None`` after three wrong tries."""
    store = ctx.store
    for attempt in range(1, MAX_LOGIN_ATTEMPTS + 1):
        entered = await collect(ch, [sound("listen-enter-mailbox", lang)], ctx.menu_timeout)
        pin = await collect(ch, [sound("listen-enter-pin", lang)], ctx.menu_timeout)
        number = try_normalize(entered, ctx.region) if entered else None
        user_id = await store.mailbox_owner(number) if number else None
        if user_id is not None and pin and await store.check_pin(user_id, pin):
            return user_id
        MAILBOX_LOGIN_FAILURES.inc()
        await store.log_login_failure(user_id, caller)
        ch.log.warning(
            "wrong mailbox number or PIN (%d/%d) from %s for mailbox %s",
            attempt, MAX_LOGIN_ATTEMPTS, caller or "anonymous", number or entered or "-",
        )  # fmt: skip
        if attempt < MAX_LOGIN_ATTEMPTS:
            await ch.play([sound("listen-wrong-pin", lang)])
    await ch.play([sound("listen-wrong-pin", lang)])
    return None


class Session:
    """One listener in one mailbox: the menu state and what carrying it out needs."""

    def __init__(self, ch: CallChannel, ctx: CallContext, user_id: int, lang: str) -> None:
        self.ch = ch
        self.ctx = ctx
        self.store = ctx.store
        self.user_id = user_id
        self.lang = lang
        self.today = date.today()

    async def run(self) -> str:
        messages, _zone = await self.store.mailbox_messages(self.user_id)
        if messages:
            self.today = datetime.now(messages[0].created_at.tzinfo).date()
        new = tuple(m for m in messages if not m.saved)
        saved = tuple(m for m in messages if m.saved)
        state, actions = menu.start(new, saved)
        silent = 0
        try:
            while True:
                media, done = await self.carry_out(state, actions)
                if done:
                    await self.ch.play([sound("goodbye", self.lang)])
                    await self.ch.hangup(Cause.NORMAL)
                    return "mailbox_listened"
                key = await ask(self.ch, media, self.ctx.menu_timeout)
                if key is None and state.menu is not menu.Menu.MESSAGE:
                    silent += 1
                    if silent >= MAX_SILENT_MENUS:
                        await self.ch.play([sound("no-input-goodbye", self.lang)])
                        await self.ch.hangup(Cause.NORMAL)
                        return "mailbox_no_input"
                else:
                    silent = 0
                if key is None and state.menu is not menu.Menu.MESSAGE:
                    actions = [menu.SayMenu()]
                    continue
                state, actions = menu.press(state, key or "")
        except CallGone:
            return "mailbox_listened"

    async def carry_out(
        self, state: menu.State, actions: list[menu.Action]
    ) -> tuple[list[str], bool]:
        """Do the actions; returns (media to play before waiting for a key, goodbye?)."""
        lang = self.lang
        media: list[str] = []
        for action in actions:
            match action:
                case menu.SayCounts():
                    media += counts_media(len(state.new), len(state.saved), lang)
                case menu.SayMenu():
                    media += menu_media(state.menu, lang)
                case menu.SayNoMessages():
                    media.append(sound("listen-no-messages", lang))
                case menu.SayEnd():
                    media.append(sound("voicemail-end-of-messages", lang))
                case menu.SayInvalid():
                    media.append(sound("invalid-choice", lang))
                case menu.PlayMessage(message=m, position=n):
                    if not m.heard:
                        await self.store.mark_heard(self.user_id, m.id)
                        await self.mailbox_changed()
                    media += intro_media(n, m.caller, m.created_at, self.today, lang)
                    media.append(media_uri(self.ctx.media_url, MediaKind.MESSAGE, m.id, m.id))
                case menu.DeleteMessage(message_id=mid):
                    await self.store.mark_deleted(self.user_id, mid)
                    await self.mailbox_changed()
                    media.append(sound("voicemail-message-deleted", lang))
                case menu.SaveMessage(message_id=mid):
                    await self.store.mark_saved(self.user_id, mid)
                    await self.mailbox_changed()
                    media.append(sound("listen-message-saved", lang))
                case menu.RecordGreeting():
                    await self.record("greeting")
                case menu.RecordName():
                    await self.record("name")
                case menu.DeleteGreeting():
                    await self.store.delete_recording(self.user_id, "greeting")
                    media.append(sound("listen-greeting-deleted", lang))
                case menu.ChangePin():
                    media += await self.change_pin()
                case menu.Goodbye():
                    return media, True
        return media, False

    async def mailbox_changed(self) -> None:
        await mwi.refresh(self.ch.ari, self.store, self.user_id)

    async def record(self, kind: str) -> None:
        """Record the greeting or name after the tone, ``#`` ends; store it (the same checks
        as the CLI's), or say nothing was recorded."""
        lang = self.lang
        intro = "voicemail-record-greeting" if kind == "greeting" else "listen-record-name"
        await self.ch.play([sound(intro, lang), sound("beep", lang)])
        drain_keys(self.ch)
        name = f"vmrec~{self.user_id}~{kind}~{self.ch.id}"
        limit = RECORD_SECONDS[kind]
        await self.ch.record(name, max_seconds=limit, max_silence=RECORD_SILENCE)
        recordings = StoredRecordings(self.ch.ari)
        try:
            await self.ch.recording_finished(name, limit + 15)
        except TimeoutError:
            await self.ch.stop_recording(name)
        except CallGone:
            await self.ch.recording_closed(name)
            await recordings.delete(name)
            raise
        await asyncio.sleep(0.2)  # the # that ended it arrives beside RecordingFinished
        drain_keys(self.ch)
        audio = await recordings.fetch(name)
        await recordings.delete(name)
        if audio is None or _duration_ms(audio) < MIN_RECORDING_MS:
            await self.ch.play([sound("listen-nothing-recorded", lang)])
            return
        try:
            await self.store.store_recording(
                self.user_id, "greeting" if kind == "greeting" else "name", audio
            )
        except DirectoryError as exc:
            self.ch.log.warning("%s of user %s not stored: %s", kind, self.user_id, exc)
            await self.ch.play([sound("listen-nothing-recorded", lang)])
            return
        self.ch.log.info("%s recorded for user %s (%d ms)", kind, self.user_id, _duration_ms(audio))
        saved = "voicemail-greeting-saved" if kind == "greeting" else "listen-name-saved"
        await self.ch.play([sound(saved, lang)])

    async def change_pin(self) -> list[str]:
        """New PIN + ``#``: 4-8 digits are stored, anything else changes nothing."""
        pin = await collect(self.ch, [sound("listen-new-pin", self.lang)], self.ctx.menu_timeout)
        try:
            await self.store.change_pin(self.user_id, pin)
        except DirectoryError:
            return [sound("listen-pin-invalid", self.lang)]
        self.ch.log.info("PIN changed for user %s", self.user_id)
        return [sound("listen-pin-changed", self.lang)]


def _duration_ms(audio: bytes) -> int:
    try:
        with wave.open(io.BytesIO(audio)) as w:
            return int(w.getnframes() * 1000 / w.getframerate())
    except (wave.Error, EOFError):
        return 0
