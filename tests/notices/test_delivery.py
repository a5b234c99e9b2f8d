"""Notices of new messages through real parts: a message stored by DbCallStore.save_message
enqueues its notices in the same statement; the worker hands them to Debian's Kannel (seen
coming out of the fake SMSC) and to an aiosmtpd SMTP server (seen arriving, WAV attached);
failures are retried with backoff from the table, survive a restart, and are given up after
the last attempt."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from prometheus_client import REGISTRY

from harness.kannel import KannelChain
from tests.notices.parts import SmtpServer, Users
from vipcall.notices.errors import SendError
from vipcall.notices.mail import SmtpMailer
from vipcall.notices.rules import Backoff
from vipcall.notices.sms import KannelSms
from vipcall.notices.worker import NoticeWorker
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import create_pool

pytestmark = pytest.mark.asyncio(loop_scope="session")

LISTEN = "+358401621485"
SENDER = "vastaaja@vipcall.test"
CALLER = "+358501112233"


def worker(
    pool: asyncpg.Pool,
    chain: KannelChain,
    smtp_port: int,
    *,
    backoff: Backoff | None = None,
    sms_password: str | None = None,
    slots: int = 2,
) -> NoticeWorker:
    return NoticeWorker(
        pool,
        KannelSms(chain.sendsms_url, chain.user, sms_password or chain.password, LISTEN),
        SmtpMailer("127.0.0.1", smtp_port, "none", "", "", SENDER, timeout=5),
        LISTEN,
        backoff or Backoff(base=0.2, cap=0.5, max_attempts=20),
        poll_interval=0.05,
        send_timeout=5,
        slots=slots,
    )


def counted(channel: str, result: str) -> float:
    value = REGISTRY.get_sample_value(
        "vipcall_notices_total", {"channel": channel, "result": result}
    )
    return value or 0.0


async def notices(pool: asyncpg.Pool, message_id: int) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT channel, recipient, state, attempts, last_error, sent_at FROM notices"
        " WHERE message_id = $1 ORDER BY channel",
        message_id,
    )
    return [dict(r) for r in rows]


async def until(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.05)
    return await check()


def sms_to(chain: KannelChain, number: str) -> list[tuple[str, str, str]]:
    return [m for m in chain.received() if m[1] == number]


async def test_message_is_stored_with_its_notices(
    store: DbCallStore, users: Users, pool: asyncpg.Pool
) -> None:
    org = await users.org()
    both = await users.user(org, email="both@example.fi", notify_by="both")
    default = await users.user(org, email="default@example.fi")  # no settings row: SMS
    no_address = await users.user(org, notify_by="email")
    silent = await users.user(org, email="none@example.fi", notify_by="none")

    m1 = await store.save_message(both["id"], CALLER, both["mobile"], b"RIFF", 1200)
    assert [
        (n["channel"], n["recipient"], n["state"], n["attempts"]) for n in await notices(pool, m1)
    ] == [
        ("email", "both@example.fi", "pending", 0),
        ("sms", both["mobile"], "pending", 0),
    ]
    m2 = await store.save_message(default["id"], CALLER, default["mobile"], b"RIFF", 1200)
    assert [(n["channel"], n["recipient"]) for n in await notices(pool, m2)] == [
        ("sms", default["mobile"])
    ]
    m3 = await store.save_message(no_address["id"], None, no_address["mobile"], b"RIFF", 1200)
    assert [(n["channel"], n["recipient"]) for n in await notices(pool, m3)] == [
        ("sms", no_address["mobile"])
    ]
    m4 = await store.save_message(silent["id"], CALLER, silent["mobile"], b"RIFF", 1200)
    assert await notices(pool, m4) == []
    stored = await pool.fetchval("SELECT count(*) FROM voicemail_messages")
    assert stored == 4


async def test_worker_delivers_sms_to_the_gateway_and_email_with_the_audio(
    store: DbCallStore,
    users: Users,
    pool: asyncpg.Pool,
    kannel_chain: KannelChain,
    smtp: SmtpServer,
    audio: bytes,
) -> None:
    org = await users.org(time_zone="Europe/Helsinki")
    user = await users.user(org, email="maija@example.fi", notify_by="both")
    sent_before = counted("sms", "sent"), counted("email", "sent")
    message_id = await store.save_message(user["id"], CALLER, user["mobile"], audio, 42_400)
    created = await pool.fetchval(
        "SELECT created_at FROM voicemail_messages WHERE id = $1", message_id
    )

    assert await worker(pool, kannel_chain, smtp.port).run_once() == 2

    got = await until(lambda: _async(sms_to(kannel_chain, user["mobile"])))
    assert len(got) == 1
    sender, to, text = got[0]
    assert (sender, to) == (LISTEN, user["mobile"])
    local = created.astimezone(ZoneInfo("Europe/Helsinki"))
    when = f"{local.day}.{local.month}.{local.year} klo {local.hour}.{local.minute:02d}"
    assert text.startswith(f"Uusi vastaajaviesti numerosta {CALLER} {when}, kesto 42 s.")
    assert "Kuuntele: +358 40 1621485 / New voicemail from" in text
    assert text.endswith("Listen: +358 40 1621485")

    assert len(smtp.mailbox.messages) == 1
    envelope, mail = smtp.mailbox.messages[0]
    assert envelope.mail_from == SENDER and envelope.rcpt_tos == ["maija@example.fi"]
    assert mail["Subject"].strip() == f"Vastaajaviesti / Voicemail: {CALLER}, {when}"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    lines = body.get_content().strip().split("\n")
    assert lines[0].startswith(f"Uusi vastaajaviesti numerosta {CALLER} {when}")
    assert lines[1].startswith(f"New voicemail from {CALLER}")
    attachments = list(mail.iter_attachments())
    assert [(a.get_content_type(), a.get_filename()) for a in attachments] == [
        ("audio/wav", f"vastaajaviesti-{message_id}.wav")
    ]
    assert attachments[0].get_content() == audio

    rows = await notices(pool, message_id)
    assert [(n["state"], n["attempts"], n["last_error"]) for n in rows] == [
        ("sent", 1, None),
        ("sent", 1, None),
    ]
    assert all(n["sent_at"] is not None for n in rows)
    assert (counted("sms", "sent"), counted("email", "sent")) == (
        sent_before[0] + 1,
        sent_before[1] + 1,
    )


async def _async(value: Any) -> Any:
    return value


async def test_default_is_sms_only(
    store: DbCallStore,
    users: Users,
    pool: asyncpg.Pool,
    kannel_chain: KannelChain,
    smtp: SmtpServer,
    audio: bytes,
) -> None:
    org = await users.org()
    user = await users.user(org, email="has.address@example.fi")  # never chose
    await store.save_message(user["id"], CALLER, user["mobile"], audio, 5000)
    assert await worker(pool, kannel_chain, smtp.port).run_once() == 1
    assert len(await until(lambda: _async(sms_to(kannel_chain, user["mobile"])))) == 1
    assert smtp.mailbox.messages == []


async def test_smtp_down_then_up_the_notice_is_retried_and_arrives_later(
    store: DbCallStore,
    users: Users,
    pool: asyncpg.Pool,
    kannel_chain: KannelChain,
    smtp_down: SmtpServer,
    audio: bytes,
) -> None:
    org = await users.org()
    user = await users.user(org, email="later@example.fi", notify_by="email")
    retries_before = counted("email", "retry")
    w = worker(pool, kannel_chain, smtp_down.port)
    w.start()
    try:
        started = time.monotonic()
        message_id = await store.save_message(user["id"], CALLER, user["mobile"], audio, 3000)
        assert time.monotonic() - started < 1.0  # the message is stored at once regardless

        async def failed_twice() -> bool:
            rows = await notices(pool, message_id)
            return rows[0]["attempts"] >= 2

        assert await until(failed_twice)
        row = (await notices(pool, message_id))[0]
        assert row["state"] == "pending"
        assert "Connect" in row["last_error"] or "refused" in row["last_error"]
        assert counted("email", "retry") >= retries_before + 2
        assert smtp_down.mailbox.messages == []

        smtp_down.up()

        async def sent() -> bool:
            return (await notices(pool, message_id))[0]["state"] == "sent"

        assert await until(sent)
    finally:
        await w.stop()
    assert len(smtp_down.mailbox.messages) == 1
    assert list(smtp_down.mailbox.messages[0][1].iter_attachments())[0].get_content() == audio


async def test_a_restarted_app_sends_the_pending_notices(
    store: DbCallStore,
    users: Users,
    database_url: str,
    pool: asyncpg.Pool,
    kannel_chain: KannelChain,
    smtp_down: SmtpServer,
    audio: bytes,
) -> None:
    org = await users.org()
    user = await users.user(org, email="restart@example.fi", notify_by="both")
    first = worker(pool, kannel_chain, smtp_down.port, backoff=Backoff(0.2, 0.2, 20))
    message_id = await store.save_message(user["id"], CALLER, user["mobile"], audio, 3000)
    await first.run_once()  # SMS goes, email fails: SMTP is down
    await first.stop()
    rows = {n["channel"]: n for n in await notices(pool, message_id)}
    assert rows["sms"]["state"] == "sent"
    assert (rows["email"]["state"], rows["email"]["attempts"]) == ("pending", 1)
    # while the app is down, another message comes in
    second_id = await store.save_message(user["id"], CALLER, user["mobile"], audio, 4000)

    smtp_down.up()
    new_pool = await create_pool(database_url)  # a new process: nothing kept in memory
    again = worker(new_pool, kannel_chain, smtp_down.port)
    again.start()
    try:

        async def all_sent() -> bool:
            states = [n["state"] for m in (message_id, second_id) for n in await notices(pool, m)]
            return states == ["sent"] * 4

        assert await until(all_sent)
    finally:
        await again.stop()
        await new_pool.close()
    assert sorted(m[1]["To"] for m in smtp_down.mailbox.messages) == ["restart@example.fi"] * 2
    two = await until(lambda: _async(len(sms_to(kannel_chain, user["mobile"])) == 2))
    assert two, sms_to(kannel_chain, user["mobile"])


async def test_a_notice_is_given_up_after_the_last_attempt(
    store: DbCallStore,
    users: Users,
    pool: asyncpg.Pool,
    kannel_chain: KannelChain,
    smtp: SmtpServer,
) -> None:
    org = await users.org()
    user = await users.user(org)
    failed_before = counted("sms", "failed")
    w = worker(pool, kannel_chain, smtp.port, backoff=Backoff(0.05, 0.05, 3), sms_password="wrong")
    message_id = await store.save_message(user["id"], CALLER, user["mobile"], b"RIFF", 1000)
    w.start()
    try:

        async def given_up() -> bool:
            return (await notices(pool, message_id))[0]["state"] == "failed"

        assert await until(given_up)
    finally:
        await w.stop()
    row = (await notices(pool, message_id))[0]
    assert row["attempts"] == 3
    assert "403" in row["last_error"] and "Authorization failed" in row["last_error"]
    assert counted("sms", "failed") == failed_before + 1
    assert sms_to(kannel_chain, user["mobile"]) == []


async def test_two_workers_never_send_the_same_notice(
    store: DbCallStore,
    users: Users,
    database_url: str,
    pool: asyncpg.Pool,
    kannel_chain: KannelChain,
    smtp: SmtpServer,
) -> None:
    org = await users.org()
    people = [await users.user(org) for _ in range(12)]
    for person in people:
        await store.save_message(person["id"], CALLER, person["mobile"], b"RIFF", 1000)
    other_pool = await create_pool(database_url)  # a second app node
    try:
        a = worker(pool, kannel_chain, smtp.port, slots=3)
        b = worker(other_pool, kannel_chain, smtp.port, slots=3)
        a.start()
        b.start()

        async def all_sent() -> bool:
            return bool(
                await pool.fetchval(
                    "SELECT count(*) = 12 AND bool_and(attempts = 1) FROM notices"
                    " WHERE state = 'sent'"
                )
            )

        try:
            assert await until(all_sent)
        finally:
            await a.stop()
            await b.stop()
    finally:
        await other_pool.close()
    for person in people:
        got = await until(lambda p=person: _async(sms_to(kannel_chain, p["mobile"])))
        assert len(got) == 1


async def test_kannel_adapter_accepts_and_refuses(kannel_chain: KannelChain) -> None:
    sms = KannelSms(kannel_chain.sendsms_url, kannel_chain.user, kannel_chain.password, LISTEN)
    assert await sms.send("+358409998877", "hello") == "0: Accepted for delivery"
    bad = KannelSms(kannel_chain.sendsms_url, kannel_chain.user, "nope", LISTEN)
    with pytest.raises(SendError, match="403: Authorization failed"):
        await bad.send("+358409998877", "hello")
    with pytest.raises(ValueError, match="VIPCALL_SMS_URL"):
        KannelSms("ftp://x", "u", "p", LISTEN)


async def test_the_worker_outlives_lost_database_connections(
    store: DbCallStore,
    users: Users,
    database_url: str,
    pool: asyncpg.Pool,
    kannel_chain: KannelChain,
    smtp: SmtpServer,
) -> None:
    org = await users.org()
    user = await users.user(org)
    own_pool = await create_pool(database_url)
    w = worker(own_pool, kannel_chain, smtp.port)
    w.start()
    try:
        await asyncio.sleep(0.3)  # the slots have connections now
        killed = await pool.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert killed >= 1  # the worker's connections among them
        message_id = await store.save_message(user["id"], CALLER, user["mobile"], b"RIFF", 1000)

        async def sent() -> bool:
            return (await notices(pool, message_id))[0]["state"] == "sent"

        assert await until(sent)
        assert all(not t.done() for t in w._tasks)
    finally:
        await w.stop()
        await own_pool.close()
