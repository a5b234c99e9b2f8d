"""The first step of every call: read the state, ask the pure rules for a decision.

What the decision then does is up to the flow the dispatch table names for it
(:mod:`vipcall.service.dispatch`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from vipcall.calls.channel import CallChannel
from vipcall.calls.context import CallContext
from vipcall.calls.dialplan import FAIL_OPEN_CONTEXT
from vipcall.calls.entry import NewCallEntry, UnansweredEntry
from vipcall.metrics import DECISION_SECONDS, FAIL_OPEN
from vipcall.numbers import short_number, try_normalize
from vipcall.routing.decisions import Decision, Voicemail
from vipcall.routing.diversion import diverting_number
from vipcall.routing.rules import (
    after_ringing,
    after_ringing_without_state,
    inbound_caller_id,
    route_call,
    voicemail_number_lookup,
)
from vipcall.routing.snapshot import NewCall, Subscriber, Trunk


@dataclass(frozen=True, slots=True)
class Routed:
    """A decision with what its flow needs to carry it out."""

    decision: Decision
    call: NewCall
    party: Subscriber | None
    """The user the call is about (the caller for their own calls, else the callee): their
    organisation's language is spoken."""

    def language(self, ctx: CallContext) -> str:
        return self.party.org.language if self.party is not None else ctx.language


def reachable_only(user: Subscriber, reachable: Callable[[str], bool] | None) -> Subscriber:
    """The user with only the softphones that can be rung now (a registered contact):
    dialling one without a contact adds nothing to the call and makes Asterisk log
    errors. The rules then ring what is left (:func:`vipcall.routing.rules.ring_user`)."""
    if reachable is None or not user.softphones:
        return user
    online = tuple(e for e in user.softphones if reachable(e))
    return user if online == user.softphones else replace(user, softphones=online)


FailedOpen = str
"""The outcome label of a call sent to the fail-open dialplan before any decision."""


async def new_call(ch: CallChannel, ctx: CallContext, entry: NewCallEntry) -> Routed | FailedOpen:
    """A call just entered the service: its decision, or the call failed open (DB away)."""
    started = time.perf_counter()
    call = NewCall(
        entry.trunk,
        try_normalize(ch.caller, ctx.region),
        try_normalize(ch.exten, ctx.region),
        ch.exten,
        short_number(ch.exten, ctx.region),
        ch.caller,
        diverting_number(
            entry.diversion, entry.history_info, target=ctx.policy.voicemail_number,
            region=ctx.region,
        ),
        ch.caller_name,
    )  # fmt: skip
    # A softphone is identified by its authenticated endpoint alone: the number it puts in
    # From is its own to choose and must not make it someone else.
    claimed = None if entry.trunk == Trunk.SOFTPHONE else call.caller
    try:
        caller, callee = await asyncio.wait_for(
            ctx.store.parties(claimed, entry.softphone, voicemail_number_lookup(call, ctx.policy)),
            ctx.db_timeout,
        )
    except Exception as exc:  # noqa: BLE001 - any DB trouble: the call must still ring
        FAIL_OPEN.labels(reason=type(exc).__name__).inc()
        ch.log.warning("state unavailable (%s): failing open to the dialplan", type(exc).__name__)
        await ch.continue_to(FAIL_OPEN_CONTEXT, ch.exten)
        return "fail_open"
    if entry.trunk == Trunk.SOFTPHONE:
        call = replace(call, caller=caller.mobile if caller is not None else None)
    service_number = None
    if callee is None and call.dialled is not None:
        # No user has the number: is it a service number's? (one small extra lookup)
        try:
            service_number = await asyncio.wait_for(
                ctx.store.service_number_at(call.dialled), ctx.db_timeout
            )
        except Exception as exc:  # noqa: BLE001 - routed as a number no one has
            ch.log.warning("service number lookup failed (%s)", type(exc).__name__)
    decision = route_call(call, caller, callee, ctx.policy, service_number)
    if isinstance(decision, Voicemail) and call.diverted_from is not None:
        # A diverted call's message was meant for the number it was diverted from.
        call = replace(call, dialled=call.diverted_from)
    DECISION_SECONDS.observe(time.perf_counter() - started)
    # The caller as the rung party sees them: a caller ID that is not a number is
    # "anonymous" here as on the handset.
    shown = inbound_caller_id(call).number
    ch.log.info("%s -> %s: %s", shown, call.dialled or call.raw, decision)
    return Routed(decision, call, caller or callee)


async def unanswered(ch: CallChannel, ctx: CallContext, entry: UnansweredEntry) -> Routed:
    """Nobody answered the ringing: what now (voicemail, or the reason as a cause)."""
    callee = None
    decision: Decision
    try:
        if entry.user_id is not None:
            callee = await asyncio.wait_for(ctx.store.user(entry.user_id), ctx.db_timeout)
        decision = after_ringing(callee, entry.dial_status)
    except Exception as exc:  # noqa: BLE001 - the caller can still leave a message
        FAIL_OPEN.labels(reason=type(exc).__name__).inc()
        ch.log.warning("state unavailable (%s) after %s", type(exc).__name__, entry.dial_status)
        decision = after_ringing_without_state(entry.user_id, entry.dial_status)
    ch.log.info("unanswered (%s): %s", entry.dial_status, decision)
    call = NewCall(Trunk.PSTN, try_normalize(ch.caller, ctx.region), entry.called)
    return Routed(decision, call, callee)
