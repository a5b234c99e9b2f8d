"""What leaving a message needs from PostgreSQL, and the expiry of old messages.

* :func:`mailbox_profile`: one query for everything the deposit flow reads about a mailbox —
  the user's greeting settings (announce activity / end time, key 1 number, key 2), which
  recordings exist (and their version for the media URL), the organisation's limits, time
  zone and language, and how many messages the mailbox holds now.
* :func:`expire_messages`: marks deleted (and drops the audio of) the messages whose time is
  up. When that is is the pure rule :func:`vipcall.voicemail.limits.expires_at`; the SQL only
  reads candidates and writes the verdicts. :func:`expire_periodically` runs it in the app.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from vipcall.presence.forwarding import OPEN, DialPolicy, dial_policy
from vipcall.voicemail.limits import MailboxLimits, expires_at

log = logging.getLogger("vipcall.voicemail")

#: Seconds between two expiry rounds in the app.
EXPIRY_INTERVAL = 3600.0
#: Messages read per expiry query (keyset pages, so a large table is never read at once).
EXPIRY_PAGE = 1000


@dataclass(frozen=True, slots=True)
class MailboxProfile:
    """A mailbox as the deposit flow sees it at one moment (defaults where the user has no
    voicemail settings row)."""

    user_id: int
    mobile: str
    limits: MailboxLimits
    messages: int
    """Messages in the mailbox now (not deleted; heard and saved ones count)."""
    time_zone: str = "Europe/Helsinki"
    language: str = "fi"
    announce_activity: bool = False
    announce_end_time: bool = False
    key1_target: str | None = None
    """The number key 1 connects to, when the user offers it."""
    dial_policy: DialPolicy = OPEN
    """Where the organisation lets the service call (key 1 is not offered past it)."""
    offer_bypass: bool = False
    """Key 2 ("reach the person anyway") when a routing rule sent the caller here."""
    greeting_version: int | None = None
    """Version of the user's own recorded greeting (``None``: none recorded)."""
    name_version: int | None = None
    """Version of the user's recorded name (``None``: none recorded)."""


PROFILE = """
SELECT u.id, u.mobile_number, o.time_zone, o.language, o.allowed_countries, o.denied_prefixes,
       o.vm_max_message_seconds, o.vm_max_messages, o.vm_keep_unheard_days, o.vm_keep_heard_days,
       COALESCE(vs.announce_activity, false) AS announce_activity,
       COALESCE(vs.announce_end_time, false) AS announce_end_time,
       CASE WHEN vs.offer_transfer THEN vs.transfer_target END AS key1_target,
       COALESCE(vs.offer_bypass, false) AS offer_bypass,
       vs.greeting_audio IS NOT NULL AS has_greeting,
       vs.name_audio IS NOT NULL AS has_name,
       vs.updated_at,
       (SELECT count(*) FROM voicemail_messages m JOIN mailboxes b ON b.id = m.mailbox_id
         WHERE b.user_id = u.id AND NOT m.deleted) AS messages
  FROM users u JOIN organizations o ON o.id = u.organization_id
  LEFT JOIN voicemail_settings vs ON vs.user_id = u.id
 WHERE u.id = $1
"""


def audio_version(updated_at: datetime) -> int:
    """The version of a recorded greeting or name in its media URL: the settings row's
    change time in microseconds, so a new recording (even within the same second) is a new
    URL and Asterisk's media cache never plays a stale one."""
    return int(updated_at.timestamp() * 1_000_000)


async def mailbox_profile(pool: asyncpg.Pool, user_id: int) -> MailboxProfile | None:
    """The user's mailbox profile; ``None`` when there is no such user."""
    row = await pool.fetchrow(PROFILE, user_id)
    if row is None:
        return None
    version = audio_version(row["updated_at"]) if row["updated_at"] is not None else None
    return MailboxProfile(
        user_id=row["id"],
        mobile=row["mobile_number"],
        limits=MailboxLimits(
            max_message_seconds=row["vm_max_message_seconds"],
            max_messages=row["vm_max_messages"],
            keep_unheard_days=row["vm_keep_unheard_days"],
            keep_heard_days=row["vm_keep_heard_days"],
        ),
        messages=int(row["messages"]),
        time_zone=row["time_zone"],
        language=row["language"],
        announce_activity=row["announce_activity"],
        announce_end_time=row["announce_end_time"],
        key1_target=row["key1_target"],
        dial_policy=dial_policy(row["allowed_countries"], row["denied_prefixes"]),
        offer_bypass=row["offer_bypass"],
        greeting_version=version if row["has_greeting"] else None,
        name_version=version if row["has_name"] else None,
    )


# --- expiry -----------------------------------------------------------------------------------

#: Messages that may expire (not saved, not deleted) with their organisation's limits.
CANDIDATES = """
SELECT m.id, m.created_at, m.heard_at, m.saved,
       o.vm_keep_unheard_days, o.vm_keep_heard_days
  FROM voicemail_messages m
  JOIN mailboxes b ON b.id = m.mailbox_id
  JOIN users u ON u.id = b.user_id
  JOIN organizations o ON o.id = u.organization_id
 WHERE NOT m.deleted AND NOT m.saved AND m.id > $1
 ORDER BY m.id
 LIMIT $2
"""

#: Marks the verdicts deleted — only if the message is still as it was read (not saved or
#: heard meanwhile: then it is judged again next round).
EXPIRE = """
UPDATE voicemail_messages m SET deleted = true, audio = NULL
  FROM unnest($1::bigint[], $2::timestamptz[]) AS x(id, heard_at)
 WHERE m.id = x.id AND NOT m.deleted AND NOT m.saved
   AND m.heard_at IS NOT DISTINCT FROM x.heard_at
"""


async def expire_messages(pool: asyncpg.Pool, now: datetime | None = None) -> int:
    """Mark deleted every message whose time is up (:func:`expires_at`); returns how many."""
    now = now or datetime.now(UTC)
    expired = 0
    after = 0
    while True:
        rows = await pool.fetch(CANDIDATES, after, EXPIRY_PAGE)
        if not rows:
            return expired
        after = rows[-1]["id"]
        due = [r for r in rows if (at := _expires(r)) is not None and at <= now]
        if due:
            status = await pool.execute(
                EXPIRE, [r["id"] for r in due], [r["heard_at"] for r in due]
            )
            expired += int(status.rsplit(" ", 1)[-1])


def _expires(row: asyncpg.Record) -> datetime | None:
    limits = MailboxLimits(
        keep_unheard_days=row["vm_keep_unheard_days"], keep_heard_days=row["vm_keep_heard_days"]
    )
    return expires_at(row["created_at"], row["heard_at"], row["saved"], limits)


async def expire_periodically(pool: asyncpg.Pool, interval: float = EXPIRY_INTERVAL) -> None:
    """The app's expiry job: a round now and every ``interval`` seconds; a failed round
    (database away) is logged and tried again at the next one."""
    while True:
        try:
            expired = await expire_messages(pool)
            if expired:
                log.info("expired %d voicemail messages", expired)
        except Exception as exc:  # noqa: BLE001 - next round
            log.warning("expiring voicemail messages failed (%s); retrying", type(exc).__name__)
        await asyncio.sleep(interval)
