"""AriClient REST wrappers and error mapping against the in-process fake ARI, over both
transports (HTTP and REST over the events websocket) where both apply."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from vipcall.ari import AriClient, AriConflict, AriError, AriNotFound, AriUnavailable

from .conftest import ari_client

USER, PASSWORD, APP = "vipcall", "s3cret", "vipcall"


def make_client(fake: Any, **kw: Any) -> AriClient:
    return AriClient(fake.base_url, USER, PASSWORD, APP, **kw)


async def test_404_is_ari_not_found(fake_ari: Any, transport: str) -> None:
    fake_ari.route("POST", "/channels/gone.1/answer", 404, {"message": "Channel not found"})
    async with ari_client(fake_ari, transport) as (ari, _):
        with pytest.raises(AriNotFound) as info:
            await ari.answer("gone.1")
    err = info.value
    assert (err.status, err.method, err.path, err.message) == (
        404,
        "POST",
        "/channels/gone.1/answer",
        "Channel not found",
    )
    assert isinstance(err, AriError)
    assert fake_ari.requests[-1].via == transport


async def test_409_is_conflict_and_500_plain_error(fake_ari: Any, transport: str) -> None:
    fake_ari.route("POST", "/channels/c1/continue", 409, {"message": "Channel not in Stasis"})
    fake_ari.route("DELETE", "/bridges/b1", 500, {"message": "boom"})
    async with ari_client(fake_ari, transport) as (ari, _):
        with pytest.raises(AriConflict):
            await ari.continue_in_dialplan("c1", "vipcall-ring", "s", 1)
        with pytest.raises(AriError) as info:
            await ari.destroy_bridge("b1")
    assert type(info.value) is AriError
    assert info.value.status == 500 and info.value.message == "boom"


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with AriClient(f"http://127.0.0.1:{port}/ari", USER, PASSWORD, APP) as ari:
        with pytest.raises(AriUnavailable) as info:
            await ari.asterisk_info()
    assert info.value.status == 0


async def test_timeout_is_unavailable(fake_ari: Any, transport: str) -> None:
    fake_ari.route("GET", "/asterisk/info", 200, {"x": 1}, delay=1.0)
    async with ari_client(fake_ari, transport, request_timeout=0.2) as (ari, _):
        with pytest.raises(AriUnavailable) as info:
            await ari.asterisk_info()
        assert info.value.message == "timeout"
        if transport == "ws":
            assert ari.ws_transport is not None and not ari.ws_transport.pending
            # The late answer is dropped; the transport goes on working.
            await asyncio.sleep(1.0)
            fake_ari.route("GET", "/asterisk/info", 200, {"x": 2})
            assert await ari.asterisk_info() == {"x": 2}


async def test_request_shapes(fake_ari: Any, transport: str) -> None:
    fake_ari.route("POST", "/channels/c1/play", 201, {"id": "pb1", "state": "queued"})
    fake_ari.route("POST", "/channels", 200, {"id": "new1", "state": "Down"})
    fake_ari.route("GET", "/asterisk/variable", 200, {"value": "PJSIP/+358401@mobile"})
    fake_ari.route("GET", "/recordings/stored/vm%2Fmsg1/file", 200, b"RIFF....WAVE")
    fake_ari.route(
        "PUT",
        "/asterisk/config/dynamic/res_pjsip/auth/sp-7-1",
        200,
        [{"attribute": "username", "value": "u7"}],
    )
    async with ari_client(fake_ari, transport) as (ari, _):
        pb = await ari.play("c1", ["sound:hello", "sound:world"], playback_id="pb1", lang="fi")
        assert pb["id"] == "pb1"
        await ari.hangup("c1", reason="busy")
        await ari.record("c1", "vm/msg1", max_duration_seconds=180, beep=True, terminate_on="#")
        ch = await ari.originate(
            "PJSIP/+358401@mobile",
            app_args=["dialed", "x"],
            caller_id="+35891",
            variables={"VIP_A": "1"},
            channel_id="new1",
        )
        assert ch["id"] == "new1"
        assert await ari.get_global_var("VIP_X") == "PJSIP/+358401@mobile"
        await ari.db_put("vipcall-ring", "+358401", "PJSIP/+358401@mobile")
        assert await ari.get_stored_recording_file("vm/msg1") == b"RIFF....WAVE"
        tuples = await ari.put_dynamic_config(
            "res_pjsip", "auth", "sp-7-1", {"auth_type": "userpass", "username": "u7"}
        )
        assert tuples == [{"attribute": "username", "value": "u7"}]
        await ari.add_channel_to_bridge("b1", ["c1", "c2"])
        await ari.continue_in_dialplan("c1", "vipcall-ring", "s", 1)
    seen = {(r.method, r.path): r for r in fake_ari.requests}
    for (method, path), r in seen.items():
        # binary bodies (recording files) always travel over HTTP
        want = "http" if path.endswith("/file") else transport
        assert r.via == want, (method, path, r.via)
    assert seen[("POST", "/channels/c1/play")].query == [
        ("media", "sound:hello,sound:world"),
        ("lang", "fi"),
        ("playbackId", "pb1"),
    ]
    assert seen[("DELETE", "/channels/c1")].query == [("reason", "busy")]
    rec = dict(seen[("POST", "/channels/c1/record")].query)
    assert rec == {
        "name": "vm/msg1",
        "format": "wav",
        "maxDurationSeconds": "180",
        "maxSilenceSeconds": "0",
        "ifExists": "overwrite",
        "beep": "true",
        "terminateOn": "#",
    }
    orig = seen[("POST", "/channels")]
    assert dict(orig.query) == {
        "endpoint": "PJSIP/+358401@mobile",
        "app": APP,
        "appArgs": "dialed,x",
        "callerId": "+35891",
        "timeout": "30",
        "channelId": "new1",
    }
    assert orig.body == {"variables": {"VIP_A": "1"}}
    assert seen[("GET", "/asterisk/variable")].query == [("variable", "VIP_X")]
    assert seen[("POST", "/asterisk/variable")].query == [
        ("variable", "DB(vipcall-ring/+358401)"),
        ("value", "PJSIP/+358401@mobile"),
    ]
    dyn = seen[("PUT", "/asterisk/config/dynamic/res_pjsip/auth/sp-7-1")]
    assert dyn.body == {
        "fields": [
            {"attribute": "auth_type", "value": "userpass"},
            {"attribute": "username", "value": "u7"},
        ]
    }
    assert seen[("POST", "/bridges/b1/addChannel")].query == [("channel", "c1,c2")]
    assert dict(seen[("POST", "/channels/c1/continue")].query) == {
        "context": "vipcall-ring",
        "extension": "s",
        "priority": "1",
    }


async def test_session_is_reused_and_lazily_created(fake_ari: Any) -> None:
    ari = make_client(fake_ari)
    assert ari._session is None
    await ari.answer("a")
    first = ari._session
    await ari.answer("b")
    assert ari._session is first
    await ari.close()
    await ari.close()  # idempotent
    assert ari._session is None


# -- REST over the events websocket -------------------------------------------------


async def test_ws_transport_is_used_once_probed(fake_ari: Any) -> None:
    fake_ari.route("GET", "/channels/c1", 200, {"id": "c1", "state": "Up"})
    async with ari_client(fake_ari, "ws") as (ari, _):
        assert ari.transport == "websocket"
        assert await ari.get_channel("c1") == {"id": "c1", "state": "Up"}
    vias = [(r.method, r.path, r.via) for r in fake_ari.requests]
    assert vias == [("GET", "/asterisk/ping", "ws"), ("GET", "/channels/c1", "ws")]
    first = fake_ari.ws_raw_sent[0]
    assert first.startswith('{"type":"RESTRequest","request_id":"')
    assert ari.transport == "http"  # stream stopped: back to HTTP


async def test_ws_json_body_and_query(fake_ari: Any) -> None:
    async with ari_client(fake_ari, "ws") as (ari, _):
        await ari.originate("PJSIP/+358401@mobile", variables={"VIP_A": 'ä "q"'})
        await ari.set_global_var("DB(f/+358 1&2)", "a+b c=d")
    orig = next(r for r in fake_ari.requests if r.path == "/channels")
    assert orig.via == "ws" and orig.body == {"variables": {"VIP_A": 'ä "q"'}}
    var = next(r for r in fake_ari.requests if r.path == "/asterisk/variable")
    assert var.query == [("variable", "DB(f/+358 1&2)"), ("value", "a+b c=d")]


async def test_ws_concurrent_requests_matched_by_id(fake_ari: Any) -> None:
    """Answers arrive out of order (different delays); each lands at its own caller."""
    for i in range(20):
        fake_ari.route("GET", f"/channels/c{i}", 200, {"id": f"c{i}"}, delay=(20 - i) * 0.005)
    async with ari_client(fake_ari, "ws") as (ari, _):
        got = await asyncio.gather(*(ari.get_channel(f"c{i}") for i in range(20)))
        assert ari.ws_transport is not None and not ari.ws_transport.pending
    assert [g["id"] for g in got] == [f"c{i}" for i in range(20)]


async def test_raw_requests_use_http_even_with_ws(fake_ari: Any) -> None:
    fake_ari.route("GET", "/recordings/stored/vm-1/file", 200, b"RIFF\x00\x01WAVE")
    async with ari_client(fake_ari, "ws") as (ari, _):
        assert await ari.get_stored_recording_file("vm-1") == b"RIFF\x00\x01WAVE"
        await ari.delete_stored_recording("vm-1")
    vias = {(r.method, r.path): r.via for r in fake_ari.requests}
    assert vias[("GET", "/recordings/stored/vm-1/file")] == "http"
    assert vias[("DELETE", "/recordings/stored/vm-1")] == "ws"


async def test_rest_over_websocket_can_be_turned_off(fake_ari: Any, wait_until: Any) -> None:
    ari = AriClient(fake_ari.base_url, USER, PASSWORD, APP, rest_over_websocket=False)
    stream = ari.events(backoff_initial=0.05)
    task = asyncio.create_task(stream.run(lambda ev: None))
    try:
        await asyncio.wait_for(stream.ready.wait(), 3)
        await ari.answer("c1")
        assert ari.transport == "http"
    finally:
        stream.stop()
        await asyncio.wait_for(task, 3)
        await ari.close()
    assert [(r.path, r.via) for r in fake_ari.requests] == [("/channels/c1/answer", "http")]
    assert fake_ari.ws_raw_sent == []


async def test_server_without_ws_rest_keeps_http(fake_ari: Any, caplog: Any) -> None:
    """Asterisk before 22.4 ignores RESTRequest: the probe times out, HTTP stays."""
    fake_ari.ws_rest = False
    ari = AriClient(fake_ari.base_url, USER, PASSWORD, APP, request_timeout=0.3)
    stream = ari.events(backoff_initial=0.05)
    task = asyncio.create_task(stream.run(lambda ev: None))
    try:
        await asyncio.wait_for(stream.ready.wait(), 3)
        await ari.answer("c1")  # while the probe is still out
        await asyncio.sleep(0.5)
        await ari.answer("c2")
        assert ari.transport == "http" and stream.connected.is_set()
    finally:
        stream.stop()
        await asyncio.wait_for(task, 3)
        await ari.close()
    assert [r.via for r in fake_ari.requests] == ["http", "http"]
    assert "needs Asterisk 22.4+" in caplog.text


async def test_ws_loss_fails_pending_then_http_then_ws_again(
    fake_ari: Any, wait_until: Any
) -> None:
    fake_ari.route("POST", "/channels/slow/continue", 204, None, delay=5.0)
    async with ari_client(fake_ari, "ws", request_timeout=3.0) as (ari, stream):
        assert stream is not None
        pending = [asyncio.create_task(ari.continue_in_dialplan("slow", "x")) for _ in range(3)]
        await wait_until(lambda: len(ari.ws_transport.pending) == 3)  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await fake_ari.drop()
        for task in pending:
            with pytest.raises(AriUnavailable) as info:
                await task
            assert info.value.status == 0 and "websocket lost" in info.value.message
        assert loop.time() - t0 < 1.0  # failed at once, not by the 3 s timeout
        await ari.answer("during-reconnect")  # whatever the state: it works
        await wait_until(lambda: stream.connections == 2 and ari.ws_transport is not None)
        await ari.answer("after")
    vias = {r.path: r.via for r in fake_ari.requests}
    assert vias["/channels/after/answer"] == "ws"


async def test_ws_request_while_down_uses_http(fake_ari: Any, wait_until: Any) -> None:
    """Websocket refused (503) but HTTP fine: requests go over HTTP."""
    async with ari_client(fake_ari, "ws") as (ari, stream):
        assert stream is not None
        fake_ari.ws_status = 503
        await fake_ari.drop()
        await wait_until(lambda: not stream.connected.is_set())
        assert ari.transport == "http"
        await ari.answer("c9")
        fake_ari.ws_status = 101
        await wait_until(lambda: ari.ws_transport is not None)
    assert next(r for r in fake_ari.requests if r.path == "/channels/c9/answer").via == "http"
