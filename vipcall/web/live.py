"""Live page updates: one PostgreSQL listener per web process, fanned out to the open pages.

Migration 0006 makes PostgreSQL ``NOTIFY vipcall_presence, '<user id>'`` whenever a user's
activity or role changes or their scheduled activities change, whatever wrote it (the call
app after 983/984 or the activity number, the CLI, this web process). :class:`PresenceHub`
keeps one asyncpg connection LISTENing (reconnecting with a growing pause when it is lost)
and wakes the subscribers of that user; each open ``/api/v1/me/events`` stream is one
subscriber (:mod:`vipcall.web.api.events`). After a reconnect every subscriber is woken,
since changes made while the connection was down were not heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import asyncpg
from fastapi import FastAPI

from vipcall.store.listen import keep_listening, until_lost
from vipcall.store.pool import asyncpg_dsn

log = logging.getLogger("vipcall.web.live")

#: The channel of migration 0006's trigger; the payload is the user id.
CHANNEL = "vipcall_presence"


class PresenceHub:
    """Wakes the subscribers of a user when PostgreSQL says the user's presence changed."""

    def __init__(self, database_url: str, *, max_pause: float = 10.0) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._subscribers: dict[int, set[asyncio.Queue[None]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._max_pause = max_pause
        self.listening = asyncio.Event()
        """Set while the listener is connected (tests wait for it)."""
        self.connections = 0
        """How many times the listener has connected (a reconnect counts again)."""
        self.check_seconds = 30.0
        """How often a quiet listening connection is checked."""

    # -- subscribers --------------------------------------------------------------------

    @contextlib.contextmanager
    def subscribe(self, user_id: int) -> Iterator[asyncio.Queue[None]]:
        """A queue that gets an item when ``user_id``'s presence may have changed (several
        changes before it is read make one item)."""
        self.start()
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        self._subscribers.setdefault(user_id, set()).add(queue)
        try:
            yield queue
        finally:
            mine = self._subscribers.get(user_id)
            if mine is not None:
                mine.discard(queue)
                if not mine:
                    del self._subscribers[user_id]

    def subscribers(self, user_id: int) -> int:
        return len(self._subscribers.get(user_id, ()))

    def wake(self, user_id: int | None = None) -> None:
        """Wake ``user_id``'s subscribers (``None``: everyone's)."""
        queues = (
            [q for qs in self._subscribers.values() for q in qs]
            if user_id is None
            else list(self._subscribers.get(user_id, ()))
        )
        for queue in queues:
            if queue.empty():
                queue.put_nowait(None)

    def _notified(self, payload: str) -> None:
        try:
            user_id = int(payload)
        except ValueError:
            log.warning("unexpected %s payload %r", CHANNEL, payload)
            return
        self.wake(user_id)

    # -- the listener -------------------------------------------------------------------

    def start(self) -> None:
        """Start listening (once; idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(), name="presence-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        await keep_listening(
            "presence listener", self._connect, CHANNEL, self._notified, self._serve,
            log=log, down=self.listening.clear, first_pause=0.5, max_pause=self._max_pause,
        )  # fmt: skip

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self._dsn, timeout=5)

    async def _serve(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        """One listening connection (LISTENing already), until it is lost."""
        self.connections += 1
        self.listening.set()
        if self.connections > 1:
            log.info("presence listener reconnected")
            self.wake()  # what changed while it was away was not heard
        await until_lost(conn, lost, self.check_seconds)


def hub_of(app: FastAPI) -> PresenceHub:
    """The app's hub, made on first use; it stops with the app."""
    hub: PresenceHub | None = getattr(app.state, "presence_hub", None)
    if hub is None:
        hub = PresenceHub(app.state.settings.database_url)
        app.state.presence_hub = hub

        async def stop(_app: FastAPI) -> None:
            await hub.stop()

        app.state.on_stop.append(stop)
    return hub
