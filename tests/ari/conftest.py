"""A tiny in-process fake ARI server (REST + events websocket) for fast unit tests.

It only answers what the tests script; the same behaviours are checked against a real
Asterisk 22 in ``test_real_asterisk.py`` (marked e2e).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

USER, PASSWORD, APP = "vipcall", "s3cret", "vipcall"


@dataclass
class Seen:
    method: str
    path: str  # raw (still percent-encoded) path below /ari
    query: list[tuple[str, str]]
    body: Any


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
    runner: web.AppRunner | None = None
    site: web.TCPSite | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ari"

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
        if request.query.get("app") != APP or request.query.get("api_key") != f"{USER}:{PASSWORD}":
            return web.json_response({"message": "bad app/auth"}, status=401)
        if self.ws_status != 101:
            return web.json_response({"message": "nope"}, status=self.ws_status)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws_accepts += 1
        self.sockets.append(ws)
        for event in self.ws_on_open:
            await ws.send_str(json.dumps(event))
        async for _ in ws:
            pass
        return ws

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
