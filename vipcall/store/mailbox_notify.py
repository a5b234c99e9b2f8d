"""Mailbox changes from PostgreSQL, for the message waiting indicator.

Migration 0009's trigger notifies :data:`CHANNEL` with the owner's user id for every change
of a voicemail message that can change the mailbox's new/old counts, whatever wrote it (the
call app, the web home page, the CLI, the expiry job). :class:`MailboxListener` holds one
listening connection of its own (reconnecting with backoff, never raising) and hands each
notified user id to ``publish`` (the app passes :func:`vipcall.voicemail.mwi.refresh`).

Bursts coalesce: ids wait in a set and one worker task publishes them one at a time, so a
user notified ten times while a publish runs is published once more after it (and the read
then starts after the last commit: the state published is the latest). Nothing here runs in
a call's task; a failed publish is the publish function's to log.

:func:`mailbox_states` is the one query the app republishes from after an ARI (re)connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from vipcall.store.listen import Connect, keep_listening, until_lost
from vipcall.store.listening import NEW_OLD

log = logging.getLogger("vipcall.voicemail")

#: The channel migration 0009's trigger notifies (payload: the user id).
CHANNEL = "vipcall_mailbox"
#: Seconds between checks of a quiet listening connection.
CHECK_EVERY_S = 30.0

Publish = Callable[[int], Awaitable[object]]

#: (user id, new, old) of every mailbox that has messages (not deleted) and whose user has
#: a softphone, counted as the phone menu counts them (:data:`NEW_OLD`).
MAILBOX_STATES = f"""
SELECT mb.user_id,
       {NEW_OLD}
  FROM voicemail_messages m JOIN mailboxes mb ON mb.id = m.mailbox_id
 WHERE NOT m.deleted AND EXISTS (SELECT 1 FROM softphones s WHERE s.user_id = mb.user_id)
 GROUP BY mb.user_id
 ORDER BY mb.user_id
"""


async def mailbox_states(pool: asyncpg.Pool) -> list[tuple[int, int, int]]:
    """(user id, new, old) of every mailbox with messages whose user has a softphone."""
    rows = await pool.fetch(MAILBOX_STATES)
    return [(r["user_id"], int(r["new"]), int(r["old"])) for r in rows]


class MailboxListener:
    """LISTENs on :data:`CHANNEL`; publishes each notified user's mailbox state (module doc).

    ``resync`` (optional) runs after the listening connection came back from a loss:
    notifications sent meanwhile were missed, so the app republishes what may have changed.
    """

    def __init__(
        self,
        connect: Connect,
        publish: Publish,
        *,
        resync: Callable[[], Awaitable[object]] | None = None,
        backoff_max: float = 5.0,
    ) -> None:
        self._connect = connect
        self._publish = publish
        self._resync = resync
        self._backoff_max = backoff_max
        self.pending: set[int] = set()
        """Notified user ids not yet published."""
        self.listening = False
        self.published = 0
        """Publish calls made so far (tests read it)."""
        self._wake = asyncio.Event()
        self._busy = False
        self._lost_before = False

    def notified(self, payload: str) -> None:
        try:
            user_id = int(payload)
        except ValueError:
            log.warning("mailbox listener: unreadable notification %r", payload[:80])
            return
        self.pending.add(user_id)
        self._wake.set()

    async def run(self) -> None:
        """Listen and publish, reconnecting after any loss, forever (cancel to stop)."""
        worker = asyncio.create_task(self.work())
        try:
            await self.listen()
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def listen(self) -> None:
        await keep_listening(
            "mailbox listener", self._connect, CHANNEL, self.notified, self._serve,
            log=log, down=self._down, max_pause=self._backoff_max,
        )  # fmt: skip

    def _down(self) -> None:
        if self.listening:
            self._lost_before = True
        self.listening = False

    async def _serve(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        """One listening connection (LISTENing already): resync after a loss, then wait
        until it ends."""
        self.listening = True
        if self._lost_before and self._resync is not None:
            try:
                await self._resync()
            except Exception as exc:  # noqa: BLE001 - the next change publishes
                log.warning("mailbox listener: resync failed: %r", exc)
        await until_lost(conn, lost, CHECK_EVERY_S)

    async def work(self) -> None:
        """The one worker: publishes the pending ids, one at a time, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._busy = True
            try:
                while self.pending:
                    user_id = min(self.pending)
                    self.pending.discard(user_id)
                    self.published += 1
                    try:
                        await self._publish(user_id)
                    except Exception as exc:  # noqa: BLE001 - never stop the worker
                        log.warning("mailbox state of user %s: %r", user_id, exc)
            finally:
                self._busy = False

    async def settled(self, timeout: float) -> bool:
        """Wait until nothing notified is pending or being published (tests)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not self.pending and not self._busy and not self._wake.is_set():
                return True
            await asyncio.sleep(0.01)
        return False
