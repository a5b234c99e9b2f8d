"""The ARI façade a call flow sees: one channel in Stasis, its events, and the few
operations the flows use. It executes; it decides nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace
from typing import Any

from vipcall.ari import AriClient, AriError, AriNotFound
from vipcall.calls.dialplan import (
    RING_CONTEXT,
    SAY_CONTEXT,
    hang_up,
    ring_extension,
    ring_spec,
    say_extension,
)
from vipcall.routing.decisions import Cause, Ring, Softphone

log = logging.getLogger("vipcall.call")

_HANGUP_EVENTS = frozenset({"ChannelHangupRequest", "ChannelDestroyed"})


class CallGone(Exception):
    """The caller hung up (or the channel vanished) while the flow was running."""


class CallChannel:
    """One channel in our Stasis application, as a call flow sees it."""

    __slots__ = (
        "ari", "id", "caller", "caller_name", "exten", "args", "events", "gone", "handed_off",
        "answered", "log", "created",
    )  # fmt: skip

    def __init__(self, ari: AriClient, channel: dict[str, Any], args: list[str]) -> None:
        self.ari = ari
        self.id: str = channel["id"]
        self.caller: str = channel.get("caller", {}).get("number", "") or ""
        self.caller_name: str = channel.get("caller", {}).get("name", "") or ""
        self.exten: str = channel.get("dialplan", {}).get("exten", "") or ""
        self.args = args
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gone = False
        self.handed_off = False
        self.answered = channel.get("state") == "Up"
        self.created: str = channel.get("creationtime", "") or ""
        """When Asterisk created the channel (ISO 8601, as ARI gives it): the call's start."""
        self.log = logging.LoggerAdapter(log, {"call_id": self.id})

    # -- events -------------------------------------------------------------------------

    def deliver(self, event: dict[str, Any]) -> None:
        if event["type"] in _HANGUP_EVENTS:
            self.gone = True
        self.events.put_nowait(event)

    async def wait_for(
        self, kinds: set[str], timeout: float, match: str | None = None
    ) -> dict[str, Any]:
        """Wait for an event of one of ``kinds`` (optionally about object id ``match``).

        Raises :class:`CallGone` when the caller hangs up first, TimeoutError on timeout.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            event = await asyncio.wait_for(self.events.get(), remaining)
            kind = event["type"]
            if kind in kinds and (match is None or _object_id(event) == match):
                return event
            if kind in _HANGUP_EVENTS or (kind == "StasisEnd" and not self.handed_off):
                raise CallGone

    # -- operations -----------------------------------------------------------------------

    async def answer(self) -> None:
        await self._do(self.ari.answer(self.id))
        self.answered = True

    async def play(self, media: list[str], timeout: float = 60.0) -> None:
        """Play the media in order and wait until it has been heard."""
        playback = await self._do(self.ari.play(self.id, media))
        await self.wait_for({"PlaybackFinished"}, timeout, match=playback["id"])

    async def prompt_digit(self, media: list[str], timeout: float) -> str | None:
        """Play the media and return the first key pressed (during the prompt, which it
        interrupts, or within ``timeout`` seconds after it); ``None`` for no input."""
        playback = await self._do(self.ari.play(self.id, media))
        pb_id = playback["id"]
        deadline = 300.0  # a prompt never plays this long; a bound all the same
        while True:
            event = await self.wait_for({"PlaybackFinished", "ChannelDtmfReceived"}, deadline)
            if event["type"] == "ChannelDtmfReceived":
                try:
                    await self.ari.stop_playback(pb_id)
                except AriError:
                    pass  # finished meanwhile
                return str(event["digit"])
            if _object_id(event) == pb_id:
                break
        try:
            event = await self.wait_for({"ChannelDtmfReceived"}, timeout)
        except TimeoutError:
            return None
        return str(event["digit"])

    async def hand_off(self, ring: Ring, called: str | None) -> None:
        """Give the channel to the dialplan to ring the targets; Asterisk bridges the first
        to answer. The channel comes back to us only if nobody answers. One ARI request
        when the decision fits in the extension (:func:`ring_extension`), else two.

        Softphones are rung only when Asterisk has a registered contact for them right now
        (``PJSIP_DIAL_CONTACTS``, evaluated on this channel): dialling one without a contact
        adds nothing to the call and makes Asterisk log two ERRORs."""
        softphones = [t for t in ring.targets if isinstance(t, Softphone)]
        if softphones:
            registered = [t for t in softphones if await self._has_contact(t.endpoint)]
            if len(registered) != len(softphones):
                kept = tuple(
                    t for t in ring.targets if not isinstance(t, Softphone) or t in registered
                )
                ring = replace(ring, targets=kept)
        spec = ring_spec(ring, called)
        exten = ring_extension(spec)
        if exten is None:  # too long for the extension: the variable, then continue
            await self._do(self.ari.set_channel_var(self.id, "VIP_RING", spec))
            exten = "s"
        await self._do(self.ari.continue_in_dialplan(self.id, RING_CONTEXT, exten, 1))
        self.handed_off = True

    async def _has_contact(self, endpoint: str) -> bool:
        try:
            contacts = await self.ari.get_channel_var(self.id, f"PJSIP_DIAL_CONTACTS({endpoint})")
        except AriNotFound as exc:
            if "variable" in exc.message.lower():
                return False  # no such endpoint: nothing to ring
            self.gone = True
            raise CallGone from exc
        return bool(contacts)

    # -- recording (voicemail) ------------------------------------------------------------

    async def record(
        self, name: str, *, max_seconds: int, max_silence: int, terminate_on: str = "#"
    ) -> None:
        """Start recording the caller as ``name`` (WAV, replacing one of the same name)."""
        await self._do(
            self.ari.record(
                self.id,
                name,
                format="wav",
                max_duration_seconds=max_seconds,
                max_silence_seconds=max_silence,
                if_exists="overwrite",
                terminate_on=terminate_on,
            )
        )

    async def recording_finished(self, name: str, timeout: float) -> None:
        """Wait until the recording ``name`` ends (``#``, silence, its length limit).

        Raises :class:`CallGone` when the caller hangs up first, TimeoutError on timeout."""
        await self.wait_for({"RecordingFinished", "RecordingFailed"}, timeout, match=name)

    async def recording_closed(self, name: str, timeout: float = 3.0) -> None:
        """After a hangup, wait briefly for Asterisk to report that the recording ``name``
        has ended (it closes the file and fills in the WAV header then)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            try:
                event = await asyncio.wait_for(self.events.get(), remaining)
            except TimeoutError:
                return
            if event["type"] in ("RecordingFinished", "RecordingFailed"):
                if event.get("recording", {}).get("name") == name:
                    return

    async def stop_recording(self, name: str) -> None:
        with contextlib.suppress(AriError):
            await self.ari.stop_recording(name)

    # -- leaving our hands ------------------------------------------------------------

    async def continue_to(self, context: str, extension: str) -> None:
        await self._do(self.ari.continue_in_dialplan(self.id, context, extension, 1))
        self.handed_off = True

    async def say_and_hang_up(self, media: list[str]) -> None:
        """Answer, play the media, hang up with cause 16. The prompts play in the dialplan
        (``[vipcall-say]``, which also answers, without waiting for the caller's media) when
        they are catalogue prompts that fit in an extension: one ARI request, no playback
        events to follow. Else over ARI."""
        exten = say_extension(media)
        if exten is None:
            if not self.answered:
                await self.answer()
            await self.play(media)
            await self.hangup(Cause.NORMAL)
            return
        await self.continue_to(SAY_CONTEXT, exten)

    async def hangup(self, cause: Cause = Cause.NORMAL) -> None:
        """End the call with this Q.850 cause (the dialplan's ``[vipcall-cause]`` sets it:
        ARI's own hangup reasons have no 20 or 28)."""
        await hang_up(self.ari, self.id, cause)
        self.gone = True

    async def _do(self, op: Any) -> Any:
        try:
            return await op
        except AriNotFound as exc:
            self.gone = True
            raise CallGone from exc


def _object_id(event: dict[str, Any]) -> str | None:
    for key in ("playback", "recording"):
        obj = event.get(key)
        if obj is not None:
            return str(obj.get("id") or obj.get("name") or "") or None
    return None
