"""Loads the routing snapshot from PostgreSQL and stores what call flows write.

One round trip per new call: the calling and the called user are fetched together with the
facts routing reads (organisation, manual and scheduled activities, forwardings,
softphones, whether the user has voicemail). Only when the callee forwards, a second query
gathers the users the forwarding reaches, for the loop check. The rules applied to these
facts (which activity is in effect, which forwarding applies) are the pure functions of
:mod:`vipcall.presence`; no rule is written in SQL here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall import directory
from vipcall.calls.media import MediaKind
from vipcall.db.engine import session_factory, transaction
from vipcall.db.queries import (
    FORWARDING_FACTS,
    FORWARDING_REACH,
    VIP_NUMBERS,
    forwarding_facts,
    numbered,
)
from vipcall.db.queries import reached as reached_user
from vipcall.notices.rules import DEFAULT_NOTIFY_BY, channel_table
from vipcall.presence.absence import AbsenceSettings, is_vip, recent_calls
from vipcall.presence.activity import activity_in_effect, red_chain_end, scheduled_in_effect
from vipcall.presence.forwarding import dial_policy, next_hops_now, split_forwardings
from vipcall.presence.model import Activity, Role
from vipcall.routing.snapshot import Organization, Subscriber
from vipcall.store.listening import ListeningQueries
from vipcall.store.mailbox import MailboxProfile, mailbox_profile
from vipcall.store.servicenumbers import ServiceNumberQueries

_USER_SQL = (
    """
SELECT u.id, u.mobile_number, u.landline_number, u.role,
       o.id AS org_id, o.switchboard_number, o.red_activities, o.language,
       o.allowed_countries, o.denied_prefixes,"""
    + FORWARDING_FACTS
    + """,
       ARRAY(SELECT p.sip_username FROM softphones p
              WHERE p.user_id = u.id ORDER BY p.seq) AS softphones,
       NOT EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
                    WHERE gm.user_id = u.id AND g.kind = 'no_voicemail') AS voicemail_enabled,
       u.mobile_number = :caller OR u.id = (SELECT p.user_id FROM softphones p
                                              WHERE p.sip_username = :softphone) AS is_caller,
       u.mobile_number = :dialled OR u.landline_number = :dialled AS is_callee,
       vs.notice_on_scheduled_red, vs.offer_customer_service, vs.customer_service_number,
       vs.repeat_breakthrough, vs.repeat_calls, vs.repeat_minutes,
       CASE WHEN u.mobile_number = :dialled OR u.landline_number = :dialled THEN """
    + VIP_NUMBERS
    + """ END AS vip_numbers,
       ARRAY(SELECT sc.at FROM stopped_calls sc
              WHERE sc.user_id = u.id AND sc.caller_number = :calling
                AND sc.at > :now - INTERVAL '1 day'
              ORDER BY sc.at DESC LIMIT 50) AS stopped_at
  FROM users u JOIN organizations o ON o.id = u.organization_id
  LEFT JOIN voicemail_settings vs ON vs.user_id = u.id
"""
)

#: The caller's number: the one it sent, or a softphone's owner's mobile.
_CALLING = (
    "COALESCE(CAST(:caller AS text), (SELECT cu.mobile_number FROM softphones cp"
    " JOIN users cu ON cu.id = cp.user_id WHERE cp.sip_username = CAST(:softphone AS text)))"
)

PARTIES = numbered(
    _USER_SQL.replace(":calling", _CALLING)
    .replace(":caller", "CAST(:caller AS text)")
    .replace(":softphone", "CAST(:softphone AS text)")
    .replace(":dialled", "CAST(:dialled AS text)")
    + """ WHERE u.mobile_number IN (:caller, :dialled) OR u.landline_number = :dialled
        OR u.id = (SELECT p.user_id FROM softphones p WHERE p.sip_username = :softphone)""",
    "now",
    "caller",
    "softphone",
    "dialled",
)
ONE_USER = numbered(
    _USER_SQL.replace(":calling", "NULL")
    .replace(":caller", "NULL")
    .replace(":softphone", "NULL")
    .replace(":dialled", "NULL")
    + " WHERE u.id = :user",
    "now",
    "user",
)
REACH = numbered(FORWARDING_REACH, "start", "now")

_AUDIO = {
    MediaKind.GREETING: "SELECT greeting_audio FROM voicemail_settings WHERE user_id = $1",
    MediaKind.NAME: "SELECT name_audio FROM voicemail_settings WHERE user_id = $1",
    MediaKind.MESSAGE: "SELECT audio FROM voicemail_messages WHERE id = $1 AND NOT deleted",
}

# One statement stores the message and enqueues its notices (vipcall.notices), so a message
# is never without its notices and sending them never delays the message. Which notices is
# the pure rule notices.rules.notice_channels, passed in row by row as $6-$9 (no rule here).
SAVE_MESSAGE = """
WITH box AS (
  INSERT INTO mailboxes (user_id) VALUES ($1)
  ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id
  RETURNING id
), msg AS (
  INSERT INTO voicemail_messages (mailbox_id, caller_number, called_number, duration_ms, audio)
  SELECT id, $2, $3, $4, $5 FROM box
  RETURNING id
), who AS (
  SELECT u.mobile_number, u.email, COALESCE(s.notify_by, $9) AS notify_by,
         COALESCE(u.email, '') <> '' AS has_email
    FROM users u LEFT JOIN voicemail_settings s ON s.user_id = u.id
   WHERE u.id = $1
), queued AS (
  INSERT INTO notices (message_id, channel, recipient)
  SELECT msg.id, r.channel, CASE r.channel WHEN 'email' THEN who.email ELSE who.mobile_number END
    FROM msg, who
    JOIN unnest($6::text[], $7::bool[], $8::text[]) AS r(notify_by, has_email, channel)
      ON r.notify_by = who.notify_by AND r.has_email = who.has_email
)
SELECT id FROM msg
"""
_CHANNELS = channel_table()


def _absence(row: Any) -> AbsenceSettings:
    """The user's settings that shape the absence notice (defaults without a row)."""
    return AbsenceSettings(
        notice_on_scheduled_red=bool(row["notice_on_scheduled_red"]),
        customer_service=row["customer_service_number"] if row["offer_customer_service"] else None,
        repeat_calls=row["repeat_calls"] if row["repeat_breakthrough"] else None,
        repeat_minutes=row["repeat_minutes"] or 10,
    )


def _subscriber(
    row: Any, now: datetime, hops: dict[str, tuple[str, ...]], caller: str | None = None
) -> Subscriber:
    org = Organization(
        id=row["org_id"],
        switchboard=row["switchboard_number"],
        red_activities=frozenset(Activity(a) for a in row["red_activities"]),
        language=row["language"],
        dial_policy=dial_policy(row["allowed_countries"], row["denied_prefixes"]),
    )
    manual, periods, forwardings = forwarding_facts(row)
    immediate, by_activity = split_forwardings(forwardings)
    red = org.red_activities
    absence = _absence(row)
    return Subscriber(
        id=row["id"],
        org=org,
        mobile=row["mobile_number"],
        landline=row["landline_number"],
        activity=Activity(activity_in_effect(manual, periods, now)),
        role=Role(row["role"]),
        immediate_forward=immediate,
        activity_forwards={Activity(a): t for a, t in by_activity.items()},
        softphones=tuple(row["softphones"]),
        voicemail_enabled=row["voicemail_enabled"],
        forward_hops=hops,
        activity_scheduled=scheduled_in_effect(periods, now) is not None,
        red_until=red_chain_end(periods, red, now),
        absence=absence,
        caller_is_vip=is_vip(caller, row["vip_numbers"] or ()),
        earlier_stopped_calls=recent_calls(row["stopped_at"], now, absence),
    )


class DbCallStore(ListeningQueries, ServiceNumberQueries):
    """The call flows' storage (:class:`vipcall.calls.context.CallStore`) in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool, engine: AsyncEngine) -> None:
        self.pool = pool
        self.sessions = session_factory(engine)

    async def parties(
        self, caller: str | None, softphone: str | None, dialled: str | None
    ) -> tuple[Subscriber | None, Subscriber | None]:
        if caller is None and softphone is None and dialled is None:
            return None, None
        now = datetime.now(UTC)
        rows = await self.pool.fetch(PARTIES, now, caller, softphone, dialled)
        calling = called = None
        for row in rows:
            if row["is_caller"]:
                calling = _subscriber(row, now, {})
        calling_number = caller if caller is not None or calling is None else calling.mobile
        for row in rows:
            if row["is_callee"]:
                hops = await self._hops(row["fwd_targets"], now)
                called = _subscriber(row, now, hops, calling_number)
        return calling, called

    async def _hops(self, targets: list[str], now: datetime) -> dict[str, tuple[str, ...]]:
        """Where the users the callee's forwardings reach forward to now (loop check)."""
        if not targets:
            return {}
        rows = await self.pool.fetch(REACH, list(targets), now)
        return next_hops_now((reached_user(r) for r in rows), now)

    async def user(self, user_id: int) -> Subscriber | None:
        now = datetime.now(UTC)
        row = await self.pool.fetchrow(ONE_USER, now, user_id)
        return None if row is None else _subscriber(row, now, {})

    async def save_message(
        self, user_id: int, caller: str | None, called: str | None, audio: bytes, duration_ms: int
    ) -> int:
        message_id = await self.pool.fetchval(
            SAVE_MESSAGE,
            user_id,
            caller,
            called or "",
            duration_ms,
            audio,
            _CHANNELS.notify_by,
            _CHANNELS.has_email,
            _CHANNELS.channel,
            DEFAULT_NOTIFY_BY,
        )
        return int(message_id)

    async def mailbox_profile(self, user_id: int) -> MailboxProfile | None:
        """What leaving a message in the user's mailbox needs (:mod:`vipcall.store.mailbox`)."""
        return await mailbox_profile(self.pool, user_id)

    async def note_stopped_call(self, user_id: int, caller: str) -> None:
        await self.pool.execute(
            "INSERT INTO stopped_calls (user_id, caller_number) VALUES ($1, $2)", user_id, caller
        )

    async def audio(self, kind: MediaKind, owner: int) -> bytes | None:
        """Stored audio by kind: a user's greeting or name, or a message."""
        data: bytes | None = await self.pool.fetchval(_AUDIO[kind], owner)
        return data

    # Writes go through the directory service layer, shared with the CLI and the web API.

    async def set_activity(self, user_id: int, activity: int) -> None:
        async with transaction(self.sessions) as session:
            await directory.set_activity(session, user_id, activity)

    async def set_role(self, user_id: int, role: int) -> None:
        async with transaction(self.sessions) as session:
            await directory.set_role(session, user_id, role)

    async def set_forwarding(self, user_id: int, target: str | None) -> None:
        async with transaction(self.sessions) as session:
            await directory.set_forwarding(session, user_id, target)
