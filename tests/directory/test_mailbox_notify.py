"""Mailbox changes reach the call app's message waiting indicator whoever made them (real
PostgreSQL): migration 0009's trigger notifies 'vipcall_mailbox' with the owner's user id
for every change of the counts (a message left, marked heard or saved, deleted, expired),
and not for other changes; :class:`MailboxListener` coalesces bursts into one publish per
user per round; with the real publish path (:func:`vipcall.voicemail.mwi.refresh`) a change
made through the web's service layer publishes the new counts once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall import directory
from vipcall.db.engine import session_factory, transaction
from vipcall.directory import mailbox as mailbox_service
from vipcall.store.calls import DbCallStore
from vipcall.store.mailbox import expire_messages
from vipcall.store.mailbox_notify import CHANNEL, MailboxListener, mailbox_states
from vipcall.store.pool import asyncpg_dsn, create_pool
from vipcall.voicemail import mwi

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAIJA, KALLE = "+358401260001", "+358401260002"


class Notified:
    """A LISTENing connection collecting the payloads; :meth:`until_end` reads them up to a
    closing 'end' notification (sent after the writes: delivered after theirs)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.payloads: list[str] = []
        self.end = asyncio.Event()

    def __call__(self, _c: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == "end":
            self.end.set()
        else:
            self.payloads.append(payload)

    async def until_end(self, writer: asyncpg.Connection) -> list[str]:
        await writer.execute(f"SELECT pg_notify('{CHANNEL}', 'end')")
        await asyncio.wait_for(self.end.wait(), 5)
        got, self.payloads = self.payloads, []
        self.end.clear()
        return got


@pytest_asyncio.fixture(loop_scope="session")
async def people(engine: AsyncEngine) -> tuple[int, int]:
    async with transaction(session_factory(engine)) as s:
        await directory.create_organization(s, name="Org", domain="mwi.fi")
        maija = await directory.create_user(s, organization="mwi.fi", display_name="Maija",
                                            mobile=MAIJA)  # fmt: skip
        kalle = await directory.create_user(s, organization="mwi.fi", display_name="Kalle",
                                            mobile=KALLE)  # fmt: skip
        await directory.add_softphone(s, maija.id)
        return maija.id, kalle.id


@pytest_asyncio.fixture(loop_scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url)
    try:
        yield p
    finally:
        await p.close()


@pytest_asyncio.fixture(loop_scope="session")
async def notified(database_url: str) -> AsyncIterator[Notified]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    got = Notified(conn)
    await conn.add_listener(CHANNEL, got)
    try:
        yield got
    finally:
        await conn.close()


async def leave(pool: asyncpg.Pool, user_id: int, *, deleted: bool = False) -> int:
    """A message as the deposit flow stores it (the mailbox made on the way)."""
    await pool.execute(
        "INSERT INTO mailboxes (user_id) VALUES ($1) ON CONFLICT DO NOTHING", user_id
    )
    return int(
        await pool.fetchval(
            "INSERT INTO voicemail_messages (mailbox_id, called_number, audio, deleted)"
            " SELECT id, '', '\\x00'::bytea, $2 FROM mailboxes WHERE user_id = $1 RETURNING id",
            user_id,
            deleted,
        )
    )


async def test_the_trigger_notifies_count_changes_only(
    people: tuple[int, int], pool: asyncpg.Pool, notified: Notified, engine: AsyncEngine
) -> None:
    maija, kalle = people
    async with pool.acquire() as writer:
        first = await leave(pool, maija)
        assert await notified.until_end(writer) == [str(maija)], "a message left"

        await pool.execute(
            "UPDATE voicemail_messages SET duration_ms = 1500, caller_number = '+358501',"
            " audio = '\\x01'::bytea WHERE id = $1",
            first,
        )
        await pool.execute("UPDATE voicemail_messages SET heard = heard WHERE id = $1", first)
        assert await notified.until_end(writer) == [], "nothing the counts read changed"

        async with transaction(session_factory(engine)) as s:  # as the web marks it
            await mailbox_service.mark_message(s, maija, first, heard=True)
        assert await notified.until_end(writer) == [str(maija)], "marked heard"

        async with transaction(session_factory(engine)) as s:
            await mailbox_service.mark_message(s, maija, first, saved=True)
        assert await notified.until_end(writer) == [str(maija)], "saved"

        async with transaction(session_factory(engine)) as s:
            await mailbox_service.delete_message(s, maija, first)
        assert await notified.until_end(writer) == [str(maija)], "marked deleted"

        await pool.execute("DELETE FROM voicemail_messages WHERE id = $1", first)
        assert await notified.until_end(writer) == [], "already deleted: counts unchanged"

        second = await leave(pool, kalle)
        await pool.execute("DELETE FROM voicemail_messages WHERE id = $1", second)
        assert await notified.until_end(writer) == [str(kalle), str(kalle)], "left, removed"

        await leave(pool, kalle, deleted=True)
        assert await notified.until_end(writer) == [], "stored deleted: counts unchanged"


async def test_one_transaction_notifies_a_user_once_and_expiry_notifies(
    people: tuple[int, int], pool: asyncpg.Pool, notified: Notified
) -> None:
    maija, _ = people
    async with pool.acquire() as writer:
        ids = [await leave(pool, maija) for _ in range(3)]
        await notified.until_end(writer)
        async with writer.transaction():
            for i in ids:
                await writer.execute("UPDATE voicemail_messages SET heard = true WHERE id = $1", i)
        assert await notified.until_end(writer) == [str(maija)], "PostgreSQL folds repeats"

        old = datetime.now(UTC) - timedelta(days=400)
        await pool.execute(
            "UPDATE voicemail_messages SET created_at = $1, heard_at = $1 WHERE id = ANY($2)",
            old,
            ids,
        )
        assert await notified.until_end(writer) == [], "times only"
        assert await expire_messages(pool) == 3
        assert await notified.until_end(writer) == [str(maija)], "the expiry job's delete"


async def test_mailbox_states_lists_users_with_messages_and_a_softphone(
    people: tuple[int, int], pool: asyncpg.Pool
) -> None:
    maija, kalle = people
    heard = await leave(pool, maija)
    await leave(pool, maija)
    await leave(pool, maija, deleted=True)
    await pool.execute("UPDATE voicemail_messages SET heard = true WHERE id = $1", heard)
    await leave(pool, kalle)  # no softphone: nobody to tell
    assert await mailbox_states(pool) == [(maija, 1, 1)]


class Publishes:
    """A fake publish function: records user ids; the first call waits until released."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def __call__(self, user_id: int) -> None:
        self.calls.append(user_id)
        self.started.set()
        await self.release.wait()


async def test_the_listener_coalesces_a_burst(
    people: tuple[int, int], pool: asyncpg.Pool, database_url: str
) -> None:
    maija, kalle = people
    dsn = asyncpg_dsn(database_url)
    publish = Publishes()
    listener = MailboxListener(lambda: asyncpg.connect(dsn), publish)
    task = asyncio.create_task(listener.run())
    try:
        await _until(lambda: listener.listening)
        await leave(pool, maija)
        await asyncio.wait_for(publish.started.wait(), 5)  # publishing maija, held
        for _ in range(5):
            await leave(pool, maija)
            await leave(pool, kalle)
        await _until(lambda: listener.pending == {maija, kalle})
        publish.release.set()
        assert await listener.settled(5)
        assert publish.calls == [maija, *sorted((maija, kalle))]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_the_listener_survives_a_lost_connection_and_resyncs(
    people: tuple[int, int], pool: asyncpg.Pool, database_url: str
) -> None:
    maija, _ = people
    dsn = asyncpg_dsn(database_url)
    publish = Publishes()
    publish.release.set()
    resyncs: list[bool] = []

    async def resync() -> None:
        resyncs.append(True)

    listener = MailboxListener(
        lambda: asyncpg.connect(dsn), publish, resync=resync, backoff_max=0.2
    )
    task = asyncio.create_task(listener.run())
    try:
        await _until(lambda: listener.listening)
        assert resyncs == [], "not on the first connect"
        await pool.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
            " AND datname = current_database()"
        )
        await _until(lambda: resyncs == [True] and listener.listening)
        await leave(pool, maija)
        await _until(lambda: publish.calls == [maija])
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


class FakeAri:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def request(self, method: str, path: str, body: dict[str, str]) -> None:
        self.sent.append(body["endpoint"])


async def test_the_real_path_publishes_a_web_change_once(
    people: tuple[int, int], pool: asyncpg.Pool, engine: AsyncEngine, database_url: str
) -> None:
    """Listener + mwi.refresh + DbCallStore's counts: a message left, then marked heard on
    the web's service layer; the flow's own refresh after the listener's sends nothing."""
    maija, _ = people
    ari, store = FakeAri(), DbCallStore(pool, engine)
    dsn = asyncpg_dsn(database_url)
    listener = MailboxListener(
        lambda: asyncpg.connect(dsn),
        lambda user_id: mwi.refresh(ari, store, user_id),  # type: ignore[arg-type]
    )
    task = asyncio.create_task(listener.run())
    try:
        await _until(lambda: listener.listening)
        message = await leave(pool, maija)
        await _until(lambda: len(ari.sent) == 1)
        await mwi.refresh(ari, store, maija)  # type: ignore[arg-type]  # the deposit flow's
        async with transaction(session_factory(engine)) as s:
            await mailbox_service.mark_message(s, maija, message, heard=True)
        await _until(lambda: len(ari.sent) == 2)
        await pool.execute("UPDATE voicemail_messages SET duration_ms = 9 WHERE id = $1", message)
        await asyncio.sleep(0.3)
        assert await listener.settled(5)
        assert ari.sent == [f"Local/{maija}.1.0@vipcall-mwi", f"Local/{maija}.0.1@vipcall-mwi"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)
