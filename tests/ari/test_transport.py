"""The ARI transport on its own (no endpoint wrappers): :class:`AriTransport.request`
over HTTP and over REST on the events websocket, the HTTP fallback when the socket is
closing, attach/detach, and how answers (including malformed ones) become results or
errors. The same request/response behaviours against a real Asterisk are in
``test_real_asterisk.py`` (same results and errors over both transports)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from vipcall.ari import AriConflict, AriError, AriNotFound, AriTransport, AriUnavailable
from vipcall.ari.codec import dumps, loads
from vipcall.ari.events import EventStream
from vipcall.ari.transport import WsRestTransport, encode_query, error_message

USER, PASSWORD, APP = "vipcall", "s3cret", "vipcall"


@asynccontextmanager
async def bare_transport(fake: Any, transport: str, **kw: Any) -> AsyncIterator[AriTransport]:
    """A plain AriTransport (not an AriClient); for "ws" an EventStream of it runs and
    the context is entered once its probe attached the websocket."""
    t = AriTransport(fake.base_url, USER, PASSWORD, APP, **kw)
    if transport == "http":
        try:
            yield t
        finally:
            await t.close()
        return
    stream = EventStream(t, backoff_initial=0.05, backoff_max=0.4)
    task = asyncio.create_task(stream.run(lambda ev: None))
    try:
        for _ in range(300):
            if t.ws_transport is not None:
                break
            await asyncio.sleep(0.01)
        assert t.transport == "websocket"
        yield t
    finally:
        stream.stop()
        await asyncio.wait_for(task, 3)
        await t.close()


@asynccontextmanager
async def manual_ws(
    t: AriTransport, url: str, feed: bool = True
) -> AsyncIterator[tuple[aiohttp.ClientWebSocketResponse, WsRestTransport]]:
    """An events websocket opened by hand, its WsRestTransport attached to ``t`` and
    (``feed``) a reader handing every RESTResponse to it: the transport without an
    EventStream."""
    async with aiohttp.ClientSession(headers={"Authorization": t.authorization}) as session:
        ws = await session.ws_connect(f"{url}/events?app={APP}")
        wst = WsRestTransport(ws)
        t.attach_websocket(wst)

        async def reader() -> None:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    doc = loads(msg.data)
                    if doc.get("type") == "RESTResponse":
                        wst.feed(doc)

        task = asyncio.create_task(reader()) if feed else None
        try:
            yield ws, wst
        finally:
            if task is not None:
                task.cancel()
            await ws.close()


# -- pure helpers -------------------------------------------------------------------


def test_encode_query() -> None:
    assert encode_query({"a": "x y", "b": None, "c": True, "d": False, "e": 3}) == (
        "a=x%20y&c=true&d=false&e=3"
    )
    # pairs keep order and repeats; every reserved character is escaped
    assert encode_query([("m", "sound:a,b"), ("m", "ä/&=+?#")]) == (
        "m=sound%3Aa%2Cb&m=%C3%A4%2F%26%3D%2B%3F%23"
    )
    assert encode_query({"x": None}) == ""


def test_error_message() -> None:
    assert error_message(b'{"message":"Channel not found"}') == "Channel not found"
    assert error_message('{"message":"Provided variable was not found"}') == (
        "Provided variable was not found"
    )
    assert error_message(b"") == "" and error_message("") == ""
    assert error_message(b"<html>\xffboom</html>") == "<html>\ufffdboom</html>"
    assert error_message("x" * 500) == "x" * 200
    assert error_message(b'{"error":"no message key"}') == '{"error":"no message key"}'


def test_codec_round_trip() -> None:
    doc = {"type": "RESTRequest", "message_body": 'ä "q"', "n": [1, None, True]}
    data = dumps(doc)
    assert data == '{"type":"RESTRequest","message_body":"ä \\"q\\"","n":[1,null,true]}'.encode()
    assert loads(data) == doc and loads(data.decode()) == doc
    with pytest.raises(ValueError):
        loads(b"{nope")


# -- AriTransport.request against the fake ARI, both transports ---------------------


async def test_transport_alone_request_results(fake_ari: Any, transport: str) -> None:
    fake_ari.route("GET", "/things/a%2Fb", 200, {"id": "a/b", "n": [1, 2]})
    fake_ari.route("POST", "/things", 200, {"ok": True})
    fake_ari.route("GET", "/things/gone", 404, {"message": "Thing not found"})
    fake_ari.route("POST", "/things/busy", 409, {"message": "Thing busy"})
    fake_ari.route("GET", "/things/down", 503, {"message": "not ready"})
    async with bare_transport(fake_ari, transport) as t:
        assert await t.request("GET", "/things/a%2Fb") == {"id": "a/b", "n": [1, 2]}
        assert await t.request("DELETE", "/things/x") is None  # 204
        got = await t.request(
            "POST", "/things", [("k", "a b&c"), ("skip", None), ("on", True)], {"v": ["ä"]}
        )
        assert got == {"ok": True}
        with pytest.raises(AriNotFound) as nf:
            await t.request("GET", "/things/gone")
        with pytest.raises(AriConflict):
            await t.request("POST", "/things/busy")
        with pytest.raises(AriUnavailable) as un:
            await t.request("GET", "/things/down")
    assert (nf.value.status, nf.value.path, nf.value.message) == (
        404,
        "/things/gone",
        "Thing not found",
    )
    assert un.value.status == 503 and un.value.message == "not ready"
    post = next(r for r in fake_ari.requests if r.path == "/things")
    assert post.query == [("k", "a b&c"), ("on", "true")] and post.body == {"v": ["ä"]}
    assert {r.via for r in fake_ari.requests if r.path.startswith("/things")} == {transport}


async def test_http_error_body_not_json_and_bad_json(fake_ari: Any) -> None:
    """HTTP only: the fake answers bytes bodies with 406 over the websocket (like
    Asterisk); the websocket side is checked with a scripted server below."""
    fake_ari.route("GET", "/oops", 500, b"Internal Server Error")
    fake_ari.route("GET", "/garbage", 200, b"{not json")
    async with bare_transport(fake_ari, "http") as t:
        with pytest.raises(AriError) as info:
            await t.request("GET", "/oops")
        assert type(info.value) is AriError
        assert (info.value.status, info.value.message) == (500, "Internal Server Error")
        with pytest.raises(AriError) as bad:
            await t.request("GET", "/garbage")
        assert type(bad.value) is AriError and bad.value.status == 200
        assert bad.value.message.startswith("bad JSON")
        assert await t.request("GET", "/garbage", raw=True) == b"{not json"
        with pytest.raises(AriError):  # raw requests still map error statuses
            await t.request("GET", "/oops", raw=True)


async def test_closing_socket_falls_back_to_http(fake_ari: Any) -> None:
    """The socket closed but nobody detached it yet (the EventStream has not seen the
    close): the frame cannot be sent, so the request goes over HTTP, not an error."""
    fake_ari.route("GET", "/channels/c1", 200, {"id": "c1"})
    async with AriTransport(fake_ari.base_url, USER, PASSWORD, APP) as t:
        async with manual_ws(t, fake_ari.base_url) as (ws, wst):
            assert await t.request("GET", "/channels/c1") == {"id": "c1"}
            await ws.close()
            assert t.ws_transport is wst and not wst.closed
            assert await t.request("GET", "/channels/c1") == {"id": "c1"}
            assert not wst.pending
    assert [r.via for r in fake_ari.requests] == ["ws", "http"]


async def test_detach_fails_waiting_requests_and_later_use_http(fake_ari: Any) -> None:
    fake_ari.route("POST", "/slow", 204, None, delay=2.0)
    async with AriTransport(fake_ari.base_url, USER, PASSWORD, APP, request_timeout=5) as t:
        async with manual_ws(t, fake_ari.base_url) as (_ws, wst):
            waiting = asyncio.create_task(t.request("POST", "/slow"))
            for _ in range(300):
                if wst.pending:
                    break
                await asyncio.sleep(0.01)
            t.detach_websocket(wst, "closed, code 1000")
            assert t.ws_transport is None and t.transport == "http" and wst.closed
            with pytest.raises(AriUnavailable) as info:
                await waiting
            assert info.value.message == "websocket lost: closed, code 1000"
            await t.request("POST", "/after")
            # A stale reference to a failed transport never takes a request again.
            t.attach_websocket(wst)
            await t.request("POST", "/stale")
            # Detaching a transport that is not the attached one leaves the attached one.
            other = WsRestTransport(_ws)
            t.detach_websocket(other, "other")
            assert t.ws_transport is wst
    vias = {r.path: r.via for r in fake_ari.requests}
    assert vias == {"/slow": "ws", "/after": "http", "/stale": "http"}


# -- malformed RESTResponses (a scripted websocket server) --------------------------


Answer = Callable[[dict[str, Any]], dict[str, Any] | None]


@asynccontextmanager
async def scripted_ari(answer: Answer) -> AsyncIterator[str]:
    """An events websocket that answers each RESTRequest with ``answer(request)`` (plus
    the request_id; ``None``: no answer). Yields the ARI base URL."""

    async def events(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            doc = json.loads(msg.data)
            reply = answer(doc)
            if reply is not None:
                reply = {"type": "RESTResponse", "request_id": doc["request_id"], **reply}
                await ws.send_str(json.dumps(reply))
        return ws

    app = web.Application()
    app.router.add_get("/ari/events", events)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/ari"
    finally:
        await runner.cleanup()


async def test_ws_answers_mapped_like_http() -> None:
    def answer(req: dict[str, Any]) -> dict[str, Any] | None:
        uri = req["uri"]
        if uri == "ok":
            return {"status_code": 200, "message_body": '{"a":1}'}
        if uri == "empty":
            return {"status_code": 204}
        if uri == "garbage":
            return {"status_code": 200, "message_body": "{not json"}
        if uri == "text-error":
            return {"status_code": 500, "message_body": "Internal Server Error"}
        if uri == "no-status":
            return {"message_body": '{"a":1}'}
        if uri == "echo?x=1":
            return {"status_code": 200, "message_body": json.dumps(req)}
        return None  # "silent": never answered

    async with scripted_ari(answer) as url:
        t = AriTransport(url, USER, PASSWORD, APP, request_timeout=0.3)
        async with manual_ws(t, url) as (_ws, wst):
            assert await t.request("GET", "/ok") == {"a": 1}
            assert await t.request("GET", "/empty") is None
            with pytest.raises(AriError) as bad:
                await t.request("GET", "/garbage")
            assert bad.value.status == 200 and bad.value.message.startswith("bad JSON")
            with pytest.raises(AriError) as text:
                await t.request("GET", "/text-error")
            assert (text.value.status, text.value.message) == (500, "Internal Server Error")
            with pytest.raises(AriError) as nostatus:
                await t.request("GET", "/no-status")
            assert type(nostatus.value) is AriError and nostatus.value.status == 0
            echoed = await t.request("PUT", "/echo", {"x": 1}, {"b": 'ä "q"'})
            assert echoed["method"] == "PUT" and echoed["uri"] == "echo?x=1"
            assert echoed["content_type"] == "application/json"
            assert json.loads(echoed["message_body"]) == {"b": 'ä "q"'}
            with pytest.raises(AriUnavailable) as timeout:
                await t.request("GET", "/silent")
            assert (timeout.value.status, timeout.value.message) == (0, "timeout")
            assert not wst.pending
            # unknown / late answers are dropped without effect
            wst.feed({"type": "RESTResponse", "request_id": "nobody", "status_code": 200})
            assert await t.request("GET", "/ok") == {"a": 1}
        await t.close()
