"""What the listening number (:mod:`vipcall.voicemail.listen`) reads and writes in
PostgreSQL: a mailbox's messages, heard / saved / deleted marks, the owner of a mailbox
number, PIN checks (argon2 in a thread) and failed logins, greetings and names recorded by
phone, and the counts the message waiting indicator shows.

:class:`ListeningQueries` is mixed into :class:`vipcall.store.calls.DbCallStore` (it uses
its ``pool`` and ``sessions``); the port is :class:`vipcall.calls.context.ListeningStore`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall.db.engine import transaction
from vipcall.directory import voicemail as vm_service
from vipcall.voicemail.menu import Message

_MESSAGES = """
SELECT m.id, m.caller_number, m.created_at, COALESCE(m.duration_ms, 0) AS duration_ms,
       m.saved, m.heard, o.time_zone
  FROM users u JOIN organizations o ON o.id = u.organization_id
  LEFT JOIN mailboxes mb ON mb.user_id = u.id
  LEFT JOIN voicemail_messages m ON m.mailbox_id = mb.id AND NOT m.deleted
 WHERE u.id = $1
 ORDER BY m.created_at, m.id
"""

#: A mailbox's counts over its messages ``m``: new = neither heard nor saved, old = heard or
#: saved (also the MWI republish query, :data:`vipcall.store.mailbox_notify.MAILBOX_STATES`).
NEW_OLD = """count(*) FILTER (WHERE NOT m.heard AND NOT m.saved) AS new,
       count(*) FILTER (WHERE m.heard OR m.saved) AS old"""

_COUNTS = f"""
SELECT {NEW_OLD}
  FROM voicemail_messages m JOIN mailboxes mb ON mb.id = m.mailbox_id
 WHERE mb.user_id = $1 AND NOT m.deleted
"""

_OWNER = "SELECT id FROM users WHERE mobile_number = $1 OR landline_number = $1 LIMIT 1"
_PIN_HASH = "SELECT pin_hash FROM voicemail_settings WHERE user_id = $1"
_HEARD = """
UPDATE voicemail_messages SET heard = true, heard_at = COALESCE(heard_at, now())
 WHERE id = $1 AND mailbox_id = (SELECT id FROM mailboxes WHERE user_id = $2)
"""
_SAVED = """
UPDATE voicemail_messages SET saved = true, heard = true, heard_at = COALESCE(heard_at, now())
 WHERE id = $1 AND mailbox_id = (SELECT id FROM mailboxes WHERE user_id = $2)
"""
_DELETED = """
UPDATE voicemail_messages SET deleted = true
 WHERE id = $1 AND mailbox_id = (SELECT id FROM mailboxes WHERE user_id = $2)
"""
_LOGIN_FAILURE = "INSERT INTO mailbox_login_failures (user_id, caller_number) VALUES ($1, $2)"


class ListeningQueries:
    """The listening number's storage (mixed into ``DbCallStore``)."""

    pool: asyncpg.Pool
    sessions: async_sessionmaker[AsyncSession]

    async def mailbox_messages(self, user_id: int) -> tuple[list[Message], str]:
        """(the mailbox's messages, oldest first, not deleted; the organisation's time zone).
        Times are in that zone."""
        rows = await self.pool.fetch(_MESSAGES, user_id)
        zone = rows[0]["time_zone"] if rows else "Europe/Helsinki"
        tz = ZoneInfo(zone)
        messages = [
            Message(
                r["id"],
                r["caller_number"],
                _local(r["created_at"], tz),
                r["duration_ms"],
                saved=r["saved"],
                heard=r["heard"],
            )
            for r in rows
            if r["id"] is not None
        ]
        return messages, zone

    async def message_counts(self, user_id: int) -> tuple[int, int]:
        """(new, old) messages: new = not heard and not saved; old = heard or saved."""
        row = await self.pool.fetchrow(_COUNTS, user_id)
        return (int(row["new"]), int(row["old"])) if row is not None else (0, 0)

    async def mark_heard(self, user_id: int, message_id: int) -> None:
        await self.pool.execute(_HEARD, message_id, user_id)

    async def mark_saved(self, user_id: int, message_id: int) -> None:
        await self.pool.execute(_SAVED, message_id, user_id)

    async def mark_deleted(self, user_id: int, message_id: int) -> None:
        await self.pool.execute(_DELETED, message_id, user_id)

    async def mailbox_owner(self, number: str) -> int | None:
        """The user whose mobile or landline number is ``number`` (E.164)."""
        value = await self.pool.fetchval(_OWNER, number)
        return int(value) if value is not None else None

    async def check_pin(self, user_id: int, pin: str) -> bool:
        """True if ``pin`` is the user's PIN (False when none is set). argon2 (~50 ms of
        CPU) runs in a thread, so other calls go on meanwhile."""
        pin_hash = await self.pool.fetchval(_PIN_HASH, user_id)
        return await asyncio.to_thread(vm_service.pin_matches, pin_hash, pin)

    async def log_login_failure(self, user_id: int | None, caller: str | None) -> None:
        await self.pool.execute(_LOGIN_FAILURE, user_id, caller)

    async def change_pin(self, user_id: int, pin: str) -> None:
        """Set the PIN (raises :class:`vipcall.directory.InvalidField` unless 4-8 digits)."""
        async with transaction(self.sessions) as session:
            await vm_service.set_pin(session, user_id, pin)

    async def store_recording(self, user_id: int, kind: vm_service.AudioKind, wav: bytes) -> None:
        """Store a greeting or name recorded by phone (converted and checked as the CLI's)."""
        async with transaction(self.sessions) as session:
            await vm_service.set_audio(session, user_id, kind, wav, filename=f"{kind}.wav")

    async def delete_recording(self, user_id: int, kind: vm_service.AudioKind) -> bool:
        async with transaction(self.sessions) as session:
            return await vm_service.delete_audio(session, user_id, kind)


def _local(when: datetime, tz: ZoneInfo) -> datetime:
    return when.astimezone(tz)
