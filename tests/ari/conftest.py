"""A tiny in-process fake ARI server (REST + events websocket) for fast unit tests, and
the real Asterisk 22 the same behaviours are checked against (``asterisk``, used by
``test_real_asterisk.py``, marked e2e).

The fake only answers what the tests script. Like Asterisk 22.4+, it also answers
``RESTRequest`` messages on the events websocket with ``RESTResponse`` (same routes;
binary bodies answer 406), unless ``ws_rest`` is off (an older Asterisk: the message is
ignored).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web

from harness import sandbox
from vipcall.ari import AriClient, EventStream
from vipcall.sandbox import Instance

USER, PASSWORD, APP = "vipcall", "s3cret", "vipcall"


@dataclass
class Seen:
    method: str
    path: str  # raw (still percent-encoded) path below /ari
    query: list[tuple[str, str]]
    body: Any
    via: str = "http"  # or "ws"


@dataclass
class FakeAri:
    port: int = 0
    requests: list[Seen] = field(default_factory=list)
    # (METHOD, path) -> (status, json body or bytes or None, delay seconds)
    routes: dict[tuple[str, str], tuple[int, Any, float]] = field(default_factory=dict)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    ws_attempts: int = 0
    ws_accepts: int = 0
    ws_status: int = 101  # anything else: refuse the handshake with that status
    ws_on_open: list[dict[str, Any]] = field(default_factory=list)  # sent on every connect
    ws_rest: bool = True  # answer RESTRequest messages (False: ignore them, like Asterisk <22.4)
    ws_raw_sent: list[str] = field(default_factory=list)  # raw RESTRequest texts received
    on_ws_request: Callable[[Seen], Any] | None = None  # hook, e.g. to drop the socket
    runner: web.AppRunner | None = None
    site: web.TCPSite | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ari"

    def __post_init__(self) -> None:
        self.route("GET", "/asterisk/ping", 200, {"ping": "pong"})

    def route(
        self, method: str, path: str, status: int, body: Any = None, delay: float = 0.0
    ) -> None:
        self.routes[(method, path)] = (status, body, delay)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0][len("/ari") :]
        body: Any = None
        if request.can_read_body:
            body = json.loads(await request.read())
        self.requests.append(Seen(request.method, raw_path, list(request.query.items()), body))
        status, payload, delay = self.routes.get((request.method, raw_path), (204, None, 0.0))
        if delay:
            await asyncio.sleep(delay)
        if payload is None:
            return web.Response(status=status)
        if isinstance(payload, bytes):
            return web.Response(status=status, body=payload, content_type="audio/wav")
        return web.json_response(payload, status=status)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        self.ws_attempts += 1
        auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if request.query.get("app") != APP or request.headers.get("Authorization") != auth:
            return web.json_response({"message": "bad app/auth"}, status=401)
        if self.ws_status != 101:
            return web.json_response({"message": "nope"}, status=self.ws_status)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws_accepts += 1
        self.sockets.append(ws)
        for event in self.ws_on_open:
            await ws.send_str(json.dumps(event))
        tasks: set[asyncio.Task[None]] = set()
        async for msg in ws:
            if msg.type is not web.WSMsgType.TEXT:
                continue
            self.ws_raw_sent.append(msg.data)
            doc = json.loads(msg.data)
            if doc.get("type") != "RESTRequest" or not self.ws_rest:
                continue
            task = asyncio.create_task(self._ws_rest_answer(ws, doc))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        for task in list(tasks):
            task.cancel()
        return ws

    async def _ws_rest_answer(self, ws: web.WebSocketResponse, doc: dict[str, Any]) -> None:
        uri, _, query = doc["uri"].partition("?")
        path = "/" + uri
        body: Any = None
        if doc.get("message_body"):
            assert doc.get("content_type") == "application/json"
            body = json.loads(doc["message_body"])
        # Asterisk decodes the query like a form (%XX and "+").
        seen = Seen(doc["method"], path, parse_qsl(query, keep_blank_values=True), body, "ws")
        self.requests.append(seen)
        if self.on_ws_request is not None:
            res = self.on_ws_request(seen)
            if asyncio.iscoroutine(res):
                await res
        status, payload, delay = self.routes.get((doc["method"], path), (204, None, 0.0))
        if delay:
            await asyncio.sleep(delay)
        reasons = {200: "OK", 204: "No Content", 404: "Not Found", 406: "Not Acceptable"}
        answer: dict[str, Any] = {
            "type": "RESTResponse",
            "transaction_id": doc.get("transaction_id", ""),
            "request_id": doc.get("request_id", ""),
            "status_code": status,
            "reason_phrase": reasons.get(status, "Whatever"),
            "uri": uri,
        }
        if isinstance(payload, bytes):
            # Asterisk: "Not Acceptable.  Use HTTP GET" for file bodies.
            answer["status_code"] = 406
            answer["reason_phrase"] = "Not Acceptable.  Use HTTP GET"
        elif payload is not None:
            answer["content_type"] = "application/json"
            answer["message_body"] = json.dumps(payload, separators=(",", ":"))
        answer.update(application=APP, timestamp="2026-01-01T00:00:00.000+0000")
        if not ws.closed:
            await ws.send_str(json.dumps(answer, separators=(",", ":")))

    async def send(self, event: dict[str, Any]) -> None:
        for ws in list(self.sockets):
            if not ws.closed:
                await ws.send_str(json.dumps(event))

    async def drop(self) -> None:
        """Close every events websocket from the server side (like an app kick)."""
        for ws in list(self.sockets):
            await ws.close()
        self.sockets.clear()

    async def start(self) -> None:
        if self.runner is None:
            app = web.Application()
            app.router.add_get("/ari/events", self._events)
            app.router.add_route("*", "/ari/{tail:.*}", self._rest)
            self.runner = web.AppRunner(app, shutdown_timeout=0.1)
            await self.runner.setup()
        self.site = web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True)
        await self.site.start()
        if not self.port:
            server = self.site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop_listening(self) -> None:
        """Simulate Asterisk going down: drop sockets and refuse new connections."""
        await self.drop()
        if self.site is not None:
            await self.site.stop()
            self.site = None

    async def close(self) -> None:
        await self.stop_listening()
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def fake_ari() -> AsyncIterator[FakeAri]:
    fake = FakeAri()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


async def _wait_until(predicate: Any, timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@pytest.fixture
def wait_until() -> Any:
    """Poll ``predicate()`` until true (tests cross sockets, so they must wait a little)."""
    return _wait_until


@asynccontextmanager
async def ari_client(
    fake: FakeAri, transport: str, **kw: Any
) -> AsyncIterator[tuple[AriClient, EventStream | None]]:
    """An AriClient whose requests go over ``transport`` ("http" or "ws").

    For "ws" an EventStream runs and the context is entered once the websocket
    transport is in use (after the probe)."""
    client = AriClient(fake.base_url, USER, PASSWORD, APP, **kw)
    if transport == "http":
        try:
            yield client, None
        finally:
            await client.close()
        return
    stream = client.events(backoff_initial=0.05, backoff_max=0.4)
    task = asyncio.create_task(stream.run(lambda ev: None))
    try:
        await _wait_until(lambda: client.ws_transport is not None)
        yield client, stream
    finally:
        stream.stop()
        await asyncio.wait_for(task, 3)
        await client.close()


@pytest.fixture(params=["http", "ws"])
def transport(request: pytest.FixtureRequest) -> str:
    """Run a test over both REST transports."""
    return str(request.param)


# -- the real Asterisk (test_real_asterisk.py) -------------------------------------------

# Own instance: SIP 27060 / ARI 28089 / RTP 29000-29999, so it never collides with the
# other suites.
NAME, SIP_PORT, ARI_PORT = "ari-ws-tests", 27060, 28089
RTP_START, RTP_END = 29000, 29999


@pytest.fixture(scope="module")
def asterisk() -> Iterator[Instance]:
    """A real sandboxed Asterisk 22; skipped without the sandbox, or failed where it is
    required (CI=true, make test)."""
    sandbox.require()
    inst = Instance(
        name=NAME, sip_port=SIP_PORT, ari_port=ARI_PORT, rtp_start=RTP_START, rtp_end=RTP_END
    )
    if inst.is_running():  # leftover of an interrupted run of this very suite
        inst.stop()
    inst.start()
    try:
        yield inst
    finally:
        inst.stop()
