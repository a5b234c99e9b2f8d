"""The same client behaviours against a real Asterisk 22 (vipcall.sandbox chroot), over
both REST transports: HTTP and REST over the events websocket (Asterisk 22.4+).

Own instance ``ari-ws-tests`` on SIP 27060 / ARI 28089 / RTP 29000-29999 so it never
collides with other suites. The ``asterisk`` fixture is in conftest.py. Run:
``pytest -m e2e tests/ari``.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import uuid
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from vipcall.ari import AriClient, AriNotFound, AriUnavailable, EventStream

pytestmark = pytest.mark.e2e

def client_for(inst: Any, **kw: Any) -> AriClient:
    return AriClient(inst.ari_url, inst.ari_user, inst.ari_password, inst.ari_app, **kw)


@asynccontextmanager
async def streaming(
    inst: Any, handler: Any, on_connect: Any = None, transport: str = "ws"
) -> AsyncIterator[tuple[AriClient, EventStream]]:
    """Client + running EventStream; with ``transport="ws"`` entered once REST goes over
    the websocket, with ``"http"`` the client never uses it."""
    client = client_for(inst, rest_over_websocket=transport == "ws")
    stream = client.events(backoff_initial=0.1, backoff_max=1.0)
    task = asyncio.create_task(stream.run(handler, on_connect))
    try:
        await asyncio.wait_for(stream.ready.wait(), 20)
        if transport == "ws":
            await wait_for(lambda: client.ws_transport is not None, timeout=20)
        assert client.transport == ("websocket" if transport == "ws" else "http")
        yield client, stream
    finally:
        stream.stop()
        await asyncio.wait_for(task, 5)
        await client.close()


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


@pytest.fixture(params=["http", "ws"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_asterisk_info(asterisk: Any, transport: str) -> None:
    async with streaming(asterisk, lambda ev: None, transport=transport) as (ari, _):
        info = await ari.asterisk_info()
        assert info["system"]["version"].startswith("22.")
        assert (await ari.ping())["ping"] == "pong"


async def test_unknown_channel_and_bridge_are_not_found(asterisk: Any, transport: str) -> None:
    async with streaming(asterisk, lambda ev: None, transport=transport) as (ari, _):
        for coro in (
            ari.answer("no-such-channel"),
            ari.hangup("no-such-channel"),
            ari.get_channel("no-such-channel"),
            ari.destroy_bridge("no-such-bridge"),
            ari.play("no-such-channel", "sound:beep"),
        ):
            with pytest.raises(AriNotFound) as info:
                await coro
            assert info.value.status == 404
            assert info.value.message.endswith("not found"), info.value.message


async def test_astdb_write_via_global_var(asterisk: Any, transport: str) -> None:
    """DB() writes through POST /asterisk/variable land in AstDB (the fail-open dialplan
    reads them); needs live_dangerously=yes in the sandbox's asterisk.conf."""
    key = f"+35840{uuid.uuid4().int % 10**7:07d}"
    async with streaming(asterisk, lambda ev: None, transport=transport) as (ari, _):
        await ari.db_put("vipcall-test", key, "PJSIP/+358401234567@mobile")
        out = asterisk.cli(f"database get vipcall-test {key}")
        assert "PJSIP/+358401234567@mobile" in out, (out, asterisk.log_tail(5))
        await ari.db_clear("vipcall-test", key)
        out = asterisk.cli(f"database get vipcall-test {key}")
        assert "PJSIP/" not in out
        await ari.set_global_var("VIPCALL_TEST_GLOBAL", "x1")
        assert await ari.get_global_var("VIPCALL_TEST_GLOBAL") == "x1"
    asterisk.cli(f"database del vipcall-test {key}")


async def test_stasis_start_answer_bridge_hangup_stasis_end(asterisk: Any, transport: str) -> None:
    """Originate a Local channel whose ;2 half enters the app through [vipcall-inbound];
    answering it answers ;1, which enters the app with our appArgs. Then bridge, hang up."""
    events: list[dict[str, Any]] = []
    async with streaming(asterisk, events.append, transport=transport) as (ari, _stream):
        ch1 = await ari.originate(
            "Local/+358401234567@vipcall-inbound", app_args=["test", "x"], timeout=10
        )
        leg1 = ch1["id"]

        def starts() -> dict[str, dict[str, Any]]:
            return {e["channel"]["id"]: e for e in events if e["type"] == "StasisStart"}

        await wait_for(lambda: len(starts()) >= 1)
        inbound = next(e for e in starts().values() if e["channel"]["id"] != leg1)
        leg2 = inbound["channel"]["id"]
        assert inbound["args"][0] == "in"
        await ari.set_channel_var(leg2, "VIP_X", "42")
        assert await ari.get_channel_var(leg2, "VIP_X") == "42"
        with pytest.raises(AriNotFound):
            await ari.get_channel_var(leg2, "VIP_UNSET")
        # AstDB read/delete are evaluated on a channel.
        await ari.db_put("vipcall-test", "chan", "v1")
        assert await ari.db_get(leg2, "vipcall-test", "chan") == "v1"
        assert await ari.db_delete(leg2, "vipcall-test", "chan") == "v1"
        assert await ari.db_get(leg2, "vipcall-test", "chan") == ""
        await ari.answer(leg2)
        await wait_for(lambda: leg1 in starts())
        assert starts()[leg1]["args"] == ["test", "x"]
        assert {c["id"] for c in await ari.list_channels()} >= {leg1, leg2}

        bridge = await ari.create_bridge(name="ari-test")
        await ari.add_channel_to_bridge(bridge["id"], leg1)
        await wait_for(lambda: any(e["type"] == "ChannelEnteredBridge" for e in events))
        listed = {b["id"]: b for b in await ari.list_bridges()}
        assert listed[bridge["id"]]["channels"] == [leg1]

        await ari.hangup(leg1)
        await wait_for(
            lambda: {e["channel"]["id"] for e in events if e["type"] == "StasisEnd"} == {leg1, leg2}
        )
        with pytest.raises(AriNotFound):
            await ari.hangup(leg1)  # racing a hangup: gone is a distinct error
        await ari.destroy_bridge(bridge["id"])


async def test_handler_exception_keeps_stream(asterisk: Any, transport: str) -> None:
    seen: list[str] = []

    def handler(ev: dict[str, Any]) -> None:
        seen.append(ev["type"])
        raise RuntimeError("handler bug")

    async with streaming(asterisk, handler, transport=transport) as (ari, stream):
        ch = await ari.originate("Local/+358401234567@vipcall-inbound", timeout=5)
        await wait_for(lambda: "StasisStart" in seen)
        await ari.hangup(ch["id"])
        await wait_for(lambda: "StasisEnd" in seen)
        assert stream.connections == 1 and stream.connected.is_set()


async def test_reconnects_after_asterisk_restart(asterisk: Any) -> None:
    """Asterisk goes away (socket closed, then connection refused) and comes back:
    the stream reconnects on its own and on_connect (reconcile) runs again."""
    connects = 0

    async def on_connect() -> None:
        nonlocal connects
        connects += 1
        await ari.list_channels()  # a reconcile does REST calls here
        await ari.list_bridges()

    ari = client_for(asterisk)
    stream = ari.events(backoff_initial=0.1, backoff_max=1.0)
    task = asyncio.create_task(stream.run(lambda ev: None, on_connect))
    try:
        await asyncio.wait_for(stream.ready.wait(), 20)
        assert connects == 1
        await asyncio.to_thread(asterisk.stop)
        await wait_for(lambda: not stream.connected.is_set())
        await asyncio.sleep(1.0)  # a while with the port closed
        assert connects == 1 and not task.done()
        await asyncio.to_thread(asterisk.start)
        await wait_for(lambda: connects == 2, timeout=10)
        await asyncio.wait_for(stream.ready.wait(), 20)
        assert stream.connections == 2
        info = await ari.asterisk_info()  # the REST pool recovers too
        assert info["system"]["version"].startswith("22.")
    finally:
        stream.stop()
        await asyncio.wait_for(task, 5)
        await ari.close()


# -- REST over the events websocket (Asterisk 22.4+) -----------------------------------


async def _stasis_channel(ari: AriClient, events: list[dict[str, Any]]) -> str:
    """A Local channel's ;2 half parked in our app (via [vipcall-inbound]); its id."""
    leg1 = (await ari.originate("Local/+358401234567@vipcall-inbound", timeout=10))["id"]
    await wait_for(
        lambda: any(e["type"] == "StasisStart" and e["channel"]["id"] != leg1 for e in events)
    )
    return next(
        e["channel"]["id"]
        for e in events
        if e["type"] == "StasisStart" and e["channel"]["id"] != leg1
    )


async def test_ws_and_http_give_the_same_results(asterisk: Any) -> None:
    events: list[dict[str, Any]] = []
    async with streaming(asterisk, events.append) as (ws_ari, _stream):
        async with client_for(asterisk, rest_over_websocket=False) as http_ari:
            assert ws_ari.transport == "websocket" and http_ari.transport == "http"
            chan = await _stasis_channel(ws_ari, events)
            value = 'ä ö "q" a+b c&d=e %41'
            await ws_ari.set_channel_var(chan, "VIP_WS", value)
            await http_ari.set_channel_var(chan, "VIP_HTTP", value)
            for name in ("VIP_WS", "VIP_HTTP"):
                assert await ws_ari.get_channel_var(chan, name) == value
                assert await http_ari.get_channel_var(chan, name) == value
            over_ws = await ws_ari.get_channel(chan)
            over_http = await http_ari.get_channel(chan)
            assert over_ws == over_http and over_ws["id"] == chan
            ws_list = sorted(c["id"] for c in await ws_ari.list_channels())
            assert ws_list == sorted(c["id"] for c in await http_ari.list_channels())
            info_ws, info_http = await ws_ari.asterisk_info(), await http_ari.asterisk_info()
            assert info_ws["system"] == info_http["system"]
            assert info_ws["config"] == info_http["config"]
            # JSON body (originate variables) and a PUT body (dynamic config)
            ch2 = await ws_ari.originate(
                "Local/+358401234567@vipcall-inbound",
                variables={"VIP_BODY": "from-ws"},
                timeout=5,
            )
            assert await http_ari.get_channel_var(ch2["id"], "VIP_BODY") == "from-ws"
            await ws_ari.hangup(ch2["id"])
            ep = f"ws-{uuid.uuid4().hex[:8]}"
            fields = {"auth_type": "userpass", "username": ep, "password": "pw"}
            put = await ws_ari.put_dynamic_config("res_pjsip", "auth", ep, fields)
            got = {t["attribute"]: t["value"] for t in put}
            assert got["username"] == ep
            back = await http_ari.get_dynamic_config("res_pjsip", "auth", ep)
            assert {t["attribute"]: t["value"] for t in back}["username"] == ep
            await ws_ari.delete_dynamic_config("res_pjsip", "auth", ep)
            with pytest.raises(AriNotFound):
                await http_ari.get_dynamic_config("res_pjsip", "auth", ep)
            await ws_ari.hangup(chan)


async def test_404_over_ws_is_not_found_like_http(asterisk: Any) -> None:
    async with streaming(asterisk, lambda ev: None) as (ws_ari, _):
        async with client_for(asterisk, rest_over_websocket=False) as http_ari:
            errors = []
            for ari in (ws_ari, http_ari):
                with pytest.raises(AriNotFound) as info:
                    await ari.get_channel_var("no-such-channel", "X")
                e = info.value
                errors.append((type(e), e.status, e.method, e.path, e.message))
                with pytest.raises(AriNotFound):
                    await ari.request("GET", "/no/such/resource")
            assert errors[0] == errors[1]
            assert errors[0][1:] == (
                404,
                "GET",
                "/channels/no-such-channel/variable",
                "Provided channel was not found",
            )
            assert ws_ari.transport == "websocket"


@pytest.mark.skip(
    reason="flaky in one clean-clone CI run (the 5 requests never all showed as pending over "
    "the websocket after SIGSTOP; not reproduced in 5 runs alone); the same logic is covered "
    "deterministically in test_events_fake, and reconnect after a restart in "
    "test_reconnects_after_asterisk_restart"
)
async def test_asterisk_dies_with_requests_pending_then_ws_again(asterisk: Any) -> None:
    """Asterisk frozen (SIGSTOP) while requests are out, then killed: the requests fail
    with AriUnavailable at once (not by their timeout); after a restart the stream
    reconnects and REST goes over the websocket again."""
    events: list[dict[str, Any]] = []
    ari = client_for(asterisk, request_timeout=8.0)
    stream = ari.events(backoff_initial=0.1, backoff_max=1.0)
    task = asyncio.create_task(stream.run(events.append))
    try:
        await wait_for(lambda: ari.ws_transport is not None, 15)
        pid = asterisk._pid()
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            pending = [asyncio.create_task(ari.ping()) for _ in range(5)]
            await wait_for(lambda: len(ari.ws_transport.pending) == 5, 15)  # type: ignore[union-attr]
        finally:
            os.kill(pid, signal.SIGKILL)
            os.kill(pid, signal.SIGCONT)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for fut in pending:
            with pytest.raises(AriUnavailable) as info:
                await fut
            assert info.value.status == 0 and "websocket lost" in info.value.message
        assert loop.time() - t0 < 6.0, "failed by the lost socket, not by the 8 s timeout"
        await wait_for(lambda: not stream.connected.is_set(), 15)
        assert ari.transport == "http"
        with pytest.raises(AriUnavailable):
            await ari.ping()  # down: HTTP refused
        await asyncio.to_thread(asterisk.stop)
        await asyncio.to_thread(asterisk.start)
        await wait_for(lambda: stream.connections == 2 and ari.ws_transport is not None, 15)
        assert (await ari.ping())["ping"] == "pong"
        info2 = await ari.asterisk_info()
        assert info2["system"]["version"].startswith("22.")
        assert ari.transport == "websocket"
    finally:
        stream.stop()
        await asyncio.wait_for(task, 5)
        await ari.close()


def _wav(seconds: float = 0.2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(int(8000 * seconds) * 2))
    return buf.getvalue()


async def test_binary_recording_download_with_ws_transport(asterisk: Any) -> None:
    """Stored recording files come over HTTP even while REST goes over the websocket
    (Asterisk answers 406 to a file GET on the websocket)."""
    name = f"ari-ws-{uuid.uuid4().hex[:8]}"
    audio = _wav()
    path = asterisk.host_dir / "spool" / "recording" / f"{name}.wav"
    path.write_bytes(audio)
    try:
        async with streaming(asterisk, lambda ev: None) as (ari, _):
            listed = {r["name"] for r in await ari.list_stored_recordings()}
            assert name in listed
            assert await ari.get_stored_recording_file(name) == audio
            wst = ari.ws_transport
            assert wst is not None
            raw = await wst.call("GET", f"/recordings/stored/{name}/file", "", None, 5.0)
            assert raw["status_code"] == 406, raw
            await ari.delete_stored_recording(name)
            with pytest.raises(AriNotFound):
                await ari.get_stored_recording_file(name)
    finally:
        path.unlink(missing_ok=True)
