"""Voicemail settings in the service layer (vipcall.directory.voicemail) against a real
(throwaway) PostgreSQL database and the real ``sox``: effective settings and their defaults,
validated updates (refused ones change nothing), the PIN, greeting and name audio, and the
organisation's mailbox limits."""

from __future__ import annotations

import io
import math
import shutil
import struct
import subprocess
import wave
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall import directory as d
from vipcall.db.engine import transaction
from vipcall.db.models import Organization, VoicemailSettings
from vipcall.directory.voicemail import AudioKind
from vipcall.presence.forwarding import Refusal
from vipcall.voicemail.limits import MailboxLimits

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIJA = "+358401234567"  # landline +35851234010, has an e-mail address
MATTI = "+358401234568"


def wav_bytes(
    seconds: float, *, rate: int = 8000, channels: int = 1, width: int = 2, freq: int = 440
) -> bytes:
    """A sine tone as a PCM WAV."""
    frames = int(seconds * rate)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        samples = bytearray()
        for i in range(frames):
            value = int(8000 * math.sin(2 * math.pi * freq * i / rate))
            packed = struct.pack("<h", value) if width == 2 else bytes([128 + value // 256])
            samples += packed * channels
        w.writeframes(bytes(samples))
    return buf.getvalue()


def silence(seconds: float) -> bytes:
    """A silent 8 kHz mono 16-bit WAV (quick to make however long)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(int(seconds * 8000) * 2))
    return buf.getvalue()


def wav_params(data: bytes) -> tuple[int, int, int, int]:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


async def _demo(sessions: async_sessionmaker[AsyncSession]) -> d.Demo:
    async with transaction(sessions) as s:
        return await d.ensure_demo(s)


async def _row(sessions: async_sessionmaker[AsyncSession], user_id: int) -> dict[str, Any]:
    """Every column of the user's voicemail settings row (audio included)."""
    async with sessions() as s:
        row = (
            await s.execute(
                select(VoicemailSettings.__table__).where(VoicemailSettings.user_id == user_id)
            )
        ).one_or_none()
    return {} if row is None else dict(row._mapping)


async def test_defaults_and_missing_row(sessions: async_sessionmaker[AsyncSession]) -> None:
    demo = await _demo(sessions)
    maija = demo.users[0]
    async with sessions() as s:
        prefs = await d.get_voicemail_settings(s, MAIJA)
    assert prefs == d.VoicemailPrefs(user_id=maija.id)
    assert (prefs.notify_by, prefs.repeat_calls, prefs.repeat_minutes) == ("sms", 3, 10)
    assert not (prefs.announce_activity or prefs.offer_transfer or prefs.offer_bypass)
    assert prefs.key1_target is None and prefs.absence_key1_target is None
    # A user without a settings row (e.g. inserted by SQL) gets the same defaults, and the
    # first change creates the row.
    async with transaction(sessions) as s:
        await s.execute(delete(VoicemailSettings).where(VoicemailSettings.user_id == maija.id))
    async with sessions() as s:
        assert await d.get_voicemail_settings(s, maija.id) == d.VoicemailPrefs(user_id=maija.id)
    async with transaction(sessions) as s:
        prefs = await d.update_voicemail_settings(s, maija.id, announce_activity=True)
    assert prefs == d.VoicemailPrefs(user_id=maija.id, announce_activity=True)
    assert (await _row(sessions, maija.id))["announce_activity"] is True


async def test_update_subset(sessions: async_sessionmaker[AsyncSession]) -> None:
    demo = await _demo(sessions)
    maija = demo.users[0]
    async with transaction(sessions) as s:
        prefs = await d.update_voicemail_settings(
            s,
            MAIJA,
            notify_by="Both",
            announce_activity=True,
            announce_end_time=True,
            offer_transfer=True,
            transfer_target="050 765 4321",
            offer_bypass=True,
            customer_service_number="+358 5 123 4100",
            offer_customer_service=True,
            notice_on_scheduled_red=True,
            repeat_breakthrough=True,
            repeat_calls="4",
            repeat_minutes=15,
        )
    expected = d.VoicemailPrefs(
        user_id=maija.id,
        notify_by="both",
        announce_activity=True,
        announce_end_time=True,
        offer_transfer=True,
        transfer_target="+358507654321",
        offer_bypass=True,
        offer_customer_service=True,
        customer_service_number="+35851234100",
        notice_on_scheduled_red=True,
        repeat_breakthrough=True,
        repeat_calls=4,
        repeat_minutes=15,
    )
    assert prefs == expected
    assert prefs.key1_target == "+358507654321"
    assert prefs.absence_key1_target == "+35851234100"
    # Only what is given changes.
    async with transaction(sessions) as s:
        prefs = await d.update_voicemail_settings(s, maija, announce_end_time=False)
    async with sessions() as s:
        assert await d.get_voicemail_settings(s, maija) == prefs
    assert prefs.announce_end_time is False and prefs.announce_activity is True
    assert prefs.transfer_target == "+358507654321"
    # Turning an offer off keeps its number; clearing the number turns the offer off.
    async with transaction(sessions) as s:
        prefs = await d.update_voicemail_settings(s, maija, offer_transfer=False)
    assert (prefs.offer_transfer, prefs.transfer_target, prefs.key1_target) == (
        False,
        "+358507654321",
        None,
    )
    async with transaction(sessions) as s:
        prefs = await d.update_voicemail_settings(s, maija, customer_service_number=None)
    assert (prefs.offer_customer_service, prefs.customer_service_number) == (False, None)
    # Settings are per user.
    async with sessions() as s:
        matti = await d.get_voicemail_settings(s, MATTI)
    assert matti == d.VoicemailPrefs(user_id=matti.user_id)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"notify_by": "fax"}, d.InvalidField, "field notify_by: 'fax' is not one of"),
        ({"repeat_calls": 1}, d.InvalidField, "field repeat_calls: must be between 2 and 20"),
        ({"repeat_calls": "three"}, d.InvalidField, "repeat_calls: 'three' is not a whole"),
        ({"repeat_minutes": 0}, d.InvalidField, "field repeat_minutes: must be between"),
        ({"repeat_minutes": 121}, d.InvalidField, "repeat_minutes"),
        ({"offer_transfer": True}, d.InvalidField, "key 1 needs a number"),
        ({"offer_customer_service": True}, d.InvalidField, "absence notice key 1 needs"),
        ({"transfer_target": "123"}, d.ForwardRefused, "field transfer_target: '123'"),
        ({"transfer_target": "0600 123456"}, d.ForwardRefused, "premium-rate or shared-cost"),
        ({"transfer_target": "05 123 4010"}, d.ForwardRefused, "own number"),
        ({"customer_service_number": "0401234567"}, d.ForwardRefused, "own number"),
        # One bad value among good ones: nothing at all is written.
        (
            {"announce_activity": True, "offer_bypass": True, "transfer_target": "0700 12345"},
            d.ForwardRefused,
            "premium",
        ),
        ({"notify_by": "email", "repeat_calls": 99}, d.InvalidField, "repeat_calls"),
    ],
)
async def test_refused_updates_change_nothing(
    sessions: async_sessionmaker[AsyncSession],
    kwargs: dict[str, Any],
    error: type[Exception],
    fragment: str,
) -> None:
    demo = await _demo(sessions)
    maija = demo.users[0]
    before = await _row(sessions, maija.id)
    with pytest.raises(error, match=fragment) as caught:
        async with transaction(sessions) as s:
            await d.update_voicemail_settings(s, maija, **kwargs)
    if isinstance(caught.value, d.ForwardRefused):
        assert caught.value.reason in set(Refusal)
    assert await _row(sessions, maija.id) == before


async def test_email_notices_need_an_address(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _demo(sessions)
    async with transaction(sessions) as s:
        user = await d.create_user(
            s, organization="taipalsaari.fi", display_name="Ei Postia", mobile="040 555 0000"
        )
    before = await _row(sessions, user.id)
    for choice in ("email", "both"):
        with pytest.raises(d.InvalidField, match="has no e-mail address"):
            async with transaction(sessions) as s:
                await d.update_voicemail_settings(s, user.id, notify_by=choice)
    assert await _row(sessions, user.id) == before
    async with transaction(sessions) as s:
        assert (await d.update_voicemail_settings(s, user.id, notify_by="none")).notify_by == "none"


async def test_forward_refusal_reason_is_kept(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _demo(sessions)
    async with sessions() as s:
        with pytest.raises(d.ForwardRefused) as caught:
            await d.update_voicemail_settings(s, MAIJA, transfer_target="+358 40 123 4567")
    assert caught.value.reason is Refusal.OWN_NUMBER
    assert caught.value.field == "transfer_target"
    assert str(caught.value) == "field transfer_target: +358401234567 is the user's own number"


async def test_pin(sessions: async_sessionmaker[AsyncSession]) -> None:
    demo = await _demo(sessions)
    maija = demo.users[0]
    async with sessions() as s:
        assert not await d.verify_pin(s, maija, "1234")  # no PIN yet
    async with transaction(sessions) as s:
        await d.set_pin(s, MAIJA, "4711")
    row = await _row(sessions, maija.id)
    assert row["pin_hash"].startswith("$argon2id$") and "4711" not in row["pin_hash"]
    async with sessions() as s:
        assert await d.verify_pin(s, maija, "4711")
        for wrong in ("4712", "", "471", "4711 ", "abcd"):
            assert not await d.verify_pin(s, maija, wrong)
        assert (await d.get_voicemail_settings(s, maija)).has_pin
        # Matti has no PIN: Maija's does not open his mailbox.
        assert not await d.verify_pin(s, MATTI, "4711")
    assert d.pin_matches(row["pin_hash"], "4711") and not d.pin_matches(None, "4711")
    for bad in ("123", "123456789", "12a4", " 1234", "", "１２３４"):
        with pytest.raises(d.InvalidField, match="field pin: must be 4 to 8 digits"):
            async with transaction(sessions) as s:
                await d.set_pin(s, maija, bad)
    assert await _row(sessions, maija.id) == row
    async with transaction(sessions) as s:
        await d.set_pin(s, maija, "87654321")
        await d.clear_pin(s, maija)
    async with sessions() as s:
        assert not await d.verify_pin(s, maija, "87654321")
        assert not (await d.get_voicemail_settings(s, maija)).has_pin


async def test_greeting_and_name_stored_as_given(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    demo = await _demo(sessions)
    maija = demo.users[0]
    greeting, name = wav_bytes(2.5), wav_bytes(1.0, freq=660)
    async with transaction(sessions) as s:
        stored = await d.set_audio(s, maija, "name", name)
        assert stored.converted_from is None and stored.wav == name
        assert (await d.get_voicemail_settings(s, maija)).greeting_mode == "name"
        stored = await d.set_greeting_audio(s, MAIJA, greeting)
    assert stored.wav == greeting and stored.seconds == 2.5
    async with sessions() as s:
        prefs = await d.get_voicemail_settings(s, maija)
        assert (prefs.has_greeting, prefs.has_name, prefs.greeting_mode) == (
            True,
            True,
            "personal",
        )
        assert await d.get_audio(s, maija, "greeting") == greeting
        assert await d.get_audio(s, maija, "name") == name
        assert await d.get_audio(s, MATTI, "greeting") is None
    async with transaction(sessions) as s:
        assert await d.delete_greeting_audio(s, maija)
        assert not await d.delete_greeting_audio(s, maija)
    async with sessions() as s:
        prefs = await d.get_voicemail_settings(s, maija)
        assert (prefs.has_greeting, prefs.greeting_mode) == (False, "name")
    async with transaction(sessions) as s:
        assert await d.delete_name_audio(s, maija)
    async with sessions() as s:
        prefs = await d.get_voicemail_settings(s, maija)
        assert (prefs.has_name, prefs.greeting_mode) == (False, "default")


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
async def test_other_formats_are_converted_by_sox(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    demo = await _demo(sessions)
    maija = demo.users[0]
    cd_quality = wav_bytes(1.5, rate=44100, channels=2)
    async with transaction(sessions) as s:
        stored = await d.set_audio(s, maija, "greeting", cd_quality, filename="hello.wav")
    assert stored.converted_from == "WAV 44100 Hz stereo 16-bit"
    rate, channels, width, frames = wav_params(stored.wav)
    assert (rate, channels, width) == (8000, 1, 2)
    assert abs(frames - 12000) <= 10
    async with sessions() as s:
        assert await d.get_audio(s, maija, "greeting") == stored.wav
    # FLAC (made by sox itself), given without a file name: sox reads its header.
    flac = tmp_path / "name.flac"
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", str(flac), "synth", "0.8", "sine", "500"],
        check=True,
    )
    async with transaction(sessions) as s:
        stored = await d.set_name_audio(s, maija, flac.read_bytes())
    assert wav_params(stored.wav)[:3] == (8000, 1, 2)
    assert abs(stored.seconds - 0.8) < 0.01
    # 8 kHz mono but 8-bit: converted too.
    async with transaction(sessions) as s:
        stored = await d.set_audio(s, maija, "name", wav_bytes(1.0, width=1))
    assert stored.converted_from == "WAV 8000 Hz mono 8-bit"
    assert wav_params(stored.wav)[:3] == (8000, 1, 2)


@pytest.mark.parametrize(
    ("kind", "data", "fragment"),
    [
        ("greeting", b"", "field greeting_audio: is empty"),
        ("greeting", b"this is not audio at all" * 20, "field greeting_audio: is not audio"),
        ("name", wav_bytes(0), "field name_audio: contains no audio"),
        ("name", silence(10.5), "field name_audio: is 10.5 s long; at most 10 s"),
        ("greeting", silence(121), "at most 120 s"),
    ],
)
async def test_bad_audio_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], kind: AudioKind, data: bytes, fragment: str
) -> None:
    demo = await _demo(sessions)
    maija = demo.users[0]
    async with transaction(sessions) as s:
        await d.set_audio(s, maija, "greeting", wav_bytes(1.0))
        await d.set_audio(s, maija, "name", wav_bytes(1.0))
    before = await _row(sessions, maija.id)
    with pytest.raises(d.InvalidField, match=fragment):
        async with transaction(sessions) as s:
            await d.set_audio(s, maija, kind, data)
    assert await _row(sessions, maija.id) == before


async def test_organisation_limits(sessions: async_sessionmaker[AsyncSession]) -> None:
    demo = await _demo(sessions)
    async with sessions() as s:
        assert await d.get_voicemail_limits(s, "taipalsaari.fi") == MailboxLimits()
    async with transaction(sessions) as s:
        limits = await d.set_voicemail_limits(
            s, demo.organization.id, max_message_seconds="120", keep_heard_days=7
        )
    assert limits == MailboxLimits(120, 100, 28, 7)
    async with sessions() as s:
        org = await d.get_organization(s, "taipalsaari.fi")
        assert (org.vm_max_message_seconds, org.vm_keep_heard_days) == (120, 7)
        assert d.limits_of(org) == limits

    async def columns() -> tuple[int, ...]:
        async with sessions() as s:
            row = (
                await s.execute(
                    select(
                        Organization.vm_max_message_seconds,
                        Organization.vm_max_messages,
                        Organization.vm_keep_unheard_days,
                        Organization.vm_keep_heard_days,
                    )
                )
            ).one()
        return tuple(row)

    before = await columns()
    for kwargs, fragment in (
        ({"max_messages": 0}, "field max_messages: must be between 1 and"),
        ({"max_message_seconds": -5}, "max_message_seconds"),
        ({"keep_unheard_days": "x"}, "field keep_unheard_days: 'x' is not a whole number"),
        ({"max_messages": 50, "keep_heard_days": "1.5"}, "keep_heard_days"),
        ({}, "nothing to change"),
    ):
        with pytest.raises(d.InvalidField, match=fragment):
            async with transaction(sessions) as s:
                await d.set_voicemail_limits(s, "taipalsaari.fi", **kwargs)
    assert await columns() == before
    with pytest.raises(d.UnknownOrganization):
        async with transaction(sessions) as s:
            await d.set_voicemail_limits(s, "nowhere.fi", max_messages=5)
