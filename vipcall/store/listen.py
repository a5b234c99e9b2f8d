"""One PostgreSQL LISTEN connection, kept up for ever.

The routing cache (:mod:`vipcall.store.routing_cache`), the message waiting indicator
(:mod:`vipcall.store.mailbox_notify`) and the web's live pages (:mod:`vipcall.web.live`)
each hold a connection of their own that LISTENs on one channel. :func:`keep_listening` is
their one loop: connect, LISTEN, hand the connection to the user's ``serve`` until it is
lost, close it, pause (doubling, with jitter, up to a limit) and connect again; it never
raises but on cancellation. A quiet connection can die without a word, so
:func:`until_lost` checks it now and then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

import asyncpg

Connect = Callable[[], Awaitable[asyncpg.Connection]]
Serve = Callable[[asyncpg.Connection, asyncio.Event], Awaitable[None]]


async def keep_listening(
    name: str,
    connect: Connect,
    channel: str,
    notified: Callable[[str], None],
    serve: Serve,
    *,
    log: logging.Logger,
    down: Callable[[], None] = lambda: None,
    first_pause: float = 0.2,
    max_pause: float = 5.0,
) -> None:
    """Listen on ``channel`` for ever (cancel to stop). Every payload goes to ``notified``
    (on the event loop, in order). ``serve(conn, lost)`` runs once per connection, after
    LISTEN, and returns when ``lost`` is set (or raises); ``down()`` runs after each
    connection ended or failed to come up."""
    pause = first_pause
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await connect()
            lost = asyncio.Event()
            conn.add_termination_listener(_setter(lost))
            await conn.add_listener(channel, lambda _c, _pid, _ch, payload: notified(payload))
            await serve(conn, lost)
            pause = first_pause
            log.warning("%s: listening connection lost; reconnecting", name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - database away: retry, never crash
            log.warning("%s: %s: %s; retrying", name, type(exc).__name__, exc)
        finally:
            down()
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)
        await asyncio.sleep(random.uniform(0.5, 1.0) * pause)
        pause = min(pause * 2, max_pause)


def _setter(event: asyncio.Event) -> Callable[[object], None]:
    return lambda _conn: event.set()


async def until_lost(conn: asyncpg.Connection, lost: asyncio.Event, check_every: float) -> None:
    """Return once ``lost`` is set; every ``check_every`` quiet seconds ask the server, so
    a connection that died silently is noticed (the check's error ends the serve)."""
    while not lost.is_set() and not conn.is_closed():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(lost.wait(), check_every)
        if not lost.is_set() and not conn.is_closed():
            await conn.fetchval("SELECT 1", timeout=5)
