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

REST over this websocket (client built with ``rest_over_websocket=True``, the default):
on each connect the stream probes Asterisk with ``GET asterisk/ping`` over the socket
(in the background: ``on_connect`` may start meanwhile, its requests use HTTP until the
probe answers). If it answers, the stream attaches the socket to its client
(:meth:`AriTransport.attach_websocket`) and the client's requests travel over it;
``RESTResponse`` messages are handed to the client, never to ``handler`` and never
buffered behind ``on_connect``. When the socket closes the transport is detached first
(:meth:`AriTransport.detach_websocket`: new requests use HTTP) and every request still
waiting fails with :class:`~vipcall.ari.errors.AriUnavailable`. A server that does not answer
the probe (Asterisk before 22.4) keeps HTTP for that connection.

Cheap intake: ``skip_types`` names event types the app never uses (e.g.
``ChannelVarset``); they are dropped *before* JSON parsing. Asterisk writes most events
with ``"type"`` first (``{"type":"StasisStart",...``), and then the type is read from that
prefix exactly; but not all (verified on 22.10: ``{"variable":"X","value":"1",
"type":"ChannelVarset",...``), so other messages are searched for the
``"type":"ChannelVarset"`` pair. That pair cannot occur inside a JSON string (quotes in
strings are escaped), only as a key/value pair; an event of another type could match
only if it nested a key literally named ``type`` with that value (a channel variable
named ``type`` exported through ``channelvars``), which vipcall never configures.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import aiohttp
from yarl import URL

from .codec import loads
from .models import Event
from .transport import AriTransport, WsRestTransport

log = logging.getLogger(__name__)

Handler = Callable[[Event], None]
OnConnect = Callable[[], Awaitable[None]]

_MIN_SLEEP = 0.05  # floor under the jittered delay: never a busy reconnect loop
_TYPE_FIRST = '{"type":"'
#: Probes lost with their connection in a row before REST over websocket is given up
#: for this client (a server that drops the socket on an unknown message must not make
#: us flap forever).
_MAX_PROBE_LOSSES = 3


class EventStream:
    """Receives one app's ARI events and keeps the websocket alive across restarts."""

    def __init__(
        self,
        client: AriTransport,
        *,
        subscribe_all: bool = False,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        stable_after: float | None = None,
        heartbeat: float | None = None,
        skip_types: frozenset[str] | None = None,
    ) -> None:
        self.client = client
        #: Event types dropped unparsed (RESTResponse can never be skipped).
        self.skip_types = frozenset(skip_types or ()) - {"RESTResponse"}
        self._skip_patterns = tuple(f'"type":"{t}"' for t in sorted(self.skip_types))
        self._skip_prefixes = tuple("{" + p for p in self._skip_patterns)
        self._probe_losses = 0
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
        )  # credentials go in the Authorization header, never in a URL that may be logged
        return URL(f"{base}/events?{query}", encoded=True)

    def _skipped(self, data: str) -> bool:
        """True if the raw message is an event of a ``skip_types`` type (no parsing)."""
        if data.startswith(self._skip_prefixes):
            return True
        if data.startswith(_TYPE_FIRST):
            return False  # "type" first and not a skipped one: exact
        for pattern in self._skip_patterns:
            if pattern in data:
                return True
        return False

    async def _probe(self, wst: WsRestTransport) -> None:
        """Does this server take REST over the websocket? If so, hand it to the client."""
        client = self.client
        try:
            response = await wst.call("GET", "/asterisk/ping", "", None, client.request_timeout)
        except TimeoutError:
            log.warning("ARI: no answer to REST over websocket (needs Asterisk 22.4+); using HTTP")
            return
        except Exception as exc:  # socket lost meanwhile (or _NotSent)
            self._probe_losses += 1
            if self._probe_losses >= _MAX_PROBE_LOSSES:
                client.rest_over_websocket = False
                log.warning(
                    "ARI: REST over websocket probe lost %d times; using HTTP", _MAX_PROBE_LOSSES
                )
            log.debug("ARI: REST over websocket probe failed: %r", exc)
            return
        self._probe_losses = 0
        # Any RESTResponse (whatever its status) shows the server speaks the protocol.
        log.debug("ARI: REST over websocket probe: %s", response.get("status_code"))
        if wst.closed or self._ws is not wst.ws:
            return
        client.attach_websocket(wst)
        log.info("ARI: REST requests go over the events websocket")

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
        client = self.client
        wst: WsRestTransport | None = None
        probe: asyncio.Future[None] | None = None
        if client.rest_over_websocket and not self._stopping:
            wst = WsRestTransport(ws)
            probe = asyncio.ensure_future(self._probe(wst))
        skipping = bool(self.skip_types)
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
                    data = msg.data
                    if skipping and type(data) is str and self._skipped(data):
                        continue
                    try:
                        event = loads(data)
                    except ValueError:
                        log.warning("ARI events: undecodable message dropped")
                        continue
                    if type(event) is not dict:
                        log.warning("ARI events: non-object message dropped")
                        continue
                    kind = event.get("type")
                    if kind == "RESTResponse":
                        if wst is not None:
                            wst.feed(event)
                        continue
                    if skipping and kind in self.skip_types:
                        continue  # type not found cheaply (e.g. pretty-printed JSON)
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
            if wst is not None:
                client.detach_websocket(wst, _close_reason(ws))  # new requests: HTTP
            if probe is not None and not probe.done():
                probe.cancel()
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


def _close_reason(ws: aiohttp.ClientWebSocketResponse) -> str:
    exc = ws.exception()
    if exc is not None:
        return f"{type(exc).__name__}: {exc}"
    if ws.close_code is not None:
        return f"closed, code {ws.close_code}"
    return "closed"
