"""Thin asyncio ARI REST client.

Two transports for the same requests (same paths, same results, same errors):

* **REST over the events websocket** (Asterisk 22.4.0+ / 21.9.0+ / 20.14.0+): while an
  :class:`~vipcall.ari.events.EventStream` of this client is connected and Asterisk
  answered its probe, :meth:`AriClient.request` sends ``{"type": "RESTRequest", ...}``
  over that websocket and awaits the ``RESTResponse`` with the same ``request_id``. On
  loopback this costs a fraction of the CPU of an aiohttp HTTP request. Binary bodies
  (``raw=True``: stored recording files) cannot travel over it (Asterisk answers 406),
  so those always use HTTP.
* **HTTP** (one keep-alive aiohttp session): when the websocket is down, not yet probed,
  not supported by the server, or ``rest_over_websocket=False``.

Why our own: the third-party ARI libraries either don't import on 3.11 or misbehave on
an Asterisk restart (see /work/shared/asterisk-sandbox.md), and ARI is only a few dozen
REST calls. Design goals: one keep-alive aiohttp session, no model objects (responses are
the parsed JSON, typed with ``TypedDict``), URLs built by hand with no per-call
re-encoding, and errors mapped to :mod:`vipcall.ari.errors` so call flows can tell
"channel already gone" (404) from "Asterisk down".
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import aiohttp
from yarl import URL

from .errors import AriError, AriNotFound, AriUnavailable, error_for_status
from .models import (
    AsteriskInfo,
    Bridge,
    Channel,
    ConfigTuple,
    LiveRecording,
    Playback,
    StoredRecording,
)

if TYPE_CHECKING:
    from .events import EventStream

log = logging.getLogger(__name__)

try:  # orjson is ~5x faster than json for ARI's small documents.
    import orjson

    def _loads(data: bytes | str) -> Any:
        return orjson.loads(data)

    def _dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover - orjson is a declared dependency
    import json

    def _loads(data: bytes | str) -> Any:
        return json.loads(data)

    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()


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
        if self.closed:
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
            await self._send(_dumps(msg), aiohttp.WSMsgType.TEXT)
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


def _q(segment: str) -> str:
    """Percent-encode one path segment (ids may contain ``/`` or ``;`` e.g. recording names)."""
    return quote(segment, safe="")


def _encode_query(params: Params) -> str:
    """Encode query params; drops ``None``, booleans become ARI's ``true``/``false``."""
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


class AriClient:
    """REST side of ARI for one Stasis application.

    Use as ``async with AriClient(...) as ari:`` or call :meth:`close` at shutdown; the
    HTTP session is created lazily on first use so the object can be built outside a loop.
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
        #: Send REST requests over the events websocket when an EventStream of this client
        #: is connected and Asterisk supports it (22.4.0+); HTTP otherwise.
        self.rest_over_websocket = rest_over_websocket
        #: The websocket transport in use, if any (set/cleared by the EventStream).
        self.ws_transport: WsRestTransport | None = None

    @property
    def transport(self) -> str:
        """``"websocket"`` or ``"http"``: where the next (non-binary) request goes."""
        return "websocket" if self.ws_transport is not None else "http"

    # -- lifecycle -----------------------------------------------------------------

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared keep-alive session (created on first use)."""
        session = self._session
        if session is None or session.closed:
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
        """Close the HTTP session (idempotent)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> AriClient:
        _ = self.session
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def events(self, **kwargs: Any) -> EventStream:
        """An :class:`~vipcall.ari.events.EventStream` for this client's app."""
        from .events import EventStream

        return EventStream(self, **kwargs)

    # -- core ----------------------------------------------------------------------

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
        encoded (use :func:`_q` for ids). Raises :class:`AriError` subclasses.
        """
        query = _encode_query(params) if params else ""
        data = _dumps(body) if body is not None else None
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
                status = response.get("status_code", 0)
                text: str = response.get("message_body") or ""
                if status >= 300 or status < 100:
                    raise error_for_status(status, method, path, _error_message(text))
                if not text:
                    return None
                try:
                    return _loads(text)
                except ValueError as exc:
                    raise AriError(status, method, path, f"bad JSON: {exc}") from exc
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
        if status >= 300:
            raise error_for_status(status, method, path, _error_message(payload))
        if raw:
            return payload
        if not payload:
            return None
        try:
            return _loads(payload)
        except ValueError as exc:
            raise AriError(status, method, path, f"bad JSON: {exc}") from exc

    # -- channels ------------------------------------------------------------------

    async def list_channels(self) -> list[Channel]:
        """All channels Asterisk knows (used to reconcile after a reconnect)."""
        return cast(list[Channel], await self.request("GET", "/channels"))

    async def get_channel(self, channel_id: str) -> Channel:
        return cast(Channel, await self.request("GET", f"/channels/{_q(channel_id)}"))

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{_q(channel_id)}/answer")

    async def ring(self, channel_id: str) -> None:
        """Send ringing indication (180) to the caller."""
        await self.request("POST", f"/channels/{_q(channel_id)}/ring")

    async def ring_stop(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{_q(channel_id)}/ring")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """Hang up; ``reason``: normal, busy, congestion, no_answer, rejected, ... ."""
        await self.request("DELETE", f"/channels/{_q(channel_id)}", {"reason": reason})

    async def continue_in_dialplan(
        self,
        channel_id: str,
        context: str,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        """Leave Stasis and continue in the dialplan (e.g. ``vipcall-ring,s,1``)."""
        await self.request(
            "POST",
            f"/channels/{_q(channel_id)}/continue",
            {"context": context, "extension": extension, "priority": priority, "label": label},
        )

    async def set_channel_var(self, channel_id: str, variable: str, value: str) -> None:
        await self.request(
            "POST",
            f"/channels/{_q(channel_id)}/variable",
            {"variable": variable, "value": value},
        )

    async def get_channel_var(self, channel_id: str, variable: str) -> str:
        """Value of a channel variable or function (404 if the variable is unset)."""
        res = await self.request(
            "GET", f"/channels/{_q(channel_id)}/variable", {"variable": variable}
        )
        return cast(str, res.get("value", "")) if res else ""

    async def play(
        self,
        channel_id: str,
        media: str | Sequence[str],
        playback_id: str | None = None,
        lang: str | None = None,
    ) -> Playback:
        """Start playing ``media`` (URI or list of URIs played in order, e.g. ``sound:x``).

        Several URIs go comma-separated in ONE ``media`` parameter: Asterisk keeps only the
        last of repeated ``media`` parameters (measured on Asterisk 22: a two-file list
        played just the second file).
        """
        joined = media if isinstance(media, str) else ",".join(media)
        params: list[tuple[str, ParamValue]] = [("media", joined)]
        params.append(("lang", lang))
        params.append(("playbackId", playback_id))
        return cast(
            Playback, await self.request("POST", f"/channels/{_q(channel_id)}/play", params)
        )

    async def stop_playback(self, playback_id: str) -> None:
        await self.request("DELETE", f"/playbacks/{_q(playback_id)}")

    async def record(
        self,
        channel_id: str,
        name: str,
        format: str = "wav",
        max_duration_seconds: int = 0,
        max_silence_seconds: int = 0,
        if_exists: str = "overwrite",
        beep: bool = False,
        terminate_on: str = "none",
    ) -> LiveRecording:
        """Start recording the channel into stored recording ``name``."""
        return cast(
            LiveRecording,
            await self.request(
                "POST",
                f"/channels/{_q(channel_id)}/record",
                {
                    "name": name,
                    "format": format,
                    "maxDurationSeconds": max_duration_seconds,
                    "maxSilenceSeconds": max_silence_seconds,
                    "ifExists": if_exists,
                    "beep": beep,
                    "terminateOn": terminate_on,
                },
            ),
        )

    async def stop_recording(self, name: str) -> None:
        """Stop a live recording and keep it."""
        await self.request("POST", f"/recordings/live/{_q(name)}/stop")

    async def list_stored_recordings(self) -> list[StoredRecording]:
        return cast(list[StoredRecording], await self.request("GET", "/recordings/stored"))

    async def get_stored_recording_file(self, name: str) -> bytes:
        """Raw bytes of a stored recording (as recorded, e.g. a WAV file)."""
        return cast(
            bytes, await self.request("GET", f"/recordings/stored/{_q(name)}/file", raw=True)
        )

    async def delete_stored_recording(self, name: str) -> None:
        await self.request("DELETE", f"/recordings/stored/{_q(name)}")

    async def originate(
        self,
        endpoint: str,
        app: str | None = None,
        app_args: str | Sequence[str] | None = None,
        caller_id: str | None = None,
        timeout: int = 30,
        variables: Mapping[str, str] | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
    ) -> Channel:
        """Create a channel dialling ``endpoint``, answered into Stasis ``app``.

        ``app`` defaults to this client's app; ``app_args`` list is comma-joined
        (it becomes StasisStart ``args``). ``variables`` go in the JSON body.
        """
        if app_args is not None and not isinstance(app_args, str):
            app_args = ",".join(app_args)
        body = {"variables": dict(variables)} if variables else None
        return cast(
            Channel,
            await self.request(
                "POST",
                "/channels",
                {
                    "endpoint": endpoint,
                    "app": app if app is not None else self.app,
                    "appArgs": app_args,
                    "callerId": caller_id,
                    "timeout": timeout,
                    "channelId": channel_id,
                    "otherChannelId": other_channel_id,
                },
                body,
            ),
        )

    # -- bridges -------------------------------------------------------------------

    async def list_bridges(self) -> list[Bridge]:
        return cast(list[Bridge], await self.request("GET", "/bridges"))

    async def get_bridge(self, bridge_id: str) -> Bridge:
        return cast(Bridge, await self.request("GET", f"/bridges/{_q(bridge_id)}"))

    async def create_bridge(
        self, type: str = "mixing", bridge_id: str | None = None, name: str | None = None
    ) -> Bridge:
        """Create a bridge; ``type`` is a comma list (mixing, holding, dtmf_events, ...)."""
        return cast(
            Bridge,
            await self.request(
                "POST", "/bridges", {"type": type, "bridgeId": bridge_id, "name": name}
            ),
        )

    async def add_channel_to_bridge(
        self, bridge_id: str, channel: str | Iterable[str], role: str | None = None
    ) -> None:
        if not isinstance(channel, str):
            channel = ",".join(channel)
        await self.request(
            "POST", f"/bridges/{_q(bridge_id)}/addChannel", {"channel": channel, "role": role}
        )

    async def remove_channel(self, bridge_id: str, channel: str | Iterable[str]) -> None:
        if not isinstance(channel, str):
            channel = ",".join(channel)
        await self.request("POST", f"/bridges/{_q(bridge_id)}/removeChannel", {"channel": channel})

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{_q(bridge_id)}")

    async def start_bridge_moh(self, bridge_id: str, moh_class: str | None = None) -> None:
        await self.request("POST", f"/bridges/{_q(bridge_id)}/moh", {"mohClass": moh_class})

    async def stop_bridge_moh(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{_q(bridge_id)}/moh")

    # -- asterisk (global vars, AstDB, dynamic config, info) -----------------------

    async def asterisk_info(self) -> AsteriskInfo:
        return cast(AsteriskInfo, await self.request("GET", "/asterisk/info"))

    async def ping(self) -> dict[str, str]:
        """Cheap liveness probe (``{"ping": "pong", ...}``)."""
        return cast(dict[str, str], await self.request("GET", "/asterisk/ping"))

    async def set_global_var(self, variable: str, value: str) -> None:
        """Set a global variable or *write* a function, e.g. ``DB(vipcall-ring/+358...)``.

        Function writes run on Asterisk's HTTP thread, where DB() writes count as
        "dangerous": they need ``live_dangerously = yes`` in asterisk.conf, otherwise
        Asterisk logs "Dangerous function DB write blocked" and still answers 204.
        """
        await self.request("POST", "/asterisk/variable", {"variable": variable, "value": value})

    async def get_global_var(self, variable: str) -> str:
        """Read a *global variable*; "" if unset.

        Asterisk 22 does not evaluate functions here (``DB(...)`` always reads ""):
        read AstDB through a channel with :meth:`db_get` / :meth:`get_channel_var`.
        """
        res = await self.request("GET", "/asterisk/variable", {"variable": variable})
        return cast(str, res.get("value", "")) if res else ""

    async def db_put(self, family: str, key: str, value: str) -> None:
        """AstDB put via ``DB(family/key)`` (what the dialplan's fail-open path reads)."""
        await self.set_global_var(f"DB({family}/{key})", value)

    async def db_clear(self, family: str, key: str) -> None:
        """Blank an AstDB key (value ""). ARI has no AstDB delete without a channel; the
        fail-open dialplan treats "" as absent. With a channel use :meth:`db_delete`."""
        await self.set_global_var(f"DB({family}/{key})", "")

    async def db_get(self, channel_id: str, family: str, key: str) -> str:
        """AstDB get, evaluated on a channel (the only place ARI evaluates functions)."""
        try:
            return await self.get_channel_var(channel_id, f"DB({family}/{key})")
        except AriNotFound as exc:
            if exc.path.endswith("/variable") and "variable" in exc.message.lower():
                return ""
            raise

    async def db_delete(self, channel_id: str, family: str, key: str) -> str:
        """AstDB delete via ``DB_DELETE`` on a channel; returns the old value ("" if none)."""
        return await self.get_channel_var(channel_id, f"DB_DELETE({family}/{key})")

    async def get_dynamic_config(
        self, config_class: str, object_type: str, object_id: str
    ) -> list[ConfigTuple]:
        return cast(
            list[ConfigTuple],
            await self.request("GET", _dyn_path(config_class, object_type, object_id)),
        )

    async def put_dynamic_config(
        self,
        config_class: str,
        object_type: str,
        object_id: str,
        fields: Mapping[str, str] | Iterable[tuple[str, str]],
    ) -> list[ConfigTuple]:
        """Create/update a sorcery object (e.g. ``res_pjsip``/``endpoint``/``sp-7-1``).

        ``fields`` as a mapping or (attribute, value) pairs (pairs allow repeats).
        """
        items = fields.items() if isinstance(fields, Mapping) else fields
        body = {"fields": [{"attribute": a, "value": v} for a, v in items]}
        return cast(
            list[ConfigTuple],
            await self.request("PUT", _dyn_path(config_class, object_type, object_id), body=body),
        )

    async def delete_dynamic_config(
        self, config_class: str, object_type: str, object_id: str
    ) -> None:
        await self.request("DELETE", _dyn_path(config_class, object_type, object_id))


def _dyn_path(config_class: str, object_type: str, object_id: str) -> str:
    return f"/asterisk/config/dynamic/{_q(config_class)}/{_q(object_type)}/{_q(object_id)}"


def _error_message(payload: bytes | str) -> str:
    """ARI errors are ``{"message": "..."}``; fall back to the raw text."""
    if not payload:
        return ""
    try:
        doc = _loads(payload)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "message" in doc:
        return str(doc["message"])
    if isinstance(payload, bytes):
        return payload[:200].decode("utf-8", "replace")
    return payload[:200]
