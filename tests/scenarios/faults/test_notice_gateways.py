"""The SMTP server and the SMS gateway both down while callers leave messages through the
real Asterisk: the messages are stored at once, their notices wait in the queue (retried),
and once both are up again every notice is delivered, each exactly once. The worker's own
tests (tests/notices/) cover SMTP down at the queue level; this one runs the whole app."""

from __future__ import annotations

import asyncio
import time

import asyncpg
from sqlalchemy.engine import make_url

import harness.kannel as kannel
from harness.app import AppProcess, eventually
from harness.sandbox import unavailable
from tests.notices.parts import SmtpServer
from tests.support.people import messages_of
from tests.support.voicemail import default_greeting_seconds

AWAY = 5  # red: a call to the landline goes to voicemail


async def notices(dsn: str, user_ids: list[int]) -> list[dict[str, object]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT n.channel, n.recipient, n.state, n.attempts FROM notices n"
            " JOIN voicemail_messages m ON m.id = n.message_id"
            " JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = ANY($1::int[])",
            user_ids,
        )
    finally:
        await conn.close()
    return [dict(r) for r in rows]


async def test_notices_wait_while_smtp_and_sms_are_down_and_arrive_once_up(
    vipcall, asterisk, database, people, parties, tmp_path
) -> None:
    why = kannel.ensure_installed()
    if why:
        unavailable(f"Kannel not available: {why}")
    chain = kannel.KannelChain(tmp_path / "kannel")  # not started: the gateway is down
    smtp = SmtpServer()  # not up: nobody listens on its port
    dsn = make_url(database).set(drivername="postgresql").render_as_string(hide_password=False)
    org = await people.org()
    users = [await people.user(org, landline=True) for _ in range(2)]
    conn = await asyncpg.connect(dsn)
    try:
        for i, u in enumerate(users):
            await conn.execute("UPDATE users SET email = $2 WHERE id = $1", u.id, f"u{i}@e.fi")
            await conn.execute(
                "INSERT INTO voicemail_settings (user_id, notify_by) VALUES ($1, 'both')"
                " ON CONFLICT (user_id) DO UPDATE SET notify_by = 'both'",
                u.id,
            )
    finally:
        await conn.close()
    for u in users:
        await people.set_activity(u, AWAY)

    vipcall.stop()
    app = AppProcess(
        asterisk, database, tmp_path / "vipcall.log", http_port=19112,
        extra_env={
            "VIPCALL_SMTP_HOST": "127.0.0.1", "VIPCALL_SMTP_PORT": str(smtp.port),
            "VIPCALL_SMS_URL": chain.sendsms_url, "VIPCALL_SMS_USER": chain.user,
            "VIPCALL_SMS_PASSWORD": chain.password, "VIPCALL_NOTICE_RETRY_BASE": "1",
            "VIPCALL_NOTICE_RETRY_MAX": "2",
        },
    )  # fmt: skip
    await asyncio.to_thread(app.start)
    try:
        greeting = max(default_greeting_seconds(u.landline or "") for u in users) + 6
        callers = [
            await parties.external_caller(
                f"+35850111006{i}", u.landline, "uac_message.xml", hold=str(int(greeting * 1000))
            ).start()
            for i, u in enumerate(users)
        ]
        for caller in callers:
            assert (await caller.wait()).ok
        stored = [await eventually(lambda u=u: messages_of(database, u.id)) for u in users]
        ids = [u.id for u in users]

        async def retried() -> bool:
            rows = await notices(dsn, ids)
            return len(rows) == 4 and all(r["attempts"] >= 2 for r in rows)

        await eventually(retried, timeout=20)
        waiting = await notices(dsn, ids)
        assert all(r["state"] == "pending" for r in waiting), waiting

        up_at = time.monotonic()
        smtp.up()
        await asyncio.to_thread(chain.start)

        async def all_sent() -> bool:
            return all(r["state"] == "sent" for r in await notices(dsn, ids))

        await eventually(all_sent, timeout=30, interval=0.2)
        delivered_s = time.monotonic() - up_at
        sms = await asyncio.to_thread(chain.wait_received, 2, 10.0)
        await asyncio.sleep(3)  # anything sent twice would arrive by now
        mails = [m[1]["To"] for m in smtp.mailbox.messages]
        sms_to = sorted(m[1] for m in chain.received())
    finally:
        app.stop()
        chain.stop()
        smtp.down()

    print(
        f"\nFAULT notice-gateways: {len(stored)} messages stored while SMTP and SMS were down; "
        f"{len(waiting)} notices pending after >= 2 attempts each; all sent {delivered_s:.1f} s "
        f"after both came back (retry base 1 s, max 2 s); {len(mails)} emails, {len(sms)} SMS"
    )
    assert all(len(m) == 1 for m in stored)
    assert sorted(mails) == ["u0@e.fi", "u1@e.fi"]
    assert sms_to == sorted(u.mobile for u in users)
