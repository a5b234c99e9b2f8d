"""EventStream supervision against the in-process fake ARI: reconnect, backoff,
on_connect on every connect, buffering during on_connect, handler errors, stop()."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from vipcall.ari import AriClient, EventStream

USER, PASSWORD, APP = "vipcall", "s3cret", "vipcall"


@asynccontextmanager
async def running(
    fake: Any, handler: Any, on_connect: Any = None, **kw: Any
) -> AsyncIterator[EventStream]:
    kw.setdefault("backoff_initial", 0.05)
    kw.setdefault("backoff_max", 0.4)
    client = AriClient(fake.base_url, USER, PASSWORD, APP)
    stream = client.events(**kw)
    task = asyncio.create_task(stream.run(handler, on_connect))
    try:
        yield stream
    finally:
        stream.stop()
        await asyncio.wait_for(task, 3)
        await client.close()


async def test_connects_calls_on_connect_and_delivers(fake_ari: Any, wait_until: Any) -> None:
    got: list[dict[str, Any]] = []
    calls = 0

    async def on_connect() -> None:
        nonlocal calls
        calls += 1

    async with running(fake_ari, got.append, on_connect) as stream:
        await asyncio.wait_for(stream.ready.wait(), 3)
        assert stream.connected.is_set() and calls == 1
        await fake_ari.send({"type": "StasisStart", "channel": {"id": "c1"}, "args": ["in"]})
        await wait_until(lambda: len(got) == 1)
    assert got[0]["channel"]["id"] == "c1"
    assert not stream.connected.is_set()


async def test_events_wait_for_on_connect_in_order(fake_ari: Any, wait_until: Any) -> None:
    """Events arriving during reconciliation are buffered, then delivered in order."""
    fake_ari.ws_on_open = [{"type": "E", "n": i} for i in range(3)]
    got: list[int] = []
    release = asyncio.Event()
    log: list[str] = []

    async def on_connect() -> None:
        log.append("reconcile-start")
        await release.wait()
        log.append("reconcile-end")

    def handler(ev: dict[str, Any]) -> None:
        log.append("event")
        got.append(ev["n"])

    async with running(fake_ari, handler, on_connect) as stream:
        await asyncio.wait_for(stream.connected.wait(), 3)
        await asyncio.sleep(0.1)  # the 3 events have surely arrived by now
        assert got == [] and not stream.ready.is_set()
        release.set()
        await wait_until(lambda: len(got) == 3)
        await fake_ari.send({"type": "E", "n": 3})
        await wait_until(lambda: len(got) == 4)
    assert got == [0, 1, 2, 3]
    assert log[:2] == ["reconcile-start", "reconcile-end"]


async def test_handler_exception_does_not_kill_loop(
    fake_ari: Any, wait_until: Any, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[int] = []

    def handler(ev: dict[str, Any]) -> None:
        if ev["n"] == 1:
            raise RuntimeError("bug in handler")
        got.append(ev["n"])

    async with running(fake_ari, handler) as stream:
        await asyncio.wait_for(stream.ready.wait(), 3)
        for n in range(3):
            await fake_ari.send({"type": "E", "n": n})
        await wait_until(lambda: got == [0, 2])
        assert stream.connections == 1  # same connection survived
    assert "bug in handler" in caplog.text


async def test_reconnects_after_server_drops_socket(fake_ari: Any, wait_until: Any) -> None:
    calls = 0
    got: list[str] = []

    async def on_connect() -> None:
        nonlocal calls
        calls += 1

    async with running(fake_ari, lambda ev: got.append(ev["type"]), on_connect) as stream:
        await wait_until(lambda: calls == 1)
        for expected in (2, 3):
            await fake_ari.drop()
            await wait_until(lambda expected=expected: calls == expected)
            await asyncio.wait_for(stream.ready.wait(), 3)
        await fake_ari.send({"type": "AfterReconnect"})
        await wait_until(lambda: got == ["AfterReconnect"])
        assert stream.connections == 3


async def test_backoff_while_down_then_recovers(
    fake_ari: Any, wait_until: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Server down (refused), then handshakes rejected: bounded retry rate; then back."""
    caplog.set_level(logging.DEBUG, logger="vipcall.ari.events")
    calls = 0

    async def on_connect() -> None:
        nonlocal calls
        calls += 1

    async with running(
        fake_ari, lambda ev: None, on_connect, backoff_initial=0.05, backoff_max=0.3
    ) as stream:
        await wait_until(lambda: calls == 1)
        await fake_ari.stop_listening()
        await wait_until(lambda: not stream.connected.is_set())
        await asyncio.sleep(1.0)  # refused the whole second
        fake_ari.ws_status = 503  # listening again but ARI "not ready"
        await fake_ari.start()
        attempts_before = fake_ari.ws_attempts
        await asyncio.sleep(1.5)
        rejected = fake_ari.ws_attempts - attempts_before
        # Full jitter up to 0.3 s, floor 0.05 s: ~10 tries in 1.5 s, never hundreds.
        assert 2 <= rejected <= 30, rejected
        assert calls == 1
        fake_ari.ws_status = 101
        await wait_until(lambda: calls == 2)
        assert stream.connected.is_set()
    lost = [r for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(lost) == 1  # logged once per transition, not once per attempt
    assert sum("connected (app=" in r.getMessage() for r in caplog.records) == 2


async def test_on_connect_failure_reconnects_and_retries(fake_ari: Any, wait_until: Any) -> None:
    calls = 0

    async def on_connect() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("REST not ready yet")

    async with running(fake_ari, lambda ev: None, on_connect) as stream:
        await wait_until(lambda: calls == 2)
        await asyncio.wait_for(stream.ready.wait(), 3)
        assert stream.connections == 2


async def test_stop_while_down_returns_promptly(wait_until: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = AriClient(f"http://127.0.0.1:{port}/ari", USER, PASSWORD, APP)
    stream = client.events(backoff_initial=5.0, backoff_max=5.0)
    task = asyncio.create_task(stream.run(lambda ev: None))
    await asyncio.sleep(0.2)
    stream.stop()
    await asyncio.wait_for(task, 1.0)
    await client.close()


# -- cheap intake (skip_types) and REST responses -----------------------------------


async def test_skip_types_dropped_before_parsing(fake_ari: Any, wait_until: Any) -> None:
    """Both layouts Asterisk uses: "type" first, and "type" after other keys
    (ChannelVarset on Asterisk 22.10). Other events, including ones that carry the
    skipped name in a string value, still arrive."""
    got: list[str] = []
    parsed: list[Any] = []
    import vipcall.ari.events as events_mod

    real_loads = events_mod.loads

    def counting_loads(data: Any) -> Any:
        parsed.append(data)
        return real_loads(data)

    events_mod.loads = counting_loads  # type: ignore[assignment]
    try:
        async with running(
            fake_ari, lambda ev: got.append(ev["type"]), skip_types=frozenset({"ChannelVarset"})
        ) as stream:
            await asyncio.wait_for(stream.ready.wait(), 3)
            for ws in fake_ari.sockets:
                await ws.send_str('{"variable":"X","value":"1","type":"ChannelVarset","n":1}')
                await ws.send_str('{"type":"ChannelVarset","variable":"Y","value":"2"}')
                await ws.send_str('{"type":"ChannelVarsetX","n":2}')
                await ws.send_str(
                    '{"type":"StasisStart","args":["\\"type\\":\\"ChannelVarset\\""]}'
                )
                await ws.send_str('{"variable":"Z","type":"ChannelDtmfReceived"}')
                # pretty-printed: not found cheaply, still filtered after parsing
                await ws.send_str('{\n  "type": "ChannelVarset",\n  "variable": "P"\n}')
                await ws.send_str('{"type":"End"}')
            await wait_until(lambda: "End" in got)
    finally:
        events_mod.loads = real_loads  # type: ignore[assignment]
    assert got == ["ChannelVarsetX", "StasisStart", "ChannelDtmfReceived", "End"]
    assert not any('"value":"1"' in d or '"value":"2"' in d for d in parsed if isinstance(d, str))


async def test_rest_responses_never_reach_handler(fake_ari: Any, wait_until: Any) -> None:
    got: list[str] = []
    async with running(fake_ari, lambda ev: got.append(ev["type"])) as stream:
        await wait_until(lambda: stream.client.ws_transport is not None)
        await stream.client.answer("c1")
        # an unsolicited/late RESTResponse is dropped too
        await fake_ari.send({"type": "RESTResponse", "request_id": "nobody", "status_code": 204})
        await fake_ari.send({"type": "End"})
        await wait_until(lambda: got == ["End"])


async def test_on_connect_can_use_ws_rest(fake_ari: Any, wait_until: Any) -> None:
    """Events are buffered while on_connect runs, but REST responses are not: an
    on_connect that waits for the websocket transport and uses it must not deadlock."""
    fake_ari.ws_on_open = [{"type": "E", "n": 0}]
    fake_ari.route("GET", "/channels", 200, [{"id": "c1"}])
    got: list[int] = []
    listed: list[Any] = []
    holder: dict[str, AriClient] = {}

    async def on_connect() -> None:
        client = holder["client"]
        await wait_until(lambda: client.ws_transport is not None)
        listed.append(await client.list_channels())

    client = AriClient(fake_ari.base_url, USER, PASSWORD, APP)
    holder["client"] = client
    stream = client.events(backoff_initial=0.05)
    task = asyncio.create_task(stream.run(lambda ev: got.append(ev["n"]), on_connect))
    try:
        await asyncio.wait_for(stream.ready.wait(), 3)
        await wait_until(lambda: got == [0])
    finally:
        stream.stop()
        await asyncio.wait_for(task, 3)
        await client.close()
    assert listed == [[{"id": "c1"}]]
    assert next(r for r in fake_ari.requests if r.path == "/channels").via == "ws"
