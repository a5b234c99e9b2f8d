"""ARI REST transport: how a request travels and how its answer becomes a result or an
:class:`~vipcall.ari.errors.AriError`. No endpoint knowledge (that is
:class:`~vipcall.ari.client.AriClient`, built on :class:`AriTransport`).

Two ways for the same requests (same paths, same results, same errors):

* **REST over the events websocket** (Asterisk 22.4.0+ / 21.9.0+ / 20.14.0+): while an
  :class:`~vipcall.ari.events.EventStream` of this transport is connected and Asterisk
  answered its probe, :meth:`AriTransport.request` sends ``{"type": "RESTRequest", ...}``
  over that websocket (:class:`WsRestTransport`) and awaits the ``RESTResponse`` with
  the same ``request_id``. On loopback this costs a fraction of the CPU of an aiohttp
  HTTP request. Binary bodies (``raw=True``: stored recording files) cannot travel over
  it (Asterisk answers 406), so those always use HTTP.
* **HTTP** (one keep-alive aiohttp session): when the websocket is down, not yet probed,
  not supported by the server, closing under a request (nothing was sent: the request
  goes over HTTP instead), or ``rest_over_websocket=False``.

Results: the parsed JSON (``None`` for an empty body), or the raw bytes for ``raw=True``.
Errors: a status >= 300 maps through :func:`~vipcall.ari.errors.error_for_status`
(404 :class:`AriNotFound`, 409 :class:`AriConflict`, 503 :class:`AriUnavailable`);
no answer (refused, reset, timeout, websocket lost with the request out) is
:class:`AriUnavailable` with status 0; a 2xx body that is not JSON is a plain
:class:`AriError`.

Why our own client: the third-party ARI libraries either don't import on 3.11 or
misbehave on an Asterisk restart (see /work/shared/asterisk-sandbox.md), and ARI is only
a few dozen REST calls. Design goals: one keep-alive aiohttp session, no model objects
(responses are the parsed JSON, typed with ``TypedDict``), URLs built by hand with no
per-call re-encoding.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import os
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp
from yarl import URL

from .codec import dumps, loads
from .errors import AriError, AriUnavailable, error_for_status

log = logging.getLogger(__name__)

ParamValue = str | int | float | bool | None
Params = Mapping[str, ParamValue] | Sequence[tuple[str, ParamValue]]

_JSON_HEADERS = {"Content-Type": "application/json"}


class _NotSent(Exception):
    """The websocket transport could not send the request (it never left): use HTTP."""


class _WsLost(Exception):
    """The websocket closed while the request was waiting for its response."""


def _expire(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


def encode_query(params: Params) -> str:
    """Encode query params; drops ``None``, booleans become ARI's ``true``/``false``,
    every value is percent-encoded (``safe=""``). Pairs keep their order and repeats."""
    items = params.items() if isinstance(params, Mapping) else params
    parts: list[str] = []
    for key, value in items:
        if value is None:
            continue
        if value is True:
            text = "true"
        elif value is False:
            text = "false"
        else:
            text = str(value)
        parts.append(f"{key}={quote(text, safe='')}")
    return "&".join(parts)


def error_message(payload: bytes | str) -> str:
    """ARI errors are ``{"message": "..."}``; fall back to the first 200 chars of text."""
    if not payload:
        return ""
    try:
        doc = loads(payload)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "message" in doc:
        return str(doc["message"])
    if isinstance(payload, bytes):
        return payload[:200].decode("utf-8", "replace")
    return payload[:200]


def _result(status: int, payload: bytes | str, method: str, path: str) -> Any:
    """The parsed JSON answer of a non-raw request, or the mapped error."""
    if status >= 300 or status < 100:  # < 100: a RESTResponse without status_code
        raise error_for_status(status, method, path, error_message(payload))
    if not payload:
        return None
    try:
        return loads(payload)
    except ValueError as exc:
        raise AriError(status, method, path, f"bad JSON: {exc}") from exc


class WsRestTransport:
    """ARI REST over one connected events websocket (one per connection).

    Requests are ``RESTRequest`` TEXT frames; each gets a future in :attr:`pending`
    keyed by its ``request_id``, resolved by :meth:`feed` when the EventStream receives
    the matching ``RESTResponse``; :meth:`fail_all` fails them when the socket goes.
    Verified shapes (Asterisk 22.10)::

        -> {"type":"RESTRequest","request_id":"r1","method":"GET","uri":"channels/x?a=b",
            "content_type":"application/json","message_body":"{...}"}   # body optional
        <- {"type":"RESTResponse","transaction_id":"","request_id":"r1","status_code":404,
            "reason_phrase":"Not Found","uri":"channels/x","content_type":"application/json",
            "message_body":"{\"message\":\"Channel not found\"}","application":"vipcall",
            "timestamp":"...","asterisk_id":"..."}   # no content_type/message_body on 204
    """

    __slots__ = ("ws", "pending", "closed", "_ids", "_prefix", "_loop", "_send")

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.closed = False
        self._ids = itertools.count(1)
        # Per-connection prefix: a late answer can never match a newer request.
        self._prefix = os.urandom(3).hex() + "-"
        self._loop = asyncio.get_running_loop()
        self._send = ws.send_frame

    async def call(
        self, method: str, path: str, query: str, data: bytes | None, timeout: float
    ) -> dict[str, Any]:
        """Send one request, return the raw ``RESTResponse`` dict.

        Raises :class:`_NotSent` (nothing left: retry over HTTP), :class:`TimeoutError`
        or :class:`_WsLost`.
        """
        if self.closed:  # after fail_all() no request may wait on this socket
            raise _NotSent
        rid = self._prefix + str(next(self._ids))
        msg: dict[str, Any] = {
            "type": "RESTRequest",
            "request_id": rid,
            "method": method,
            # ARI wants the URI relative to /ari, without the leading "/".
            "uri": f"{path[1:]}?{query}" if query else path[1:],
        }
        if data is not None:
            msg["content_type"] = "application/json"
            msg["message_body"] = data.decode()
        fut: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        pending = self.pending
        pending[rid] = fut
        try:
            await self._send(dumps(msg), aiohttp.WSMsgType.TEXT)
        except (ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
            pending.pop(rid, None)
            if fut.done():  # fail_all() ran meanwhile: don't leave an unretrieved error
                fut.exception()
            raise _NotSent from exc
        handle = self._loop.call_later(timeout, _expire, fut)
        try:
            return await fut
        finally:
            handle.cancel()
            pending.pop(rid, None)

    def feed(self, response: dict[str, Any]) -> None:
        """Resolve the request a ``RESTResponse`` answers (late/unknown ones are dropped)."""
        fut = self.pending.pop(response.get("request_id", ""), None)
        if fut is None:
            log.debug("ARI: RESTResponse for no pending request (%s)", response.get("request_id"))
        elif not fut.done():
            fut.set_result(response)

    def fail_all(self, reason: str) -> None:
        """The websocket is gone: every waiting request fails, later ones go to HTTP."""
        self.closed = True
        pending, self.pending = self.pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(_WsLost(reason))


class AriTransport:
    """Connection to one ARI server for one Stasis application: HTTP session, REST over
    the events websocket when attached, error mapping. :meth:`request` is the only way
    out; :class:`~vipcall.ari.client.AriClient` adds the named endpoints.

    Use as ``async with ... as ari:`` or call :meth:`close` at shutdown; the HTTP
    session is created lazily on first use so the object can be built outside a loop.
    """

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        app: str,
        *,
        request_timeout: float = 5.0,
        max_connections: int = 64,
        rest_over_websocket: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.password = password
        self.app = app
        self.request_timeout = request_timeout
        self._max_connections = max_connections
        #: Pre-computed Basic auth header (aiohttp's ``auth=`` is deprecated).
        self.authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self._session: aiohttp.ClientSession | None = None
        #: Send REST requests over the events websocket when an EventStream of this
        #: transport is connected and Asterisk supports it (22.4.0+); HTTP otherwise.
        self.rest_over_websocket = rest_over_websocket
        #: The websocket transport in use, if any (see :meth:`attach_websocket`).
        self.ws_transport: WsRestTransport | None = None

    @property
    def transport(self) -> str:
        """``"websocket"`` or ``"http"``: where the next (non-binary) request goes."""
        return "websocket" if self.ws_transport is not None else "http"

    def attach_websocket(self, wst: WsRestTransport) -> None:
        """From now on requests go over ``wst`` (called by the EventStream's probe)."""
        self.ws_transport = wst

    def detach_websocket(self, wst: WsRestTransport, reason: str) -> None:
        """``wst``'s socket is gone: new requests use HTTP, waiting ones fail at once."""
        if self.ws_transport is wst:
            self.ws_transport = None
        wst.fail_all(reason)

    # -- lifecycle -----------------------------------------------------------------

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared keep-alive session (created on first use, dropped by close())."""
        session = self._session
        if session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                # Asterisk closes idle HTTP sessions after 15 s (http.conf
                # session_keep_alive); drop ours first so a POST never lands on a
                # socket the server is closing (POSTs are not retried).
                keepalive_timeout=10.0,
                enable_cleanup_closed=False,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                headers={"Authorization": self.authorization},
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
                skip_auto_headers=("User-Agent",),
                # No cookies/compression on loopback ARI: both cost CPU per request.
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
            )
            self._session = session
        return session

    async def close(self) -> None:
        """Close the HTTP session (idempotent; a later request opens a new one)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> Self:
        _ = self.session
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- requests ------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        params: Params | None = None,
        body: Any = None,
        *,
        raw: bool = False,
    ) -> Any:
        """Do one ARI request; return parsed JSON (``None`` for empty bodies) or bytes.

        ``path`` is relative to the ARI base (``/channels/...``) and must already be
        percent-encoded (ids: ``quote(id, safe="")``); ``params`` go through
        :func:`encode_query`; ``body`` is sent as JSON. Raises :class:`AriError`
        subclasses.
        """
        query = encode_query(params) if params else ""
        data = dumps(body) if body is not None else None
        wst = self.ws_transport
        if wst is not None and not raw:
            try:
                response = await wst.call(method, path, query, data, self.request_timeout)
            except _NotSent:
                pass  # the socket is closing and nothing was sent: HTTP below
            except TimeoutError:
                raise AriUnavailable(0, method, path, "timeout") from None
            except _WsLost as exc:
                raise AriUnavailable(0, method, path, f"websocket lost: {exc}") from None
            else:
                return _result(
                    response.get("status_code", 0),
                    response.get("message_body") or "",
                    method,
                    path,
                )
        return await self._http_request(method, path, query, data, raw)

    async def _http_request(
        self, method: str, path: str, query: str, data: bytes | None, raw: bool
    ) -> Any:
        url = self.base_url + path
        if query:
            url = f"{url}?{query}"
        headers: Mapping[str, str] | None = _JSON_HEADERS if data is not None else None
        try:
            async with self.session.request(
                method, URL(url, encoded=True), data=data, headers=headers
            ) as resp:
                status = resp.status
                payload = await resp.read()
        except TimeoutError:
            raise AriUnavailable(0, method, path, "timeout") from None
        except aiohttp.ClientError as exc:
            raise AriUnavailable(0, method, path, str(exc) or type(exc).__name__) from exc
        except OSError as exc:
            raise AriUnavailable(0, method, path, str(exc)) from exc
        if raw and status < 300:
            return payload
        return _result(status, payload, method, path)
