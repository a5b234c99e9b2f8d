"""The ARI façade a call flow sees: one channel in Stasis, its events, and the few
operations the flows use. It executes; it decides nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from vipcall.ari import AriClient, AriError, AriNotFound
from vipcall.routing.decisions import CallerId, Cause, Handset, Pstn, Ring, Softphone, Target

log = logging.getLogger("vipcall.call")

#: Dialplan context that rings a decision's targets (see dialplan/extensions.conf).
RING_CONTEXT = "vipcall-ring"
#: Dialplan context whose extension is the Q.850 cause to hang up with.
CAUSE_CONTEXT = "vipcall-cause"


_HANGUP_EVENTS = frozenset({"ChannelHangupRequest", "ChannelDestroyed"})


class CallGone(Exception):
    """The caller hung up (or the channel vanished) while the flow was running."""


def dial_string(targets: Iterable[Target]) -> str:
    """The Asterisk Dial() string for the decision's targets."""
    parts = []
    for target in targets:
        match target:
            case Handset(mobile):
                parts.append(f"PJSIP/{mobile}@mobile")
            case Softphone(endpoint):
                parts.append(f"PJSIP/{endpoint}")
            case Pstn(number):
                parts.append(f"PJSIP/{number}@pstn")
    return "&".join(parts)


def ring_spec(ring: Ring, called: str | None) -> str:
    """Pack a Ring decision into the one channel variable ``VIP_RING`` the dialplan reads:
    ``timeout|user id|called number|caller id number|presentation|dial string``.

    The user id and called number come back in the Stasis arguments when nobody answers,
    so the voicemail flow knows whose mailbox it is without keeping per-call memory.
    """
    cid: CallerId | None = ring.caller_id
    number = cid.number if cid and cid.number else ""
    presentation = "prohib" if cid and cid.restricted else ""
    user = "" if ring.user_id is None else str(ring.user_id)
    called = called or ""
    targets = dial_string(ring.targets)
    return f"{ring.timeout or ''}|{user}|{called}|{number}|{presentation}|{targets}"


class Channel:
    """One channel in our Stasis application."""

    __slots__ = (
        "ari", "id", "caller", "exten", "args", "events", "gone", "handed_off", "answered", "log",
    )  # fmt: skip

    def __init__(self, ari: AriClient, channel: dict[str, Any], args: list[str]) -> None:
        self.ari = ari
        self.id: str = channel["id"]
        self.caller: str = channel.get("caller", {}).get("number", "") or ""
        self.exten: str = channel.get("dialplan", {}).get("exten", "") or ""
        self.args = args
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gone = False
        self.handed_off = False
        self.answered = channel.get("state") == "Up"
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
        to answer. The channel comes back to us only if nobody answers."""
        await self._do(self.ari.set_channel_var(self.id, "VIP_RING", ring_spec(ring, called)))
        await self._do(self.ari.continue_in_dialplan(self.id, RING_CONTEXT, "s", 1))
        self.handed_off = True

    async def continue_to(self, context: str, extension: str) -> None:
        await self._do(self.ari.continue_in_dialplan(self.id, context, extension, 1))
        self.handed_off = True

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


async def hang_up(ari: AriClient, channel_id: str, cause: Cause) -> None:
    """Hang up a channel in our Stasis app with an exact Q.850 cause."""
    try:
        await ari.continue_in_dialplan(channel_id, CAUSE_CONTEXT, str(int(cause)), 1)
    except AriNotFound:
        pass  # already gone
    except AriError:
        with contextlib.suppress(AriNotFound):
            await ari.hangup(channel_id, reason="normal")


def _object_id(event: dict[str, Any]) -> str | None:
    for key in ("playback", "recording"):
        obj = event.get(key)
        if obj is not None:
            return str(obj.get("id") or obj.get("name") or "") or None
    return None
