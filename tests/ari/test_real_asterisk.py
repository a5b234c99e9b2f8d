"""The same client behaviours against a real Asterisk 22 (vipcall.sandbox chroot).

Own instance ``ari-tests`` on SIP 25060 / ARI 28088 / RTP 31000-31999 so it never collides
with other suites. Skipped when the chroot is not built. Run: ``pytest -m e2e tests/ari``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from vipcall.ari import AriClient, AriNotFound, EventStream

pytestmark = pytest.mark.e2e

NAME, SIP_PORT, ARI_PORT = "ari-tests", 25060, 28088


@pytest.fixture(scope="module")
def asterisk() -> Iterator[Any]:
    try:
        from vipcall.sandbox import Instance, default_root
    except ImportError as exc:  # pragma: no cover - sandbox module not there yet
        pytest.skip(f"vipcall.sandbox unavailable: {exc}")
    root = default_root()
    if not (root / "usr/sbin/asterisk").exists():
        pytest.skip(f"Asterisk chroot not built at {root} (vipcall sandbox build)")
    inst = Instance(name=NAME, sip_port=SIP_PORT, ari_port=ARI_PORT, rtp_start=31000, rtp_end=31999)
    if inst.is_running():  # leftover of an interrupted run of this very suite
        inst.stop()
    inst.start()
    try:
        yield inst
    finally:
        inst.stop()


def client_for(inst: Any) -> AriClient:
    return AriClient(inst.ari_url, inst.ari_user, inst.ari_password, inst.ari_app)


@asynccontextmanager
async def streaming(
    inst: Any, handler: Any, on_connect: Any = None
) -> AsyncIterator[tuple[AriClient, EventStream]]:
    client = client_for(inst)
    stream = client.events(backoff_initial=0.1, backoff_max=1.0)
    task = asyncio.create_task(stream.run(handler, on_connect))
    try:
        await asyncio.wait_for(stream.ready.wait(), 5)
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


async def test_asterisk_info(asterisk: Any) -> None:
    async with client_for(asterisk) as ari:
        info = await ari.asterisk_info()
        assert info["system"]["version"].startswith("22.")
        assert (await ari.ping())["ping"] == "pong"


async def test_unknown_channel_and_bridge_are_not_found(asterisk: Any) -> None:
    async with client_for(asterisk) as ari:
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


async def test_astdb_write_via_global_var(asterisk: Any) -> None:
    """DB() writes through POST /asterisk/variable land in AstDB (the fail-open dialplan
    reads them); needs live_dangerously=yes in the sandbox's asterisk.conf."""
    key = f"+35840{uuid.uuid4().int % 10**7:07d}"
    async with client_for(asterisk) as ari:
        await ari.db_put("vipcall-test", key, "PJSIP/+358401234567@mobile")
        out = asterisk.cli(f"database get vipcall-test {key}")
        assert "PJSIP/+358401234567@mobile" in out, (out, asterisk.log_tail(5))
        await ari.db_clear("vipcall-test", key)
        out = asterisk.cli(f"database get vipcall-test {key}")
        assert "PJSIP/" not in out
        await ari.set_global_var("VIPCALL_TEST_GLOBAL", "x1")
        assert await ari.get_global_var("VIPCALL_TEST_GLOBAL") == "x1"
    asterisk.cli(f"database del vipcall-test {key}")


async def test_stasis_start_answer_bridge_hangup_stasis_end(asterisk: Any) -> None:
    """Originate a Local channel whose ;2 half enters the app through [vipcall-inbound];
    answering it answers ;1, which enters the app with our appArgs. Then bridge, hang up."""
    events: list[dict[str, Any]] = []
    async with streaming(asterisk, events.append) as (ari, _stream):
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


async def test_handler_exception_keeps_stream(asterisk: Any) -> None:
    seen: list[str] = []

    def handler(ev: dict[str, Any]) -> None:
        seen.append(ev["type"])
        raise RuntimeError("handler bug")

    async with streaming(asterisk, handler) as (ari, stream):
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
        await asyncio.wait_for(stream.ready.wait(), 5)
        assert connects == 1
        await asyncio.to_thread(asterisk.stop)
        await wait_for(lambda: not stream.connected.is_set())
        await asyncio.sleep(1.0)  # a while with the port closed
        assert connects == 1 and not task.done()
        await asyncio.to_thread(asterisk.start)
        await wait_for(lambda: connects == 2, timeout=10)
        await asyncio.wait_for(stream.ready.wait(), 5)
        assert stream.connections == 2
        info = await ari.asterisk_info()  # the REST pool recovers too
        assert info["system"]["version"].startswith("22.")
    finally:
        stream.stop()
        await asyncio.wait_for(task, 5)
        await ari.close()
