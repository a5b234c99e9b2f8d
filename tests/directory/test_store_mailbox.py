"""What the deposit flow reads about a mailbox, and the expiry of old messages (real
PostgreSQL: vipcall.store.mailbox through DbCallStore and the service layer)."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall import directory
from vipcall.db.engine import session_factory, transaction
from vipcall.store.calls import DbCallStore
from vipcall.store.mailbox import expire_messages
from vipcall.store.pool import create_pool
from vipcall.voicemail.limits import MailboxLimits

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIJA, KALLE = "+358401250001", "+358401250002"
WORK = "+358501250099"


def wav(seconds: float = 0.5) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * int(8000 * seconds))
    return buf.getvalue()


@pytest_asyncio.fixture(loop_scope="session")
async def store(engine: AsyncEngine, database_url: str) -> AsyncIterator[DbCallStore]:
    async with transaction(session_factory(engine)) as s:
        await directory.create_organization(s, name="Org", domain="box.fi")
        await directory.create_user(s, organization="box.fi", display_name="Maija", mobile=MAIJA)
        await directory.create_user(s, organization="box.fi", display_name="Kalle", mobile=KALLE)
    pool = await create_pool(database_url)
    try:
        yield DbCallStore(pool, engine)
    finally:
        await pool.close()


async def user_id(engine: AsyncEngine, mobile: str) -> int:
    async with engine.connect() as c:
        return int(await c.scalar(text("SELECT id FROM users WHERE mobile_number = :m"),
                                  {"m": mobile}))  # fmt: skip


async def test_a_user_without_settings_has_the_defaults(store: DbCallStore, engine) -> None:
    maija = await user_id(engine, MAIJA)
    p = await store.mailbox_profile(maija)
    assert p is not None
    assert (p.user_id, p.mobile, p.messages) == (maija, MAIJA, 0)
    assert p.limits == MailboxLimits()
    assert (p.time_zone, p.language) == ("Europe/Helsinki", "fi")
    assert not p.announce_activity and not p.announce_end_time and not p.offer_bypass
    assert p.key1_target is None and p.greeting_version is None and p.name_version is None
    assert await store.mailbox_profile(maija + 1000) is None


async def test_settings_recordings_and_limits_as_the_service_layer_set_them(
    store: DbCallStore, engine: AsyncEngine
) -> None:
    maija = await user_id(engine, MAIJA)
    async with transaction(session_factory(engine)) as s:
        await directory.update_voicemail_settings(
            s, maija, announce_activity=True, announce_end_time=True, transfer_target=WORK,
            offer_transfer=True, offer_bypass=True,
        )  # fmt: skip
        await directory.set_audio(s, maija, "name", wav())
        await directory.set_voicemail_limits(s, "box.fi", max_messages=5, max_message_seconds=60,
                                             keep_unheard_days=3, keep_heard_days=4)  # fmt: skip
    async with engine.begin() as c:
        await c.execute(text("UPDATE organizations SET time_zone = 'Europe/Stockholm',"
                             " language = 'en' WHERE domain = 'box.fi'"))  # fmt: skip
    p = await store.mailbox_profile(maija)
    assert p is not None
    assert p.announce_activity and p.announce_end_time and p.offer_bypass
    assert p.key1_target == WORK
    assert p.name_version is not None and p.greeting_version is None
    assert p.limits == MailboxLimits(60, 5, 3, 4)
    assert (p.time_zone, p.language) == ("Europe/Stockholm", "en")

    # A new recording is a new version (a new media URL: never a stale cached copy).
    async with transaction(session_factory(engine)) as s:
        await directory.set_audio(s, maija, "greeting", wav())
    again = await store.mailbox_profile(maija)
    assert again is not None and again.greeting_version is not None
    assert again.name_version != p.name_version

    # Key 1 switched off: not offered although the number stays.
    async with transaction(session_factory(engine)) as s:
        await directory.update_voicemail_settings(s, maija, offer_transfer=False)
    off = await store.mailbox_profile(maija)
    assert off is not None and off.key1_target is None


async def test_the_message_count_leaves_out_deleted_messages_and_other_mailboxes(
    store: DbCallStore, engine: AsyncEngine
) -> None:
    maija, kalle = await user_id(engine, MAIJA), await user_id(engine, KALLE)
    ids = [await store.save_message(maija, "+358501111111", MAIJA, wav(), 500) for _ in range(3)]
    await store.save_message(kalle, "+358501111111", KALLE, wav(), 500)
    async with engine.begin() as c:
        await c.execute(text("UPDATE voicemail_messages SET deleted = true WHERE id = :i"),
                        {"i": ids[0]})  # fmt: skip
        await c.execute(text("UPDATE voicemail_messages SET heard = true, saved = true"
                             " WHERE id = :i"), {"i": ids[1]})  # fmt: skip
    p = await store.mailbox_profile(maija)
    assert p is not None and p.messages == 2


async def test_expiry_removes_unheard_after_28_days_heard_after_29_and_never_saved_ones(
    store: DbCallStore, engine: AsyncEngine
) -> None:
    maija = await user_id(engine, MAIJA)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    day = timedelta(days=1)
    second = timedelta(seconds=1)
    cases = {
        # name: (created_at, heard_at, saved, expired by now)
        "unheard, 28 days old": (now - 28 * day, None, False, True),
        "unheard, not quite 28 days": (now - 28 * day + second, None, False, False),
        "heard 29 days ago": (now - 60 * day, now - 29 * day, False, True),
        "heard 28 days ago": (now - 60 * day, now - 28 * day, False, False),
        "saved, a year old": (now - 365 * day, now - 364 * day, True, False),
        "saved, unheard, a year old": (now - 365 * day, None, True, False),
    }
    ids: dict[str, int] = {}
    for name, (created, heard_at, saved, _) in cases.items():
        ids[name] = mid = await store.save_message(maija, "+358501111111", MAIJA, wav(), 500)
        async with engine.begin() as c:
            await c.execute(
                text("UPDATE voicemail_messages SET created_at = :c,"
                     " heard_at = CAST(:h AS timestamptz),"
                     " heard = CAST(:h AS timestamptz) IS NOT NULL, saved = :s"
                     " WHERE id = :i"),
                {"c": created, "h": heard_at, "s": saved, "i": mid},
            )  # fmt: skip

    assert await expire_messages(store.pool, now) == 2
    async with engine.connect() as c:
        rows = {
            r.id: r
            for r in await c.execute(
                text("SELECT id, deleted, audio IS NULL AS gone FROM voicemail_messages"
                     " WHERE id = ANY(:ids)"), {"ids": list(ids.values())},
            )
        }  # fmt: skip
    for name, (*_, expired) in cases.items():
        assert rows[ids[name]].deleted is expired, name
        assert rows[ids[name]].gone is expired, name
    # Idempotent: nothing more to do in the same moment.
    assert await expire_messages(store.pool, now) == 0
    # Each organisation's own limits: keep unheard 3 days.
    async with transaction(session_factory(engine)) as s:
        await directory.set_voicemail_limits(s, "box.fi", keep_unheard_days=3)
    fresh = await store.save_message(maija, "+358501111111", MAIJA, wav(), 500)
    assert await expire_messages(store.pool, datetime.now(UTC) + 3 * day) >= 1
    async with engine.connect() as c:
        assert await c.scalar(text("SELECT deleted FROM voicemail_messages WHERE id = :i"),
                              {"i": fresh})  # fmt: skip


async def test_expiry_pages_through_many_messages(
    store: DbCallStore, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vipcall.store import mailbox

    monkeypatch.setattr(mailbox, "EXPIRY_PAGE", 3)  # pages of 3: 10 messages take 4 pages
    maija = await user_id(engine, MAIJA)
    for _ in range(10):
        await store.save_message(maija, None, MAIJA, wav(), 500)
    assert await expire_messages(store.pool, datetime.now(UTC) + timedelta(days=28)) == 10


async def test_a_message_heard_meanwhile_is_judged_again(
    store: DbCallStore, engine: AsyncEngine
) -> None:
    """The verdict is written only if the message is still as it was read."""
    from vipcall.store.mailbox import EXPIRE

    maija = await user_id(engine, MAIJA)
    mid = await store.save_message(maija, None, MAIJA, wav(), 500)
    pool: asyncpg.Pool = store.pool
    async with engine.begin() as c:
        await c.execute(text("UPDATE voicemail_messages SET heard = true, heard_at = now()"
                             " WHERE id = :i"), {"i": mid})  # fmt: skip
    # A verdict made from the unheard state (heard_at NULL) no longer applies.
    assert await pool.execute(EXPIRE, [mid], [None]) == "UPDATE 0"
