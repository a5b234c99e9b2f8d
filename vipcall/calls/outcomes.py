"""The flows of the simple decisions: ring (hand the call to the dialplan), announce,
hang up. Each only executes its decision."""

from __future__ import annotations

from vipcall.calls.channel import CallChannel
from vipcall.calls.context import CallContext
from vipcall.calls.route import Routed
from vipcall.prompts.media import sound
from vipcall.routing.decisions import Announce, Hangup, Ring


async def ring(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    assert isinstance(routed.decision, Ring)
    await ch.hand_off(routed.decision, routed.call.dialled)
    return "handed_off"


async def announce(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    assert isinstance(routed.decision, Announce)
    await ch.answer()
    await ch.play([sound(routed.decision.prompt, routed.language(ctx))])
    await ch.hangup(routed.decision.cause)
    return f"announced_{routed.decision.prompt}"


async def hang_up(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    assert isinstance(routed.decision, Hangup)
    await ch.hangup(routed.decision.cause)
    return "hung_up"
