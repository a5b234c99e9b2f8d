"""AriClient REST wrappers and error mapping against the in-process fake ARI."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from vipcall.ari import AriClient, AriConflict, AriError, AriNotFound, AriUnavailable

USER, PASSWORD, APP = "vipcall", "s3cret", "vipcall"


def make_client(fake: Any, **kw: Any) -> AriClient:
    return AriClient(fake.base_url, USER, PASSWORD, APP, **kw)


async def test_404_is_ari_not_found(fake_ari: Any) -> None:
    fake_ari.route("POST", "/channels/gone.1/answer", 404, {"message": "Channel not found"})
    async with make_client(fake_ari) as ari:
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


async def test_409_is_conflict_and_500_plain_error(fake_ari: Any) -> None:
    fake_ari.route("POST", "/channels/c1/continue", 409, {"message": "Channel not in Stasis"})
    fake_ari.route("DELETE", "/bridges/b1", 500, b"boom")
    async with make_client(fake_ari) as ari:
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


async def test_timeout_is_unavailable(fake_ari: Any) -> None:
    fake_ari.route("GET", "/asterisk/info", 200, {"x": 1}, delay=1.0)
    async with make_client(fake_ari, request_timeout=0.2) as ari:
        with pytest.raises(AriUnavailable) as info:
            await ari.asterisk_info()
    assert info.value.message == "timeout"


async def test_request_shapes(fake_ari: Any) -> None:
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
    async with make_client(fake_ari) as ari:
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
