"""The dispatch table: which flow runs for each way into the app and for each decision.

A new capability is a folder with its rules and its flow, plus one line here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from vipcall.absence import flow as absence
from vipcall.calls import outcomes, route
from vipcall.calls.channel import CallChannel
from vipcall.calls.context import CallContext
from vipcall.calls.entry import (
    Entry,
    NewCallEntry,
    QueuedEntry,
    TransferEntry,
    UnansweredEntry,
    UnknownEntry,
)
from vipcall.calls.route import Routed
from vipcall.history import recorder as history
from vipcall.routing.decisions import (
    AbsenceNotice,
    ActivityMenu,
    Announce,
    Cause,
    Feature,
    Hangup,
    ListenMailbox,
    Ring,
    ServiceNumberCall,
    Voicemail,
)
from vipcall.selfservice import flow as selfservice
from vipcall.servicenumbers import flow as servicenumbers
from vipcall.transfer import flow as transfer
from vipcall.transfer.rules import TransferRing
from vipcall.voicemail import deposit as voicemail
from vipcall.voicemail import listen, mwi

Flow = Callable[[CallChannel, CallContext, Routed], Awaitable[str]]
Router = Callable[[CallChannel, CallContext, Any], Awaitable[Routed | str]]

#: How each way into the app is decided.
ENTRIES: Mapping[type, Router] = {
    NewCallEntry: route.new_call,
    UnansweredEntry: route.unanswered,
    TransferEntry: transfer.route_transfer,
    QueuedEntry: servicenumbers.resumed,
}

#: Which flow carries out each decision.
DECISIONS: Mapping[type, Flow] = {
    Ring: outcomes.ring,
    Announce: outcomes.announce,
    Hangup: outcomes.hang_up,
    Voicemail: voicemail.deposit,
    Feature: selfservice.feature,
    ActivityMenu: selfservice.activity_menu_call,
    AbsenceNotice: absence.absence_notice,
    ListenMailbox: listen.listen,
    TransferRing: transfer.ring,
    ServiceNumberCall: servicenumbers.service_number_call,
}

#: Decisions after which a message may have been left: the mailbox's waiting indicator is
#: published once the flow is over (:mod:`vipcall.voicemail.mwi`).
LEAVES_MESSAGES = (Voicemail, AbsenceNotice)


async def run(ch: CallChannel, ctx: CallContext, entry: Entry) -> str:
    """Decide the call and carry the decision out; returns the outcome for the metrics."""
    router = ENTRIES.get(type(entry))
    if router is None:
        assert isinstance(entry, UnknownEntry)
        ch.log.error("unexpected Stasis arguments %r", list(entry.args))
        await ch.hangup(Cause.FAILURE)
        return "error"
    routed = await router(ch, ctx, entry)
    if isinstance(routed, str):
        return routed  # failed open before any decision
    flow = DECISIONS.get(type(routed.decision))
    if flow is None:
        ch.log.error("cannot execute %s", routed.decision)
        await ch.hangup(Cause.FAILURE)
        return "error"
    if ctx.records is not None:
        history.after_decision(ctx.records, ch, entry, routed)
    try:
        return await flow(ch, ctx, routed)
    finally:
        if ctx.records is not None:  # a ring is noted here, after the hand-off
            history.after_flow(ctx.records, ch, entry, routed)
        if isinstance(routed.decision, LEAVES_MESSAGES):
            await mwi.refresh(ch.ari, ctx.store, routed.decision.user_id)
