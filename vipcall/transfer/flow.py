"""Mid-call blind transfer, the app's two parts (the keys themselves never reach the app):

- :func:`check`: the dialplan's question after ``*#*`` + keys (HTTP ``GET /transfer``,
  :mod:`vipcall.service.http`): may this user send the other party to that number?
- :func:`route_transfer` and :func:`ring`: the other party arrives in Stasis
  (``transfer,<target>,<user id>``) and is decided as a new call from the user to the target.
"""

from __future__ import annotations

import asyncio
import logging

from vipcall.calls.channel import CallChannel
from vipcall.calls.context import CallContext
from vipcall.calls.dialplan import dial_string
from vipcall.calls.entry import TransferEntry
from vipcall.calls.route import Routed
from vipcall.routing.decisions import Cause, Decision, Hangup
from vipcall.routing.snapshot import NewCall, Subscriber, Trunk
from vipcall.transfer import rules

log = logging.getLogger("vipcall.transfer")


async def _user(ctx: CallContext, who: rules.Who) -> Subscriber | None:
    if who.user_id is not None:
        return await ctx.store.user(who.user_id)
    caller, _ = await ctx.store.parties(who.number, who.endpoint, None)
    return caller


async def check(ctx: CallContext, who_text: str, keys: str) -> str:
    """The reply for ``[vipcall-xfer]`` (:func:`vipcall.transfer.rules.answer`)."""
    who = rules.parse_who(who_text)
    user = None
    try:
        if who is not None:
            user = await asyncio.wait_for(_user(ctx, who), ctx.db_timeout * 4)
    except Exception as exc:  # noqa: BLE001 - refused: the user is back in the call
        log.warning("transfer check: state unavailable (%s)", type(exc).__name__)
    verdict = rules.check(user, keys, ctx.region)
    language = user.org.language if user is not None else ctx.language
    user_id = user.id if user is not None else None
    if isinstance(verdict, rules.Accepted):
        log.info("transfer by user %s to %s", user_id, verdict.target)
    else:
        log.info("transfer by %s (keys %r) refused: %s", who_text, keys, verdict.reason)
    return rules.answer(verdict, user_id, language)


async def route_transfer(ch: CallChannel, ctx: CallContext, entry: TransferEntry) -> Routed:
    """The transferred party: a new call from the transferring user to the target."""
    call = NewCall(Trunk.MOBILE, None, entry.target)
    decision: Decision | rules.TransferRing
    try:
        user, callee = await asyncio.wait_for(
            asyncio.gather(
                ctx.store.user(entry.user_id), ctx.store.parties(None, None, entry.target)
            ),
            ctx.db_timeout * 4,
        )
    except Exception as exc:  # noqa: BLE001 - the number was checked a moment ago
        ch.log.warning("transfer: state unavailable (%s)", type(exc).__name__)
        return Routed(Hangup(Cause.FAILURE), call, None)
    target_user = callee[1]
    if user is None:
        return Routed(Hangup(Cause.FAILURE), call, None)
    call = NewCall(Trunk.MOBILE, user.mobile, entry.target)
    decision = rules.transfer_decision(user, entry.target, target_user, ctx.policy)
    ch.log.info("transfer from user %s to %s: %s", user.id, entry.target, decision)
    return Routed(decision, call, user)  # type: ignore[arg-type]


async def ring(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    """Ring an outside transfer target; nobody answering rings the user again
    (``VIP_BACK`` for ``[vipcall-xfer-back]``)."""
    decision = routed.decision
    assert isinstance(decision, rules.TransferRing)
    back = f"{routed.language(ctx)}|{dial_string(decision.back.targets)}"
    await ch.ari.set_channel_var(ch.id, "VIP_BACK", back)
    await ch.hand_off(decision.ring, routed.call.dialled)
    return "transferred"
