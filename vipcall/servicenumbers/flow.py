"""A call to a service number, carried out over ARI.

The caller is answered, optionally told their place in the queue, and hears music on hold
(MOH on the channel) while the flow offers the call to members by the pure rules
(:mod:`vipcall.servicenumbers.rules`): it originates a channel to each offered member's
phones (``POST /channels`` into this Stasis app, the handset through the mobile core and
the reachable softphones, never the member's forwarding), and the first to answer is put
with the caller in a mixing bridge. Past the maximum wait the caller overflows (a number:
hand-off to the dialplan; a user's voicemail: the deposit flow; an announcement).

Every step's state is in ``service_number_calls`` (:mod:`vipcall.store.servicenumbers`):
a restarted app takes the waiting caller over (:func:`take_over`, called from the
reconcile on connect) and carries on hunting; a call already connected is watched again so
the other leg is hung up when one ends.

Every path ends in a bridge (then both legs hung up when one leaves), a hand-off or a
hangup with a clear cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vipcall.ari import AriClient, AriError
from vipcall.calls import outcomes
from vipcall.calls.channel import CallChannel, CallGone
from vipcall.calls.context import CallContext
from vipcall.calls.dialplan import dial_string
from vipcall.calls.entry import QueuedEntry
from vipcall.calls.route import Routed
from vipcall.history.rules import RecordAnswer
from vipcall.numbers import try_normalize
from vipcall.prompts import count_pieces, sound
from vipcall.routing.decisions import Cause, Ring, ServiceNumberCall, Softphone, Voicemail
from vipcall.routing.rules import inbound_caller_id, ring_user
from vipcall.routing.snapshot import NewCall, Trunk
from vipcall.servicenumbers.rules import (
    overflow_decision,
    ring_seconds,
    seconds_left,
    waited_too_long,
)
from vipcall.store.servicenumbers import MemberLine, QueueCall, ServiceNumberInfo
from vipcall.voicemail import deposit

log = logging.getLogger("vipcall.servicenumbers")

#: Stasis arguments of a member's leg (``svcleg,<queue call id>``).
LEG = "svcleg"
#: Seconds between looks for a free member while nobody is.
POLL_SECONDS = 1.0
#: Seconds a connected call is watched at most (a bound; calls end long before).
CALL_LIMIT = 12 * 3600.0
#: Extra seconds over the ring time Asterisk may take to report an unanswered leg.
RING_GRACE = 3.0


def node_of(ari: AriClient, name: str = "") -> str:
    """Which Asterisk node and ARI app holds a channel (``service_number_calls.node``): the
    node's configured name, else its ARI URL and app (unique on one machine only)."""
    return name or f"{ari.base_url}|{ari.app}"


# -- the flow ---------------------------------------------------------------------------


async def service_number_call(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    """The flow of a :class:`ServiceNumberCall` decision."""
    decision = routed.decision
    assert isinstance(decision, ServiceNumberCall)
    info = await ctx.store.service_number(decision.service_number_id)
    if info is None:  # deleted between routing and now
        await ch.hangup(Cause.UNALLOCATED)
        return "service_number_gone"
    if decision.waiting_call is None:
        await ch.answer()
        node = node_of(ch.ari, ctx.node)
        call = await ctx.store.enqueue(info.id, ch.id, node, routed.call.caller)
        ch.log.info("queued for service number %s (%s) as call %s", info.id, info.name, call.id)
        if info.settings.announce_position:
            position = await ctx.store.queue_position(call)
            await ch.play([sound("queue-position", info.language), *count_pieces(position)])
            ch.log.info("queue call %s was told its place: %d", call.id, position)
    else:
        found = await ctx.store.queue_call(decision.waiting_call)
        if found is None:
            await ch.hangup(Cause.FAILURE)
            return "service_number_lost"
        call = found
        ch.log.info("took over queue call %s (%s)", call.id, call.state)
        if call.state == "connected":
            return await _rewatch(ch, ctx, call)
        await ctx.store.offer_over(call.id)  # the old app's offers are gone with it
    try:
        return await _queue(ch, ctx, routed, info, call)
    except CallGone:
        ch.log.info("caller left the queue of service number %s", info.id)
        return "service_number_caller_left"
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(ctx.store.finish_queue_call(call.id))


async def _queue(
    ch: CallChannel, ctx: CallContext, routed: Routed, info: ServiceNumberInfo, call: QueueCall
) -> str:
    settings = info.settings
    await _moh(ch, True)
    tried: frozenset[int] = frozenset()
    while True:
        now = datetime.now(UTC)
        if waited_too_long(call.entered_at, now, settings):
            return await _overflow(ch, ctx, routed, info)
        offer, lines = await ctx.store.claim_offer(call, settings, tried)
        if offer is None:
            await _pause(ch, min(POLL_SECONDS, seconds_left(call.entered_at, now, settings)))
            continue
        tried = offer.tried
        chosen = [line for uid in offer.user_ids for line in lines if line.member.user_id == uid]
        seconds = ring_seconds(call.entered_at, now, settings)
        ch.log.info("offering queue call %s to %s for %d s", call.id, list(offer.user_ids), seconds)
        outcome = await _offer(ch, ctx, routed, call, chosen, seconds)
        if outcome is not None:
            return outcome
        await ctx.store.offer_over(call.id)


async def _pause(ch: CallChannel, seconds: float) -> None:
    """Wait, or raise :class:`CallGone` when the caller hangs up meanwhile."""
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await ch.wait_for(set(), seconds)


@dataclass(slots=True)
class _Leg:
    member_id: int
    ch: CallChannel


async def _leg_endpoints(ch: CallChannel, line: MemberLine, ctx: CallContext) -> list[str]:
    """The member's handset and registered softphones as dial strings: the phones
    themselves, never the member's forwarding (service-number calls ignore it). A softphone
    without a contact now (``PJSIP_DIAL_CONTACTS`` empty) is not dialled."""
    ring: Ring = ring_user(line.phones, ctx.policy)
    endpoints = []
    for target in ring.targets:
        if isinstance(target, Softphone):
            try:
                contacts = await ch.ari.get_channel_var(
                    ch.id, f"PJSIP_DIAL_CONTACTS({target.endpoint})"
                )
            except AriError:
                contacts = ""
            if not contacts:
                continue
        endpoints.append(dial_string([target]))
    return endpoints


def _leg_variables(endpoint: str) -> dict[str, str] | None:
    """A handset leg is marked as already steered, as ``[vipcall-predial]`` marks the
    dialplan's: the mobile core must deliver it to the phone, not back to the service."""
    if endpoint.endswith("@mobile"):
        return {"PJSIP_HEADER(add,X-Vipcall)": "delivered"}
    return None


async def _offer(
    ch: CallChannel,
    ctx: CallContext,
    routed: Routed,
    call: QueueCall,
    lines: Sequence[MemberLine],
    seconds: int,
) -> str | None:
    """Ring the members' phones; the first to answer is bridged with the caller and the
    call runs until one side hangs up (returns the outcome). ``None``: nobody answered."""
    ari = ch.ari
    shown = inbound_caller_id(routed.call).number or "anonymous"
    legs: list[_Leg] = []
    for line in lines:
        for endpoint in await _leg_endpoints(ch, line, ctx):
            leg = CallChannel(ari, {"id": leg_id(call.id)}, [LEG])
            _adopt(ctx, leg)
            try:
                await ari.originate(
                    endpoint, app_args=[LEG, str(call.id)], caller_id=shown,
                    timeout=seconds, channel_id=leg.id, variables=_leg_variables(endpoint),
                )  # fmt: skip
            except AriError as exc:
                ch.log.warning("cannot ring %s (%s)", endpoint, exc)
                _release(ctx, leg)
                continue
            legs.append(_Leg(line.member.user_id, leg))
    if not legs:
        await _pause(ch, seconds)
        return None
    answered = None
    try:
        answered = await _first_answer(ch, legs, seconds + RING_GRACE)
    finally:
        for other in legs:
            if other is not answered:
                await _end_leg(ctx, other.ch)
    if answered is None:
        return None
    return await _connect(ch, ctx, call, answered)


async def _first_answer(ch: CallChannel, legs: list[_Leg], timeout: float) -> _Leg | None:
    """The leg that answered first; ``None`` when none did in time. Raises
    :class:`CallGone` when the caller hangs up first."""
    waits = {asyncio.create_task(leg.ch.wait_for({"StasisStart"}, timeout)): leg for leg in legs}
    caller = asyncio.create_task(ch.wait_for(set(), timeout))
    pending: set[asyncio.Task[Any]] = {caller, *waits}
    try:
        while waits:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if caller in done:
                exc = caller.exception()
                if isinstance(exc, CallGone):
                    raise exc
                return None  # the ring time is over
            for task in done:
                leg = waits.pop(task)
                if task.exception() is None:
                    return leg
        return None
    finally:
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                await task


async def _connect(ch: CallChannel, ctx: CallContext, call: QueueCall, leg: _Leg) -> str:
    """Bridge the caller with the member who answered; run until one side hangs up."""
    ari = ch.ari
    bridge = await ari.create_bridge("mixing", name=f"vipcall-sn-{call.id}")
    try:
        await _moh(ch, False)
        await ari.add_channel_to_bridge(bridge["id"], [ch.id, leg.ch.id])
        await ctx.store.connected(call.id, leg.member_id, leg.ch.id, bridge["id"])
        ch.log.info("queue call %s connected to member %s", call.id, leg.member_id)
        if ctx.records is not None:  # the call history: the member's call too (no I/O here)
            ctx.records.note(RecordAnswer(ch.id, datetime.now(UTC), leg.member_id))
        return await _watch(ch, ctx, leg.ch, bridge["id"])
    except BaseException:
        await _end_leg(ctx, leg.ch)
        with contextlib.suppress(Exception):
            await ari.destroy_bridge(bridge["id"])
        raise


async def _watch(ch: CallChannel, ctx: CallContext, leg: CallChannel, bridge_id: str) -> str:
    """A connected call: when one side hangs up, hang up the other."""
    caller = asyncio.create_task(ch.wait_for(set(), CALL_LIMIT))
    member = asyncio.create_task(leg.wait_for(set(), CALL_LIMIT))
    done, pending = await asyncio.wait({caller, member}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    outcome = "service_number_connected"
    if caller in done:
        await _end_leg(ctx, leg)
    else:
        with contextlib.suppress(CallGone):
            await ch.hangup(Cause.NORMAL)
        _release(ctx, leg)
    with contextlib.suppress(Exception):
        await ch.ari.destroy_bridge(bridge_id)
    return outcome


async def _rewatch(ch: CallChannel, ctx: CallContext, call: QueueCall) -> str:
    """After a restart: a call already connected to a member is watched again."""
    try:
        if call.member_channel_id is None or call.bridge_id is None:
            await ch.hangup(Cause.FAILURE)
            return "service_number_lost"
        leg = CallChannel(ch.ari, {"id": call.member_channel_id, "state": "Up"}, [LEG])
        _adopt(ctx, leg)
        try:
            await ch.ari.get_channel(leg.id)
        except AriError:
            _release(ctx, leg)
            await ch.hangup(Cause.NORMAL)
            return "service_number_connected"
        return await _watch(ch, ctx, leg, call.bridge_id)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(ctx.store.finish_queue_call(call.id))


async def _overflow(
    ch: CallChannel, ctx: CallContext, routed: Routed, info: ServiceNumberInfo
) -> str:
    """Past the maximum wait: another number, a user's voicemail or an announcement."""
    decision = overflow_decision(info.settings.overflow, info.settings.dial_policy)
    ch.log.info("service number %s: maximum wait reached, overflow %s", info.id, decision)
    await _moh(ch, False)
    if isinstance(decision, Ring):
        ring = Ring(decision.targets, ctx.policy.outbound_timeout or 0, None, None)
        await ch.hand_off(ring, info.number)
        return "service_number_overflow_number"
    if isinstance(decision, Voicemail):
        await deposit.deposit(ch, ctx, Routed(decision, routed.call, None))
        return "service_number_overflow_voicemail"
    await outcomes.announce(ch, ctx, Routed(decision, routed.call, None))
    return "service_number_overflow_announcement"


# -- channel helpers ----------------------------------------------------------------------


async def _moh(ch: CallChannel, on: bool) -> None:
    """Music on hold on the caller's channel (the ``default`` class), on or off."""
    path = f"/channels/{ch.id}/moh"
    try:
        if on:
            await ch.ari.request("POST", path, {"mohClass": "default"})
        else:
            await ch.ari.request("DELETE", path)
    except AriError as exc:
        if not on:
            return  # already off, or the channel is gone
        ch.log.warning("music on hold failed (%s)", exc)


def _adopt(ctx: CallContext, leg: CallChannel) -> None:
    if ctx.legs is not None:
        ctx.legs.adopt(leg)


def _release(ctx: CallContext, leg: CallChannel) -> None:
    if ctx.legs is not None:
        ctx.legs.release(leg)


async def _end_leg(ctx: CallContext, leg: CallChannel) -> None:
    """Hang up a member's leg (ringing or answered) and forget it."""
    try:
        if not leg.gone:
            with contextlib.suppress(AriError):
                await leg.ari.hangup(leg.id, reason="normal")
    finally:
        _release(ctx, leg)


# -- after an app restart -------------------------------------------------------------------


async def resumed(ch: CallChannel, ctx: CallContext, entry: QueuedEntry) -> Routed:
    """A queue call taken over after a restart (:func:`take_over`): carry on with it."""
    call = await ctx.store.queue_call(entry.call_id)
    caller = call.caller if call is not None else try_normalize(ch.caller, ctx.region)
    sn_id = call.service_number_id if call is not None else 0
    new = NewCall(Trunk.PSTN, caller, None)
    return Routed(ServiceNumberCall(sn_id, entry.call_id), new, None)


def leg_id(call_id: int) -> str:
    """A new id for a member's leg of queue call ``call_id`` (``sn<call id>-<random>``)."""
    return f"sn{call_id}-{uuid.uuid4().hex[:12]}"


def stale_legs(call: QueueCall, present: Iterable[str]) -> list[str]:
    """Member legs of ``call`` still on Asterisk that no flow holds any more: the offers the
    previous app made before it died (ringing, or answered since), every leg of the call but
    the member it is connected to."""
    prefix = f"sn{call.id}-"
    return sorted(c for c in present if c.startswith(prefix) and c != call.member_channel_id)


async def take_over(
    ctx: CallContext, ari: AriClient, channels: Iterable[dict[str, Any]]
) -> dict[str, list[str] | None]:
    """Which channels in Stasis belong to queue calls of this node: channel id -> the
    Stasis arguments to start it with (the caller: ``queued,<id>``), or ``None`` for a
    member's leg (its caller's flow adopts it, or it was hung up here). Rows whose caller is
    gone are dropped. Member legs the previous app left ringing (:func:`stale_legs`) are
    hung up: the restarted flow offers the call afresh."""
    present = {c["id"] for c in channels}
    found: dict[str, list[str] | None] = {}
    for call in await ctx.store.queue_calls_on(node_of(ari, ctx.node)):
        for leg in stale_legs(call, present):
            log.info("hanging up member leg %s left by the previous app", leg)
            with contextlib.suppress(AriError):
                await ari.hangup(leg, reason="normal")
            found[leg] = None
        if call.channel_id not in present:
            await ctx.store.finish_queue_call(call.id)
            continue
        found[call.channel_id] = [QueuedEntry.TAG, str(call.id)]
        if call.member_channel_id is not None:
            found[call.member_channel_id] = None
    return found
