"""The real parts the notice tests drive: test users written to PostgreSQL, an aiosmtpd
SMTP server on loopback that keeps what arrived (and can be down), a small WAV file."""

from __future__ import annotations

import email
import email.policy
import io
import itertools
import secrets
import wave
from email.message import EmailMessage
from typing import Any

import asyncpg
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from harness.kannel import free_port

_serial = itertools.count(int(secrets.token_hex(2), 16) % 5000 * 100)


class Users:
    """Organisations and users written straight to the test database."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def org(self, time_zone: str | None = None) -> int:
        domain = f"org{secrets.token_hex(3)}.fi"
        org_id = await self.pool.fetchval(
            "INSERT INTO organizations (name, domain) VALUES ($1, $2) RETURNING id",
            f"Test {domain}",
            domain,
        )
        if time_zone:
            await self.pool.execute(
                "UPDATE organizations SET time_zone = $2 WHERE id = $1", org_id, time_zone
            )
        return int(org_id)

    async def user(
        self, org: int, *, email: str | None = None, notify_by: str | None = None
    ) -> dict[str, Any]:
        mobile = f"+35840{1000000 + next(_serial) % 8999999:07d}"
        user_id = await self.pool.fetchval(
            """INSERT INTO users (organization_id, username, display_name, mobile_number, email)
               VALUES ($1, $2, 'Test User', $3, $4) RETURNING id""",
            org,
            f"fi0{mobile[4:]}@x{org}.fi",
            mobile,
            email,
        )
        if notify_by is not None:
            await self.pool.execute(
                "INSERT INTO voicemail_settings (user_id, notify_by) VALUES ($1, $2)",
                user_id,
                notify_by,
            )
        return {"id": int(user_id), "mobile": mobile, "email": email}


class Mailbox:
    """aiosmtpd handler: every message that arrived, parsed."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 OK"


class SmtpServer:
    """A real SMTP server on a loopback port that can be down (not listening) and up."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def up(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def wav(seconds: float = 1.0) -> bytes:
    """A small valid WAV file (8 kHz, 16-bit mono silence with a tone-ish pattern)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes((i * 37) % 256 for i in range(int(16000 * seconds))))
    return buf.getvalue()
