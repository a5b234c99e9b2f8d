"""Supervised ARI event websocket (``/ari/events``).

Why supervised: when the websocket closes Asterisk deactivates the app, keeps the
channels in Stasis and never re-sends StasisStart; calls hitting ``Stasis()`` meanwhile
fail open in the dialplan. So the app must reconnect by itself, forever, and reconcile
(list channels/bridges) on *every* connect. That is :meth:`EventStream.run`.

Contract of :meth:`EventStream.run(handler, on_connect)`:

* ``on_connect()`` is awaited after each successful websocket handshake. Events that
  arrive meanwhile are buffered (the socket keeps being drained so Asterisk's
  ``websocket_write_timeout`` never drops us) and delivered, in order, once it returns.
  So the app sees: snapshot via REST, then every event since the socket opened (an
  object may show up in both: handle events idempotently). If ``on_connect`` raises,
  the error is logged, the connection is dropped and retried with backoff, so
  reconciliation is retried too.
* ``handler(event)`` is a plain (sync) callable called for each event dict, in order,
  on the event loop: it must be fast and start tasks for anything that awaits. An
  exception from it is logged and the loop goes on.
* Reconnects use full-jitter exponential backoff (``backoff_initial`` doubling up to
  ``backoff_max``; reset once a connection lived ``stable_after`` seconds); there is
  always a small floor so a server that accepts and immediately closes can't make us spin.
* ``connected`` is set while the websocket is up; ``ready`` once ``on_connect`` has
  returned on the current connection. ``stop()`` makes ``run()`` return.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import aiohttp
from yarl import URL

from .client import AriClient, _loads
from .models import Event

log = logging.getLogger(__name__)

Handler = Callable[[Event], None]
OnConnect = Callable[[], Awaitable[None]]

_MIN_SLEEP = 0.05  # floor under the jittered delay: never a busy reconnect loop


class EventStream:
    """Receives one app's ARI events and keeps the websocket alive across restarts."""

    def __init__(
        self,
        client: AriClient,
        *,
        subscribe_all: bool = False,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        stable_after: float | None = None,
        heartbeat: float | None = None,
    ) -> None:
        self.client = client
        self.subscribe_all = subscribe_all
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.stable_after = backoff_max if stable_after is None else stable_after
        # Loopback only: TCP close tells us about an Asterisk exit, so no pings by default.
        self.heartbeat = heartbeat
        #: Set while the websocket is open.
        self.connected = asyncio.Event()
        #: Set once on_connect finished on the current connection.
        self.ready = asyncio.Event()
        #: Number of successful websocket handshakes so far.
        self.connections = 0
        self._stopping = False
        self._wake = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._state = "init"  # init | up | down (for once-per-transition logging)

    @property
    def url(self) -> URL:
        c = self.client
        base = c.base_url
        query = (
            f"app={quote(c.app, safe='')}"
            f"&subscribeAll={'true' if self.subscribe_all else 'false'}"
            f"&api_key={quote(c.user, safe='')}:{quote(c.password, safe='')}"
        )
        return URL(f"{base}/events?{query}", encoded=True)

    def stop(self) -> None:
        """Ask :meth:`run` to return (closes the websocket, wakes a backoff sleep)."""
        self._stopping = True
        self._wake.set()
        ws = self._ws
        if ws is not None and not ws.closed:
            asyncio.ensure_future(ws.close())

    async def run(self, handler: Handler, on_connect: OnConnect | None = None) -> None:
        """Connect, reconcile, dispatch; reconnect forever until :meth:`stop`."""
        loop = asyncio.get_running_loop()
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=self.client.request_timeout,
            sock_connect=self.client.request_timeout,
        )
        # A session of its own: the REST pool's total timeout must not apply here.
        session = aiohttp.ClientSession(
            timeout=timeout,
            headers={"Authorization": self.client.authorization},
        )
        delay = self.backoff_initial
        try:
            while not self._stopping:
                reason = ""
                try:
                    ws = await session.ws_connect(
                        self.url,
                        heartbeat=self.heartbeat,
                        max_msg_size=0,
                        autoclose=True,
                        autoping=True,
                    )
                except aiohttp.WSServerHandshakeError as exc:
                    reason = f"handshake failed: HTTP {exc.status} {exc.message}"
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    reason = str(exc) or type(exc).__name__
                else:
                    started = loop.time()
                    reason = await self._serve(ws, handler, on_connect)
                    if loop.time() - started >= self.stable_after:
                        delay = self.backoff_initial
                if self._stopping:
                    break
                self._set_down(reason)
                sleep = max(_MIN_SLEEP, random.uniform(0.0, delay))
                delay = min(delay * 2.0, self.backoff_max)
                try:
                    await asyncio.wait_for(self._wake.wait(), sleep)
                except TimeoutError:
                    pass
        finally:
            self.connected.clear()
            self.ready.clear()
            self._ws = None
            await session.close()
            if self._state == "up":
                log.info("ARI events: stopped")
            self._state = "init"

    def _set_down(self, reason: str) -> None:
        if self._state == "up":
            log.warning("ARI events: connection lost (%s); reconnecting", reason)
        elif self._state == "init":
            log.warning(
                "ARI events: cannot connect to %s (%s); retrying", self.client.base_url, reason
            )
        else:
            log.debug("ARI events: still down (%s)", reason)
        self._state = "down"

    async def _serve(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        handler: Handler,
        on_connect: OnConnect | None,
    ) -> str:
        """Run one connection until it closes; return why it ended."""
        self._ws = ws
        self.connections += 1
        self.connected.set()
        if self._state != "up":
            log.info("ARI events: connected (app=%s)", self.client.app)
        self._state = "up"
        if self._stopping:  # stop() raced with the handshake
            await ws.close()
        pending: list[Event] | None = None
        reconcile: asyncio.Future[None] | None = None
        failed = False

        if on_connect is not None:
            pending = []

            def flush(fut: asyncio.Future[None]) -> None:
                nonlocal pending, failed
                buffered, pending = pending or [], None
                if fut.cancelled():
                    return
                exc = fut.exception()
                if exc is not None:
                    log.error("ARI events: on_connect failed; reconnecting", exc_info=exc)
                    failed = True
                    asyncio.ensure_future(ws.close())
                    return
                self.ready.set()
                for event in buffered:
                    try:
                        handler(event)
                    except Exception:
                        log.exception("ARI event handler failed on %s", event.get("type"))

            reconcile = asyncio.ensure_future(on_connect())
            reconcile.add_done_callback(flush)
        else:
            self.ready.set()

        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT or msg.type is aiohttp.WSMsgType.BINARY:
                    try:
                        event = _loads(msg.data)
                    except ValueError:
                        log.warning("ARI events: undecodable message dropped")
                        continue
                    if pending is not None:
                        pending.append(event)
                        continue
                    try:
                        handler(event)
                    except Exception:
                        log.exception("ARI event handler failed on %s", event.get("type"))
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    break
        finally:
            self.connected.clear()
            self.ready.clear()
            self._ws = None
            if reconcile is not None and not reconcile.done():
                reconcile.cancel()
                await asyncio.wait([reconcile])  # let it unwind; never re-raises
            if not ws.closed:
                await ws.close()
        if failed:
            return "on_connect failed"
        exc = ws.exception()
        if exc is not None:
            return f"{type(exc).__name__}: {exc}"
        return f"closed by server, code {ws.close_code}"
