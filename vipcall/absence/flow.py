"""The absence notice as a call: answer, note the stopped call, the notice (twice at most),
then what the caller chose: ring the user (key 2), customer service (key 1, when offered),
or a message / "cannot be reached". Executes :mod:`vipcall.absence.rules`, decides nothing."""

from __future__ import annotations

import asyncio
import logging

from vipcall.absence.rules import (
    ANNOUNCEMENTS,
    CustomerService,
    RingUser,
    after_notice,
    choice,
    customer_service_ring,
    notice_media,
    ring_past_notice,
    shown_caller_id,
)
from vipcall.calls.channel import CallChannel
from vipcall.calls.context import CallContext
from vipcall.calls.route import Routed, reachable_only
from vipcall.prompts.media import sound
from vipcall.routing.decisions import AbsenceNotice, Announce, Cause
from vipcall.routing.snapshot import Subscriber
from vipcall.voicemail import deposit


async def absence_notice(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    """The flow of an :class:`AbsenceNotice` decision; returns the outcome label."""
    notice = routed.decision
    assert isinstance(notice, AbsenceNotice)
    lang = routed.language(ctx)
    await ch.answer()
    await note_stopped_call(ch, ctx, notice.user_id, routed.call.caller)
    media = notice_media(notice, lang)
    picked = None
    for n in range(1, ANNOUNCEMENTS + 1):
        digit = await ch.prompt_digit(media, ctx.menu_timeout)
        picked = choice(notice, digit)
        ch.log.info("absence notice %d/%d for user %s: key %s -> %s",
                    n, ANNOUNCEMENTS, notice.user_id, digit, picked)  # fmt: skip
        if picked is not None:
            break
    caller_id = shown_caller_id(routed.call, routed.party, notice.user_id)
    match picked:
        case RingUser():
            user = await the_user(ctx, routed, notice.user_id)
            if user is None:
                ch.log.error("user %s is gone: cannot ring them past the notice", notice.user_id)
                await ch.play([sound("technical-error", lang)])
                await ch.hangup(Cause.FAILURE)
                return "absence_failed"
            await ch.hand_off(ring_past_notice(user, ctx.policy, caller_id), routed.call.dialled)
            return "absence_ring_user"
        case CustomerService(number=number):
            await ch.play([sound("connecting", lang)])
            await ch.hand_off(customer_service_ring(number, ctx.policy, caller_id), number)
            return "absence_customer_service"
    then = after_notice(notice)
    if isinstance(then, Announce):
        await ch.play([sound(then.prompt, lang)])
        await ch.hangup(then.cause)
        return "absence_cannot_be_reached"
    # The mailbox is the called user's (for a colleague's own call, not the routed party).
    callee = await the_user(ctx, routed, notice.user_id)
    await deposit.deposit(ch, ctx, Routed(then, routed.call, callee))
    return "absence_voicemail"


async def note_stopped_call(
    ch: CallChannel, ctx: CallContext, user_id: int, caller: str | None
) -> None:
    """Remember that this caller was stopped by the notice (repeat callers break through on
    the Nth call). An anonymous caller cannot be counted; a database that does not answer
    in time costs the caller nothing but this count."""
    if caller is None:
        return
    try:
        await asyncio.wait_for(ctx.store.note_stopped_call(user_id, caller), ctx.db_timeout)
    except Exception as exc:  # noqa: BLE001 - the notice goes on without the count
        ch.log.warning("stopped call of %s to user %s not noted: %r", caller, user_id, exc)


async def the_user(ctx: CallContext, routed: Routed, user_id: int) -> Subscriber | None:
    """The called user's snapshot: the routed party when the call is from outside; read
    again for a colleague's own call (then the routed party is the caller)."""
    if routed.party is not None and routed.party.id == user_id:
        user: Subscriber | None = routed.party
    else:
        try:
            user = await asyncio.wait_for(ctx.store.user(user_id), ctx.db_timeout)
        except Exception as exc:  # noqa: BLE001 - the caller hears it did not work
            logging.getLogger("vipcall.absence").warning("user %s not read: %r", user_id, exc)
            return None
    return reachable_only(user, ctx.softphone_reachable) if user is not None else None
