"""Voicemail settings over the API: the settings the deposit flow reads on the next call,
key-1 numbers refused like forwarding targets, greetings and names uploaded in the formats
browsers and phones make (converted by sox or ffmpeg), the PIN, the phone menu's keys."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import Login, People
from tests.web.me_support import call_app, snapshot
from vipcall.store.calls import DbCallStore
from vipcall.voicemail.menu import KEY_MAP, MENU_LABELS
from vipcall.web.api import voicemail as voicemail_api

pytestmark = pytest.mark.asyncio(loop_scope="session")
__all__ = ["call_app"]

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")


def tone(tmp_path: Path, ext: str, codec: str, seconds: float = 1.5) -> bytes:
    """A 440 Hz tone, 48 kHz stereo, encoded by ffmpeg as a browser or phone would."""
    out = tmp_path / f"tone.{ext}"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency=440:duration={seconds}", "-ar", "48000", "-ac", "2",
         "-c:a", codec, str(out)],
        check=True,
    )  # fmt: skip
    return out.read_bytes()


def wav_params(data: bytes) -> tuple[int, int, int, float]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes() / 8000


async def test_defaults(login: Login, people: People) -> None:
    c = await login(people.pekka.username)
    body = (await c.get("/api/v1/me/voicemail")).json()
    assert body["notify_by"] == "sms"
    assert body["greeting_mode"] == "default"
    assert not body["offer_transfer"] and body["transfer_target"] is None
    assert not (body["has_pin"] or body["has_greeting"] or body["has_name"])
    assert body["pin_length"] == [4, 8]


async def test_settings_are_what_the_next_call_reads(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    c = await login(people.pekka.username)
    r = await c.patch(
        "/api/v1/me/voicemail",
        json={
            "notify_by": "both",
            "announce_activity": True,
            "announce_end_time": True,
            "transfer_target": "050 555 1234",
            "offer_transfer": True,
            "offer_bypass": True,
            "customer_service_number": "09 123 4567",
            "offer_customer_service": True,
            "notice_on_scheduled_red": True,
            "repeat_breakthrough": True,
            "repeat_calls": 4,
            "repeat_minutes": 15,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["transfer_target"] == "+358505551234"
    assert body["customer_service_number"] == "+35891234567"
    assert (body["repeat_calls"], body["repeat_minutes"]) == (4, 15)
    profile = await call_app.mailbox_profile(people.pekka.id)
    assert profile is not None
    assert profile.key1_target == "+358505551234"
    assert profile.offer_bypass and profile.announce_activity and profile.announce_end_time
    seen = await call_app.parties(None, None, people.pekka.mobile)
    assert seen[1] is not None
    assert seen[1].absence.customer_service == "+35891234567"
    assert seen[1].absence.notice_on_scheduled_red
    assert (seen[1].absence.repeat_calls, seen[1].absence.repeat_minutes) == (4, 15)
    # Clearing the number turns its offer off; fields left out stay.
    r = await c.patch("/api/v1/me/voicemail", json={"transfer_target": None})
    assert r.json()["offer_transfer"] is False and r.json()["notify_by"] == "both"
    assert (await call_app.mailbox_profile(people.pekka.id)).key1_target is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"transfer_target": "040 765 4321", "offer_transfer": True}, "transfer_target",
         "own-number"),
        ({"customer_service_number": "0700 123 456"}, "customer_service_number",
         "premium-or-shared-cost"),
        ({"offer_transfer": True}, "offer_transfer", None),
        ({"notify_by": "pigeon"}, "notify_by", None),
        ({"repeat_calls": 1}, "repeat_calls", None),
        ({"repeat_minutes": 999}, "repeat_minutes", None),
        ({"announce_activity": None}, "announce_activity", None),
        ({"announce_activity": "maybe"}, "announce_activity", None),
        ({}, "body", None),
        ({"notify_by": "email", "repeat_calls": 99}, "repeat_calls", None),
    ],
)  # fmt: skip
async def test_bad_settings_name_the_field_and_change_nothing(
    login: Login,
    people: People,
    engine: AsyncEngine,
    body: dict[str, object],
    field: str,
    reason: str | None,
) -> None:
    c = await login(people.pekka.username)
    before = await snapshot(engine)
    r = await c.patch("/api/v1/me/voicemail", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert r.json().get("reason") == reason
    assert await snapshot(engine) == before


async def test_pin_is_what_the_listening_number_checks(
    login: Login, people: People, call_app: DbCallStore, engine: AsyncEngine
) -> None:
    c = await login(people.pekka.username)
    assert (await c.put("/api/v1/me/voicemail/pin", json={"pin": "4711"})).status_code == 204
    assert (await c.get("/api/v1/me/voicemail")).json()["has_pin"] is True
    assert await call_app.check_pin(people.pekka.id, "4711")
    assert not await call_app.check_pin(people.pekka.id, "4712")
    before = await snapshot(engine)
    for bad in ("12", "123456789", "12ab", ""):
        r = await c.put("/api/v1/me/voicemail/pin", json={"pin": bad})
        assert r.status_code == 422 and r.json()["field"] == "pin", bad
    assert await snapshot(engine) == before
    assert (await c.delete("/api/v1/me/voicemail/pin")).status_code == 204
    assert not await call_app.check_pin(people.pekka.id, "4711")


@needs_ffmpeg
@pytest.mark.parametrize(
    ("ext", "codec", "content_type"),
    [
        ("mp3", "libmp3lame", "audio/mpeg"),
        ("webm", "libopus", "audio/webm;codecs=opus"),  # a browser's MediaRecorder
        ("m4a", "aac", "audio/mp4"),
        ("ogg", "libvorbis", "audio/ogg"),
        ("flac", "flac", "audio/flac"),
        ("wav", "pcm_s16le", "audio/wav"),
    ],
)
async def test_greeting_in_any_common_format_is_stored_as_8khz_wav(
    login: Login,
    people: People,
    call_app: DbCallStore,
    tmp_path: Path,
    ext: str,
    codec: str,
    content_type: str,
) -> None:
    c = await login(people.pekka.username)
    data = tone(tmp_path, ext, codec)
    # A recorder's upload is named "blob": the declared type gives the format.
    name = "blob" if ext == "webm" else f"tervehdys.{ext}"
    r = await c.put("/api/v1/me/voicemail/greeting", files={"file": (name, data, content_type)})
    assert r.status_code == 200, r.text
    assert abs(r.json()["seconds"] - 1.5) < 0.1
    assert r.json()["converted_from"]
    played = await c.get("/api/v1/me/voicemail/greeting")
    assert played.headers["content-type"] == "audio/wav"
    rate, channels, width, seconds = wav_params(played.content)
    assert (rate, channels, width) == (8000, 1, 2) and abs(seconds - 1.5) < 0.1
    settings = (await c.get("/api/v1/me/voicemail")).json()
    assert settings["has_greeting"] and settings["greeting_mode"] == "personal"
    profile = await call_app.mailbox_profile(people.pekka.id)
    assert profile is not None and profile.greeting_version is not None
    assert await call_app.audio("greeting", people.pekka.id) == played.content


@needs_ffmpeg
async def test_name_upload_and_delete(login: Login, people: People, tmp_path: Path) -> None:
    c = await login(people.pekka.username)
    r = await c.put(
        "/api/v1/me/voicemail/name",
        files={"file": ("nimi.mp3", tone(tmp_path, "mp3", "libmp3lame", 2), "audio/mpeg")},
    )
    assert r.status_code == 200, r.text
    assert (await c.get("/api/v1/me/voicemail")).json()["greeting_mode"] == "name"
    assert (await c.get("/api/v1/me/voicemail/name")).status_code == 200
    assert (await c.delete("/api/v1/me/voicemail/name")).status_code == 204
    assert (await c.get("/api/v1/me/voicemail/name")).status_code == 404
    assert (await c.delete("/api/v1/me/voicemail/name")).status_code == 404
    assert (await c.get("/api/v1/me/voicemail")).json()["greeting_mode"] == "default"


@needs_ffmpeg
async def test_bad_uploads_are_problems_and_change_nothing(
    login: Login,
    people: People,
    engine: AsyncEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = await login(people.pekka.username)
    before = await snapshot(engine)
    junk = b"definitely not audio " * 50
    cases = [
        ("greeting", ("notes.txt", junk, "text/plain"), 415),
        ("greeting", ("kuva.png", junk, "image/png"), 415),
        ("greeting", ("tervehdys.mp3", junk, "audio/mpeg"), 422),
        ("greeting", ("tervehdys", junk, "application/octet-stream"), 422),
        ("greeting", ("tyhja.wav", b"", "audio/wav"), 422),
        ("name", ("nimi.mp3", tone(tmp_path, "mp3", "libmp3lame", 11), "audio/mpeg"), 422),
    ]
    for kind, upload, status in cases:
        r = await c.put(f"/api/v1/me/voicemail/{kind}", files={"file": upload})
        assert r.status_code == status, (upload[0], r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["field"] == "file"
    assert "at most 10 s" in r.json()["detail"]
    monkeypatch.setattr(voicemail_api, "MAX_UPLOAD_BYTES", 1000)
    r = await c.put(
        "/api/v1/me/voicemail/greeting",
        files={"file": ("big.mp3", tone(tmp_path, "mp3", "libmp3lame"), "audio/mpeg")},
    )
    assert r.status_code == 413 and r.json()["field"] == "file"
    # Declared larger than the limit: refused before the body is parsed.
    r = await c.put(
        "/api/v1/me/voicemail/greeting",
        files={"file": ("big.wav", b"\0" * 200_000, "audio/wav")},
    )
    assert r.status_code == 413
    monkeypatch.undo()
    r = await c.put("/api/v1/me/voicemail/greeting", data={"nofile": "x"})
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = await c.put("/api/v1/me/voicemail/greeting", json={"file": "x"})
    assert r.status_code == 422 and r.json()["field"] == "file"
    assert await snapshot(engine) == before


async def test_key_map_is_the_phone_menus(login: Login, people: People) -> None:
    c = await login(people.pekka.username)
    body = (await c.get("/api/v1/me/voicemail/keys")).json()
    assert body["listening_number"] == "+358401621485"
    assert {
        m["menu"]: {k["key"]: (k["fi"], k["en"]) for k in m["keys"]} for m in body["menus"]
    } == KEY_MAP
    assert {m["menu"]: (m["fi"], m["en"]) for m in body["menus"]} == MENU_LABELS
    main = next(m for m in body["menus"] if m["menu"] == "main")
    assert main["keys"][0] == {"key": "1", "fi": "uudet viestit", "en": "new messages"}
    assert main["spoken_fi"].startswith("Uudet viestit valitsemalla 1.")


async def test_another_users_settings_are_not_touched(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    maija = await login(people.maija.username)
    pekka = await login(people.pekka.username)
    await maija.put("/api/v1/me/voicemail/pin", json={"pin": "1234"})
    await pekka.patch("/api/v1/me/voicemail", json={"offer_bypass": True})
    assert (await maija.get("/api/v1/me/voicemail")).json()["offer_bypass"] is False
    assert (await pekka.get("/api/v1/me/voicemail")).json()["has_pin"] is False
    assert await call_app.check_pin(people.maija.id, "1234")


async def test_an_upload_is_not_read_before_the_login_is_checked(
    client: httpx.AsyncClient, people: People, engine: AsyncEngine
) -> None:
    before = await snapshot(engine)
    r = await client.put(
        "/api/v1/me/voicemail/greeting", files={"file": ("a.wav", b"RIFF", "audio/wav")}
    )
    assert r.status_code == 401
    assert await snapshot(engine) == before
