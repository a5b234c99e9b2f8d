"""The call flows: what happens to a channel that enters our Stasis application.

Each flow reads state, asks :mod:`vipcall.routing.rules` for a decision and executes it.
Every path ends in a hand-off to the dialplan, a recorded message or a hangup with a cause.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from vipcall.calls import selfservice
from vipcall.calls.channel import Channel
from vipcall.metrics import DECISION_SECONDS, FAIL_OPEN
from vipcall.numbers import short_number, try_normalize
from vipcall.prompts.media import sound
from vipcall.routing.decisions import (
    ActivityMenu,
    Announce,
    Cause,
    Decision,
    Feature,
    Hangup,
    Ring,
    Voicemail,
)
from vipcall.routing.rules import (
    NewCall,
    Policy,
    after_ringing,
    after_ringing_without_state,
    route_call,
)
from vipcall.routing.state import Trunk, User
from vipcall.voicemail.leave import leave_message

log = logging.getLogger("vipcall.flows")
T = TypeVar("T")

#: Dialplan label the app sends a call to when it cannot decide (DB down): the same
#: fail-open path Asterisk takes when the app itself is down.
FAIL_OPEN_CONTEXT = "vipcall-failopen"


class CallState(Protocol):
    """What the flows read and write; :class:`vipcall.routing.lookup.DbCallState` is the
    PostgreSQL implementation."""

    async def parties(
        self, caller: str | None, softphone: str | None, dialled: str | None
    ) -> tuple[User | None, User | None]:
        """(the calling user, the called user), either ``None`` when no user matches."""
        ...

    async def user(self, user_id: int) -> User | None: ...

    async def set_activity(self, user_id: int, activity: int) -> None: ...

    async def set_role(self, user_id: int, role: int) -> None: ...

    async def set_forwarding(self, user_id: int, target: str | None) -> None:
        """Set (``None``: clear) immediate forwarding; raises
        :class:`vipcall.directory.ForwardRefused` for a refused target."""
        ...

    async def save_message(
        self, user_id: int, caller: str | None, called: str | None, audio: bytes, duration_ms: int
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class Services:
    state: CallState
    policy: Policy
    region: str = "FI"
    db_timeout: float = 0.5
    max_message_seconds: int = 180
    language: str = "fi"
    menu_timeout: float = 6.0


async def new_call(ch: Channel, svc: Services, trunk: Trunk, softphone: str | None) -> str:
    """A call just entered the service: route it and execute the decision."""
    started = time.perf_counter()
    call = NewCall(
        trunk,
        try_normalize(ch.caller, svc.region),
        try_normalize(ch.exten, svc.region),
        ch.exten,
        short_number(ch.exten, svc.region),
    )
    # A softphone is identified by its authenticated endpoint alone: the number it puts in
    # From is its own to choose and must not make it someone else.
    claimed = None if trunk == Trunk.SOFTPHONE else call.caller
    try:
        caller, callee = await _with_timeout(
            svc.state.parties(claimed, softphone, call.dialled), svc.db_timeout
        )
    except Exception as exc:  # noqa: BLE001 - any DB trouble: the call must still ring
        FAIL_OPEN.labels(reason=type(exc).__name__).inc()
        ch.log.warning("state unavailable (%s): failing open to the dialplan", type(exc).__name__)
        await ch.continue_to(FAIL_OPEN_CONTEXT, ch.exten)
        return "fail_open"
    if trunk == Trunk.SOFTPHONE:
        call = replace(call, caller=caller.mobile if caller is not None else None)
    decision = route_call(call, caller, callee, svc.policy)
    DECISION_SECONDS.observe(time.perf_counter() - started)
    ch.log.info("%s -> %s: %s", call.caller, call.dialled or call.raw, decision)
    return await execute(ch, decision, svc, call, caller or callee)


async def unanswered(
    ch: Channel, svc: Services, dial_status: str, user_id: int | None, called: str | None
) -> str:
    """The dialplan rang the targets and nobody answered; the channel is back with us."""
    callee = None
    decision: Decision
    try:
        if user_id is not None:
            callee = await _with_timeout(svc.state.user(user_id), svc.db_timeout)
        decision = after_ringing(callee, dial_status)
    except Exception as exc:  # noqa: BLE001 - the caller can still leave a message
        FAIL_OPEN.labels(reason=type(exc).__name__).inc()
        ch.log.warning("state unavailable (%s) after %s", type(exc).__name__, dial_status)
        decision = after_ringing_without_state(user_id, dial_status)
    ch.log.info("unanswered (%s): %s", dial_status, decision)
    call = NewCall(Trunk.PSTN, try_normalize(ch.caller, svc.region), called)
    return await execute(ch, decision, svc, call, callee)


async def execute(
    ch: Channel, decision: Decision, svc: Services, call: NewCall, party: User | None
) -> str:
    """Carry out the decision; returns the outcome for the metrics. ``party`` is the user
    the call is about (the caller for their own calls, else the callee): their
    organisation's language is spoken."""
    lang = party.org.language if party is not None else svc.language
    match decision:
        case Ring():
            await ch.hand_off(decision, call.dialled)
            return "handed_off"
        case Voicemail(user_id=user_id):
            await leave_message(ch, user_id, call.caller, call.dialled, svc, lang)
            return "voicemail"
        case Feature(request=request) if party is not None:
            return await selfservice.feature(ch, svc, party, request)
        case ActivityMenu() if party is not None:
            return await selfservice.activity_menu_call(ch, svc, party)
        case Announce(prompt=prompt, cause=cause):
            await ch.answer()
            await ch.play([sound(prompt, lang)])
            await ch.hangup(cause)
            return f"announced_{prompt}"
        case Hangup(cause=cause):
            await ch.hangup(cause)
            return "hung_up"
        case _:
            ch.log.error("cannot execute %s", decision)
            await ch.hangup(Cause.FAILURE)
            return "error"


async def _with_timeout(aw: Awaitable[T], timeout: float) -> T:
    return await asyncio.wait_for(aw, timeout)
