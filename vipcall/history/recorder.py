"""Keeps the call history off the ring path: the call flows note what happened
(:meth:`Recorder.note`, a list append, no I/O, never awaited) and one background task
writes the notes in batches (:func:`vipcall.store.records.write_records`).

* When: :func:`after_decision` runs before a kept call's flow (voicemail, notice, queue,
  announcement) and, for a call handed to the dialplan to ring, only once the hand-off is
  done — the phones are already ringing when the note is made. :func:`after_flow` ends a
  kept call; a handed-off call's end is reported by the dialplan (``[vipcall-ended]``,
  :func:`end_reported`). A service-number call taken by a member is noted answered by
  them (:class:`~vipcall.history.rules.RecordAnswer`, by the queue flow once the caller and
  the member are bridged), which makes it the member's incoming call too.
* Lost notes: the app killed before a batch is written (at most :data:`FLUSH_SECONDS` of
  notes), or the database away longer than :data:`MAX_PENDING` notes last. The call itself
  never waits for, or fails because of, its record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from vipcall.calls.channel import CallChannel
from vipcall.calls.context import CallRecords
from vipcall.calls.entry import Entry, NewCallEntry, QueuedEntry, UnansweredEntry
from vipcall.calls.route import Routed
from vipcall.history import rules
from vipcall.history.rules import (
    RecordEnd,
    RecordStart,
    end_from_report,
    route_after_ringing,
    route_of,
)
from vipcall.metrics import DIRECT_CALLS
from vipcall.routing.decisions import Ring, ServiceNumberCall

log = logging.getLogger("vipcall.history")

Note = rules.Note
Writer = Callable[[Sequence[Note]], Awaitable[None]]

#: Seconds the writer gathers notes before writing them (one transaction per batch).
FLUSH_SECONDS = 0.25
#: Notes per transaction at most.
MAX_BATCH = 500
#: Notes kept while the database is away; older ones are dropped beyond this (logged).
MAX_PENDING = 20_000


class Recorder:
    """The notes of calls in progress, written in the background by :meth:`run`."""

    def __init__(
        self,
        write: Writer,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self._write = write
        self._pending: deque[Note] = deque()
        self._wake = asyncio.Event()
        self._flush_seconds = flush_seconds
        self._max_pending = max_pending
        self.dropped = 0
        self.written = 0

    def note(self, note: Note) -> None:
        """Keep ``note`` for the next batch (cheap, synchronous: safe on any path)."""
        if len(self._pending) >= self._max_pending:
            self._pending.popleft()
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                log.warning("call history: %d notes dropped (database away?)", self.dropped)
        self._pending.append(note)
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def run(self) -> None:
        """Write notes as they come, in batches, until cancelled; a failed batch (database
        away) is kept and tried again with a growing pause."""
        pause = 1.0
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._flush_seconds)
            try:
                await self.flush()
                pause = 1.0
            except Exception as exc:  # noqa: BLE001 - kept and retried
                log.warning("call history not written (%s): retry in %.0f s", exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)

    async def flush(self) -> None:
        """Write everything pending now (the batch goes back to the front on failure)."""
        while self._pending:
            batch = [self._pending.popleft() for _ in range(min(MAX_BATCH, len(self._pending)))]
            try:
                await self._write(batch)
            except BaseException:
                self._pending.extendleft(reversed(batch))
                raise
            self.written += len(batch)
        self._wake.clear()

    async def close(self, timeout: float = 5.0) -> None:
        """A last flush when the app stops (bounded: a database away loses the rest)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), timeout)
        if self._pending:
            log.warning("call history: %d notes not written at exit", len(self._pending))


def _started(ch: CallChannel) -> datetime:
    try:
        created = datetime.fromisoformat(ch.created)
    except ValueError:
        return datetime.now(UTC)
    return created if created.tzinfo is not None else created.replace(tzinfo=UTC)


def start_of(ch: CallChannel, entry: Entry, routed: Routed) -> RecordStart | None:
    """The app's note of a decided call; ``None`` for calls that leave no record (feature
    codes, menus, a transfer's second leg: that call's own record keeps it)."""
    decision = routed.decision
    callee = getattr(decision, "user_id", None)
    if isinstance(entry, UnansweredEntry):
        return RecordStart(
            ch.id,
            _started(ch),
            route_after_ringing(decision),
            called_number=entry.called,
            callee_user_id=entry.user_id,
        )
    if not isinstance(entry, NewCallEntry | QueuedEntry):
        return None
    route = route_of(decision)
    if route is None:
        return None
    call, party = routed.call, routed.party
    caller = party.id if party is not None and call.caller and party.owns(call.caller) else None
    return RecordStart(
        ch.id,
        _started(ch),
        route,
        caller_number=call.caller,
        called_number=call.dialled,
        caller_user_id=caller,
        callee_user_id=callee if isinstance(callee, int) else None,
        service_number_id=(
            decision.service_number_id if isinstance(decision, ServiceNumberCall) else None
        ),
    )


def after_decision(recorder: CallRecords, ch: CallChannel, entry: Entry, routed: Routed) -> None:
    """Before the flow: note a call the app keeps. A ring waits for :func:`after_flow`."""
    if isinstance(routed.decision, Ring):
        return
    if (start := start_of(ch, entry, routed)) is not None:
        recorder.note(start)


def after_flow(recorder: CallRecords, ch: CallChannel, entry: Entry, routed: Routed) -> None:
    """After the flow: note a ring now that the phones ring; end a call the app kept (a call
    handed off to ring ends with the dialplan's report)."""
    if isinstance(routed.decision, Ring):
        if (start := start_of(ch, entry, routed)) is not None:
            recorder.note(start)
        return
    if ch.handed_off:
        return
    kept = isinstance(entry, NewCallEntry | QueuedEntry) and route_of(routed.decision)
    if kept or isinstance(entry, UnansweredEntry):
        recorder.note(RecordEnd(ch.id, datetime.now(UTC)))


def end_reported(
    recorder: CallRecords,
    query: dict[str, str],
    calling_user: Callable[[str], int | None] | None = None,
) -> bool:
    """The dialplan's report that a handed-off call ended (``GET /call-ended?...`` from
    ``[vipcall-ended]``); ``False`` for a report without a channel id.

    A call rung from a direct route (:mod:`vipcall.service.direct`) had no decision in the
    app: ``calling_user`` (the routing memory's lookup by mobile number) names the calling
    user, as the app's start note would have."""
    channel = query.get("id", "")
    if not channel:
        return False
    caller_user_id = None
    if query.get("via") == "direct":
        DIRECT_CALLS.inc()
        caller = query.get("caller", "")
        if calling_user is not None and caller.startswith("+"):
            caller_user_id = calling_user(caller)
    recorder.note(
        end_from_report(
            channel,
            _when(query.get("ended", "")),
            dial_status=query.get("status", ""),
            answered_ms=_ms(query.get("answered", "")),
            dialed_ms=_ms(query.get("dialed", "")),
            user=query.get("user", ""),
            called=query.get("called", ""),
            caller=query.get("caller", ""),
            dial=query.get("dial", ""),
            caller_user_id=caller_user_id,
        )
    )
    return True


def _when(raw: str) -> datetime:
    """When the call ended, from the report's ``ended`` (seconds since the epoch; the spool's
    reports may be read a while after); now if it has none or it is not a time."""
    try:
        return datetime.fromtimestamp(float(raw), UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _ms(raw: str) -> int:
    """Milliseconds from ``ANSWEREDTIME_MS``/``DIALEDTIME_MS`` (empty: 0)."""
    try:
        return max(0, int(float(raw)))
    except ValueError:
        return 0
