"""The notice queue's worker: an asyncio task in the app process that sends due notices.

The queue is the ``notices`` table; the store enqueues a message's notices in the very
statement that stores the message (:data:`vipcall.store.calls.SAVE_MESSAGE`), so sending
never delays or loses a message and everything survives a restart. Each worker slot claims
one due notice at a time with ``SELECT ... FOR UPDATE SKIP LOCKED`` and keeps the row locked
while it sends, so two slots (or two app nodes) never send the same notice; if the process
dies mid-send the transaction rolls back and the notice is sent again (at least once).
A failed send is recorded (attempts, last_error) and scheduled again by
:class:`vipcall.notices.rules.Backoff`; after the last attempt the notice is marked failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from email.message import EmailMessage
from typing import Any, Protocol

import asyncpg

from vipcall.config import Settings
from vipcall.metrics import NOTICES
from vipcall.notices.mail import SmtpMailer, build_email
from vipcall.notices.rules import Backoff, compose_notice
from vipcall.notices.sms import KannelSms
from vipcall.numbers import normalize

log = logging.getLogger("vipcall.notices")

CLAIM = """
SELECT n.id, n.channel, n.recipient, n.attempts, n.message_id,
       m.caller_number, m.created_at, m.duration_ms,
       CASE WHEN n.channel = 'email' THEN m.audio END AS audio,
       o.time_zone
  FROM notices n
  JOIN voicemail_messages m ON m.id = n.message_id
  JOIN mailboxes b ON b.id = m.mailbox_id
  JOIN users u ON u.id = b.user_id
  JOIN organizations o ON o.id = u.organization_id
 WHERE n.state = 'pending' AND n.next_attempt_at <= now()
 ORDER BY n.next_attempt_at, n.id
 LIMIT 1
 FOR UPDATE OF n SKIP LOCKED
"""
MARK_SENT = """
UPDATE notices SET state = 'sent', attempts = $2, sent_at = clock_timestamp(), last_error = NULL
 WHERE id = $1
"""
MARK_RETRY = """
UPDATE notices SET attempts = $2, last_error = $3, next_attempt_at = now() + $4::interval
 WHERE id = $1
"""
MARK_FAILED = "UPDATE notices SET state = 'failed', attempts = $2, last_error = $3 WHERE id = $1"


class SmsSender(Protocol):
    async def send(self, to: str, text: str) -> str: ...


class Mailer(Protocol):
    sender: str

    async def send(self, message: EmailMessage) -> None: ...


def settings_problem(settings: Settings) -> str | None:
    """What is wrong with the notice settings (VIPCALL_SMTP_*, VIPCALL_SMS_*,
    VIPCALL_NOTICE_*), in one line; None when they are usable."""
    try:
        NoticeWorker.from_settings(None, settings)
    except ValueError as exc:
        if str(exc).startswith("backoff"):
            return f"VIPCALL_NOTICE_RETRY_BASE/_RETRY_MAX/_MAX_ATTEMPTS: {exc}"
        return str(exc)
    return None


def adapters_from_settings(settings: Settings) -> tuple[KannelSms, SmtpMailer]:
    """The SMS gateway and SMTP adapters (VIPCALL_SMS_*, VIPCALL_SMTP_*): the notices'
    and the password codes' way out. Raises ValueError for unusable settings."""
    listening = normalize(settings.voicemail_number, settings.region)
    return (
        KannelSms(
            settings.sms_url,
            settings.sms_user,
            settings.sms_password,
            settings.sms_from or listening,
            timeout=settings.notice_send_timeout,
        ),
        SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_user,
            settings.smtp_password,
            settings.smtp_from,
            timeout=settings.notice_send_timeout,
            ca_file=settings.smtp_ca_file,
        ),
    )


class NoticeWorker:
    """Sends due notices until stopped: :meth:`start` / :meth:`stop`, or :meth:`run_once`
    to send every notice due now (tests, one-off runs)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        sms: SmsSender,
        mailer: Mailer,
        listening_number: str,
        backoff: Backoff | None = None,
        poll_interval: float = 1.0,
        send_timeout: float = 30.0,
        slots: int = 2,
    ) -> None:
        self.pool = pool
        self.sms = sms
        self.mailer = mailer
        self.listening_number = listening_number
        self.backoff = backoff or Backoff()
        self.poll_interval = poll_interval
        self.send_timeout = send_timeout
        self.slots = slots
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def from_settings(cls, pool: asyncpg.Pool, settings: Settings) -> NoticeWorker:
        sms, mailer = adapters_from_settings(settings)
        return cls(
            pool,
            sms,
            mailer,
            normalize(settings.voicemail_number, settings.region),
            Backoff(
                settings.notice_retry_base,
                settings.notice_retry_max,
                settings.notice_max_attempts,
            ),
            poll_interval=settings.notice_poll_interval,
            send_timeout=settings.notice_send_timeout,
        )

    def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._run(), name=f"notices-{i}") for i in range(self.slots)
        ]

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop after the sends under way (a send cut short is sent again later)."""
        self._stopping.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # the database away, or a bug: log, keep the slot alive
                log.warning("notice queue unavailable: %s: %s", type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_interval)

    async def run_once(self) -> int:
        """Send every notice due now; how many were tried."""
        tried = 0
        while not self._stopping.is_set() and await self.send_one():
            tried += 1
        return tried

    async def send_one(self) -> bool:
        """Claim one due notice and try to send it; False when none is due."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(CLAIM)
            if row is None:
                return False
            attempts = row["attempts"] + 1
            channel = row["channel"]
            try:
                await asyncio.wait_for(self._send(row), self.send_timeout)
            except Exception as exc:  # any failure is recorded, retried, at last given up
                error = f"{type(exc).__name__}: {exc}"[:1000]
                wait = self.backoff.after_failure(attempts)
                if wait is None:
                    await conn.execute(MARK_FAILED, row["id"], attempts, error)
                    NOTICES.labels(channel, "failed").inc()
                    log.error(
                        "notice %d (%s to %s) given up after %d attempts: %s",
                        row["id"],
                        channel,
                        row["recipient"],
                        attempts,
                        error,
                    )
                else:
                    await conn.execute(MARK_RETRY, row["id"], attempts, error, wait)
                    NOTICES.labels(channel, "retry").inc()
                    log.warning(
                        "notice %d (%s to %s) attempt %d failed, next in %ds: %s",
                        row["id"],
                        channel,
                        row["recipient"],
                        attempts,
                        wait.total_seconds(),
                        error,
                    )
            else:
                await conn.execute(MARK_SENT, row["id"], attempts)
                NOTICES.labels(channel, "sent").inc()
                log.info(
                    "notice %d (%s to %s) of message %d sent",
                    row["id"],
                    channel,
                    row["recipient"],
                    row["message_id"],
                )
            return True

    async def _send(self, row: Any) -> None:
        text = compose_notice(
            row["caller_number"],
            row["created_at"],
            row["duration_ms"],
            row["time_zone"],
            self.listening_number,
        )
        if row["channel"] == "sms":
            await self.sms.send(row["recipient"], text.sms)
        else:
            message = build_email(
                self.mailer.sender,
                row["recipient"],
                text,
                row["audio"],
                f"vastaajaviesti-{row['message_id']}.wav",
            )
            await self.mailer.send(message)
