"""The mailbox over the API: messages left through the call app's own deposit path, listed
newest first, played (with byte ranges) and downloaded, marked heard / saved as the listening
number marks them, deleted; another user's message is 404 and stays."""

from __future__ import annotations

import asyncio
import io
import wave

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import Login, People
from tests.web.me_support import call_app, snapshot
from vipcall.store.calls import DbCallStore

pytestmark = pytest.mark.asyncio(loop_scope="session")
__all__ = ["call_app"]


def recording(seconds: float, value: int = 1000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(value.to_bytes(2, "little", signed=True) * int(8000 * seconds))
    return out.getvalue()


async def leave(app: DbCallStore, user_id: int, caller: str | None, seconds: float) -> int:
    """A message left by a caller, through the call app's deposit query."""
    return await app.save_message(
        user_id, caller, "+358407654321", recording(seconds), int(seconds * 1000)
    )


async def test_messages_newest_first_with_caller_time_and_length(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    first = await leave(call_app, people.pekka.id, "+358501110001", 2.5)
    await asyncio.sleep(0.01)
    second = await leave(call_app, people.pekka.id, None, 4.0)
    c = await login(people.pekka.username)
    listed = (await c.get("/api/v1/me/messages")).json()
    assert [m["id"] for m in listed] == [second, first]
    assert listed[0]["caller"] is None and listed[1]["caller"] == "+358501110001"
    assert [m["seconds"] for m in listed] == [4.0, 2.5]
    assert not any(m["heard"] or m["saved"] for m in listed)
    assert listed[0]["created_at"].endswith(("+02:00", "+03:00"))  # Helsinki time
    assert (await c.get("/api/v1/me")).json()["new_messages"] == 2


async def test_audio_plays_seeks_and_downloads(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    mid = await leave(call_app, people.pekka.id, "+358501110001", 1.0)
    c = await login(people.pekka.username)
    url = f"/api/v1/me/messages/{mid}/audio"
    whole = await c.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    assert "content-disposition" not in whole.headers
    assert whole.content == recording(1.0)
    part = await c.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    tail = await c.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    beyond = await c.get(url, headers={"Range": f"bytes={len(whole.content)}-"})
    assert beyond.status_code == 416
    down = await c.get(url, params={"download": "1"})
    assert down.headers["content-disposition"].startswith('attachment; filename="viesti-')
    assert down.content == whole.content


async def test_mark_heard_saved_as_the_listening_number_does(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    mid = await leave(call_app, people.pekka.id, "+358501110001", 1.0)
    c = await login(people.pekka.username)
    r = await c.patch(f"/api/v1/me/messages/{mid}", json={"heard": True})
    assert r.status_code == 200 and r.json()["heard"] and not r.json()["saved"]
    assert await call_app.message_counts(people.pekka.id) == (0, 1)
    r = await c.patch(f"/api/v1/me/messages/{mid}", json={"heard": False})
    assert r.json()["heard"] is False
    assert await call_app.message_counts(people.pekka.id) == (1, 0)
    r = await c.patch(f"/api/v1/me/messages/{mid}", json={"saved": True})
    assert r.json()["saved"] and r.json()["heard"]
    phone_view, _ = await call_app.mailbox_messages(people.pekka.id)
    assert [(m.id, m.saved, m.heard) for m in phone_view] == [(mid, True, True)]


async def test_delete_removes_it_from_the_phone_too(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    mid = await leave(call_app, people.pekka.id, "+358501110001", 1.0)
    c = await login(people.pekka.username)
    assert (await c.delete(f"/api/v1/me/messages/{mid}")).status_code == 204
    assert (await c.get("/api/v1/me/messages")).json() == []
    assert (await call_app.mailbox_messages(people.pekka.id))[0] == []
    assert (await c.get(f"/api/v1/me/messages/{mid}/audio")).status_code == 404
    assert (await c.delete(f"/api/v1/me/messages/{mid}")).status_code == 404


async def test_another_users_message_is_not_found_and_stays(
    login: Login, people: People, call_app: DbCallStore, engine: AsyncEngine
) -> None:
    theirs = await leave(call_app, people.maija.id, "+358501110001", 1.0)
    c = await login(people.pekka.username)
    before = await snapshot(engine)
    assert (await c.get("/api/v1/me/messages")).json() == []
    for method, path, body in (
        ("GET", f"/api/v1/me/messages/{theirs}/audio", None),
        ("PATCH", f"/api/v1/me/messages/{theirs}", {"heard": True}),
        ("DELETE", f"/api/v1/me/messages/{theirs}", None),
    ):
        r = await c.request(method, path, json=body)
        assert r.status_code == 404, (method, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert await snapshot(engine) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "message"), ({"saved": True, "heard": False}, "heard"), ({"heard": "maybe"}, "heard")],
)
async def test_bad_marks_name_the_field_and_change_nothing(
    login: Login,
    people: People,
    call_app: DbCallStore,
    engine: AsyncEngine,
    body: dict[str, object],
    field: str,
) -> None:
    mid = await leave(call_app, people.pekka.id, "+358501110001", 1.0)
    c = await login(people.pekka.username)
    before = await snapshot(engine)
    r = await c.patch(f"/api/v1/me/messages/{mid}", json=body)
    assert r.status_code == 422 and r.json()["field"] == field
    assert await snapshot(engine) == before
