"""ARI events to per-call tasks, and what happens on every (re)connect.

One task per call, supervised: whatever happens inside, the channel ends in a hand-off to
the dialplan or a hangup with a clear cause. The flow each call runs is chosen by the
dispatch table (:mod:`vipcall.service.dispatch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

from vipcall.ari import AriClient, Event
from vipcall.calls.channel import CallChannel, CallGone
from vipcall.calls.context import CallContext
from vipcall.calls.dialplan import FAIL_OPEN_CONTEXT, hang_up
from vipcall.calls.entry import is_new_call, is_ours, parse_entry
from vipcall.calls.recordings import StoredRecordings
from vipcall.metrics import ACTIVE_CALLS, ARI_CONNECTED, CALLS, FAIL_OPEN, RECONCILED
from vipcall.routing.decisions import Cause
from vipcall.service import dispatch
from vipcall.service.direct import TOKEN_VAR as DIRECT_TOKEN_VAR
from vipcall.service.direct import DirectRoutes
from vipcall.service.endpoints import ENDPOINT_EVENTS, SoftphoneStates
from vipcall.service.provisioning import Provisioner
from vipcall.servicenumbers import flow as servicenumbers
from vipcall.voicemail import mwi
from vipcall.voicemail.deposit import recover_messages

log = logging.getLogger("vipcall.app")

_TARGETED = ("playback", "recording")
#: Event types no flow reads: Asterisk is asked not to send them at all (the application's
#: event filter, set on every connect), which saves building and sending the JSON there and
#: reading it here. Everything else (StasisStart/End, hangups, DTMF, playback and recording
#: ends, endpoint and contact states, and any type not listed) still comes.
UNUSED_EVENTS = (
    "ChannelVarset",
    "ChannelDialplan",
    "ChannelStateChange",
    "ChannelCallerId",
    "ChannelConnectedLine",
    "Dial",
    "ChannelEnteredBridge",
    "ChannelLeftBridge",
    "BridgeCreated",
    "BridgeDestroyed",
    "PlaybackStarted",
    "PlaybackContinuing",
    "RecordingStarted",
    "ChannelHold",
    "ChannelUnhold",
    "ChannelTalkingStarted",
    "ChannelTalkingFinished",
)
#: A provisioning round that takes longer than this is abandoned and retried.
PROVISION_TIMEOUT = 20.0
#: A full push (every number and softphone, after a connect) may take longer: 100,000
#: users take about a minute (bench.concurrency); abandoned at 20 s it would start over
#: every round and never finish. It runs in the background, one round at a time.
FULL_PROVISION_TIMEOUT = 600.0


class StasisApp:
    """Dispatches ARI events to per-call tasks."""

    def __init__(self, ari: AriClient, ctx: CallContext, provisioner: Provisioner | None) -> None:
        self.ari = ari
        #: Which softphones have a contact: a call rings only those (calls/route.py).
        self.softphones = SoftphoneStates()
        self.ctx = replace(ctx, softphone_reachable=self.softphones.reachable, legs=self)
        self.provisioner = provisioner
        if provisioner is not None:
            provisioner.states = self.softphones
        self.recordings = StoredRecordings(ari)
        self.calls: dict[str, CallChannel] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._provisioned_full = False
        self._provisioning = asyncio.Lock()
        #: Base URL of the end-of-call report listener (:mod:`vipcall.service.reports`);
        #: empty: the dialplan reports to ``VIP_APP_URL``.
        self.end_url = ""
        #: The file the dialplan appends its end-of-call reports to, as Asterisk sees it
        #: (:class:`~vipcall.service.reports.ReportSpool`); empty: reports come by HTTP.
        self.end_file = ""
        #: (user id, new, old) of every mailbox with messages and a softphone
        #: (:func:`vipcall.store.mailbox_notify.mailbox_states`): republished after every
        #: connect (:meth:`republish_mwi`); ``None``: not republished.
        self.mailbox_states: Callable[[], Awaitable[list[tuple[int, int, int]]]] | None = None
        #: This node's direct routes (:mod:`vipcall.service.direct`), rewritten after every
        #: connect; ``None``: every call comes to the app.
        self.direct: DirectRoutes | None = None

    # -- events (sync, on the loop: must stay cheap) -----------------------------------

    def on_event(self, event: Event) -> None:
        kind = event["type"]
        if kind == "StasisStart":
            channel = event["channel"]
            leg = self.calls.get(channel["id"])
            if leg is not None and leg.args[:1] == [servicenumbers.LEG]:
                leg.deliver(event)  # a member's leg a flow originated: answered
                return
            self.start(channel, event.get("args", []))
            return
        if kind in ENDPOINT_EVENTS:
            self.softphones.on_event(event)
            return
        channel = event.get("channel")
        if channel is not None:
            ch = self.calls.get(channel["id"])
        else:
            ch = None
            for key in _TARGETED:
                obj = event.get(key)
                if obj is not None:
                    target = obj.get("target_uri", "")
                    if target.startswith("channel:"):
                        ch = self.calls.get(target[8:])
                    break
        if ch is not None:
            ch.deliver(event)
            if kind == "StasisEnd" and ch.handed_off:
                # Handed to the dialplan: the same channel may come back (nobody answered)
                # before this call's task has even finished; that is a new call task.
                self._forget(ch)

    def start(self, channel: dict[str, Any], args: list[str]) -> None:
        current = self.calls.get(channel["id"])
        if current is not None and not current.handed_off:
            return  # already ours (seen in a reconcile snapshot and again as an event)
        ch = CallChannel(self.ari, channel, list(args))
        self.calls[ch.id] = ch
        self._spawn(self.run_call(ch))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as a task the app keeps a reference to until it ends."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- one call ----------------------------------------------------------------------

    async def run_call(self, ch: CallChannel) -> None:
        ACTIVE_CALLS.inc()
        outcome = "error"
        try:
            outcome = await dispatch.run(ch, self.ctx, parse_entry(ch.args))
        except CallGone:
            outcome = "caller_hung_up"
        except Exception:
            ch.log.exception("call flow failed")
        finally:
            if not ch.handed_off and not ch.gone:
                await asyncio.shield(self._end_unfinished(ch))
            self._forget(ch)
            ch.log.debug("call task done: %s", outcome)
            ACTIVE_CALLS.dec()
            CALLS.labels(outcome=outcome).inc()

    async def _end_unfinished(self, ch: CallChannel) -> None:
        """A flow ended without handing the call off or hanging it up (a bug, Asterisk or
        the DB away). A new call nobody has answered yet fails open to the user's phone;
        anything else is hung up with cause 38."""
        if is_new_call(ch.args) and not ch.answered:
            try:
                await ch.continue_to(FAIL_OPEN_CONTEXT, ch.exten)
                FAIL_OPEN.labels(reason="flow_error").inc()
                ch.log.warning("call sent to the fail-open dialplan after an error")
                return
            except Exception:  # noqa: BLE001 - then at least end it
                pass
        with contextlib.suppress(Exception):
            await ch.hangup(Cause.FAILURE)
            ch.log.warning("call ended by the app after an error")

    def _forget(self, ch: CallChannel) -> None:
        if self.calls.get(ch.id) is ch:
            del self.calls[ch.id]

    # -- channels a flow originates (vipcall.calls.context.Legs) --------------------------

    def adopt(self, ch: CallChannel) -> None:
        self.calls[ch.id] = ch

    def release(self, ch: CallChannel) -> None:
        self._forget(ch)

    # -- (re)connect -----------------------------------------------------------------------

    async def on_connect(self) -> None:
        """Reconcile after every (re)connect: Asterisk does not re-send StasisStart for
        channels that stayed in Stasis while we were away, so take them over or end them."""
        ARI_CONNECTED.set(1)
        self._provisioned_full = False
        if self.direct is not None:
            self.direct.connect()  # a new token and everything written again
        else:
            # Direct routes off: an earlier app's, still in this Asterisk, must not be taken.
            try:
                await self.ari.set_global_var(DIRECT_TOKEN_VAR, "")
            except Exception as exc:  # noqa: BLE001 - the next connect tries again
                log.warning("switching direct routes off failed (%s)", type(exc).__name__)
        mwi.forget(self.ari)  # Asterisk may have restarted: every mailbox state is published again
        try:
            await self.ari.set_event_filter(disallowed=UNUSED_EVENTS)
        except Exception as exc:  # noqa: BLE001 - then they come and are dropped here
            log.warning("setting the event filter failed (%s)", type(exc).__name__)
        try:
            # Where the dialplan asks about a mid-call transfer ([vipcall-xfer]).
            await self.ari.set_global_var("VIP_APP_URL", self.ctx.media_url)
            if self.end_url:  # the end-of-call reports' own listener (service.reports)
                await self.ari.set_global_var("VIP_END_URL", self.end_url)
            # their spool file; set empty too, so an earlier app's is not written to unread
            await self.ari.set_global_var("VIP_END_FILE", self.end_file)
        except Exception as exc:  # noqa: BLE001 - transfers are refused until the next connect
            log.warning("setting VIP_APP_URL failed (%s)", type(exc).__name__)
        try:
            # Events missed while away: read every softphone's state again.
            await self.softphones.refresh(self.ari)
        except Exception as exc:  # noqa: BLE001 - unknown states ring (the safe side)
            log.warning("reading softphone states failed (%s)", type(exc).__name__)
        prefix = f"{self.ari.app},"
        channels = await self.ari.list_channels()
        queued = await self._queue_calls(channels)
        for channel in channels:
            plan = channel.get("dialplan", {})
            if plan.get("app_name") != "Stasis" or channel["id"] in self.calls:
                continue
            if channel["id"] in queued:
                # A service-number call (waiting, or connected to a member): carry on.
                queue_args = queued[channel["id"]]
                if queue_args is not None:
                    RECONCILED.labels(action="queue_taken_over").inc()
                    log.info("taking over queue call on channel %s", channel["id"])
                    self.start(dict(channel), queue_args)
                continue
            data = plan.get("app_data", "")
            if data != self.ari.app and not data.startswith(prefix):
                continue
            args = data.split(",")[1:]
            if is_ours(args) and channel.get("state") != "Up":
                RECONCILED.labels(action="taken_over").inc()
                log.info("taking over unanswered channel %s (%s)", channel["id"], data)
                self.start(dict(channel), args)
            else:
                RECONCILED.labels(action="hung_up").inc()
                log.warning("ending orphaned channel %s (%s)", channel["id"], data)
                await hang_up(self.ari, channel["id"], Cause.FAILURE)
        # In the background: calls must route (or fail open) while the DB is slow.
        self._spawn(self._catch_up())

    async def _catch_up(self) -> None:
        """After a connect: push numbers and softphones, then the mailbox states (the
        softphone endpoints carry the mailboxes)."""
        if self.provisioner is not None:
            await self.provision(full=True)
        await self.republish_mwi()

    async def republish_mwi(self) -> None:
        """Publish the state of every mailbox with messages and a softphone, unless already
        published since the last connect (:mod:`vipcall.voicemail.mwi`); users published
        before and not among them (their mailbox emptied meanwhile) are refreshed."""
        if self.mailbox_states is None:
            return
        try:
            states = await asyncio.wait_for(self.mailbox_states(), PROVISION_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - the next connect or change publishes
            log.warning("reading mailbox states failed (%s)", type(exc).__name__)
            return
        await mwi.republish(self.ari, states)
        listed = {user_id for user_id, _, _ in states}
        for user_id, state in list(mwi.published(self.ari).items()):
            if user_id not in listed and state != (0, 0):
                await mwi.refresh(self.ari, self.ctx.store, user_id)

    async def _queue_calls(self, channels: list[Any]) -> dict[str, list[str] | None]:
        """Service-number calls of this node kept in PostgreSQL (their channels stay)."""
        try:
            return await asyncio.wait_for(
                servicenumbers.take_over(self.ctx, self.ari, channels), PROVISION_TIMEOUT
            )
        except Exception as exc:  # noqa: BLE001 - then they are ended like other orphans
            log.warning("reading the service-number queue failed (%s)", type(exc).__name__)
            return {}

    async def provision(self, full: bool = False) -> None:
        """Catch up with Asterisk: push numbers and softphones, store messages left behind.
        One round at a time: a round asked for while another runs is skipped."""
        if self._provisioning.locked():
            return
        async with self._provisioning:
            await self._provision(full)

    async def _provision(self, full: bool) -> None:
        await self._push(full)
        try:
            recovered = await asyncio.wait_for(
                recover_messages(self.recordings, self.ctx.store, self.calls.keys()),
                PROVISION_TIMEOUT,
            )
            if recovered:
                log.info("stored %d voicemail messages left on Asterisk", recovered)
        except Exception as exc:  # noqa: BLE001 - next round
            log.warning("recovering voicemail messages failed (%s); retrying", type(exc).__name__)

    async def _push(self, full: bool) -> None:
        """Push numbers and softphones (a diff, or everything when ``full``)."""
        assert self.provisioner is not None
        timeout = FULL_PROVISION_TIMEOUT if full else PROVISION_TIMEOUT
        try:
            await asyncio.wait_for(self.provisioner.sync(full=full), timeout)
            self._provisioned_full = self._provisioned_full or full
        except Exception as exc:  # noqa: BLE001 - DB or Asterisk away: next round
            log.warning("provisioning Asterisk failed (%s); retrying", type(exc).__name__ or exc)

    async def provision_changes(self) -> None:
        """Push now (the database said a softphone or a number changed); unlike
        :meth:`provision` it waits for a round in progress, which may have read the
        database before the change, and leaves the voicemail recovery to the periodic
        rounds (nothing a softphone change does leaves recordings behind)."""
        if self.provisioner is None:
            return
        async with self._provisioning:
            await self._push(not self._provisioned_full)

    async def keep_in_sync(self, interval: float) -> None:
        """Push changes made by the CLI or the web into Asterisk; repeats a full push that
        failed at connect time."""
        while True:
            await asyncio.sleep(interval)
            if self.provisioner is not None:
                await self.provision(full=not self._provisioned_full)
