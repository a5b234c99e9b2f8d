"""Loads the routing snapshot from PostgreSQL and stores what call flows write.

One round trip per new call: the calling and the called user are fetched together with the
facts routing reads (organisation, manual and scheduled activities, forwardings,
softphones, whether the user has voicemail). Only when the callee forwards, a second query
gathers the users the forwarding reaches, for the loop check. The rules applied to these
facts (which activity is in effect, which forwarding applies) are the pure functions of
:mod:`vipcall.presence`; no rule is written in SQL here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
from vipcall.presence.activity import (
    Period,
    activity_in_effect,
    red_chain_end,
    scheduled_in_effect,
)
from vipcall.presence.forwarding import (
    Forwarding,
    dial_policy,
    next_hops_now,
    split_forwardings,
)
from vipcall.presence.model import Activity, Role
from vipcall.routing.snapshot import Organization, Subscriber
from vipcall.store.listening import ListeningQueries
from vipcall.store.mailbox import MailboxProfile, mailbox_profile
from vipcall.store.servicenumbers import ServiceNumberQueries
from vipcall.store.sql import PoolStatements

#: What routing reads of one user ``u`` besides who calls: organisation, activities,
#: forwardings, softphones, voicemail, absence-notice settings. Shared with the routing
#: state held in memory (:mod:`vipcall.store.routing_cache`).
USER_FACTS = (
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
       vs.notice_on_scheduled_red, vs.offer_customer_service, vs.customer_service_number,
       vs.repeat_breakthrough, vs.repeat_calls, vs.repeat_minutes"""
)
USER_FROM = """
  FROM users u JOIN organizations o ON o.id = u.organization_id
  LEFT JOIN voicemail_settings vs ON vs.user_id = u.id
"""

_USER_SQL = (
    USER_FACTS
    + """,
       u.mobile_number = :caller OR u.id = (SELECT p.user_id FROM softphones p
                                              WHERE p.sip_username = :softphone) AS is_caller,
       u.mobile_number = :dialled OR u.landline_number = :dialled AS is_callee,
       CASE WHEN u.mobile_number = :dialled OR u.landline_number = :dialled THEN """
    + VIP_NUMBERS
    + """ END AS vip_numbers,
       ARRAY(SELECT sc.at FROM stopped_calls sc
              WHERE sc.user_id = u.id AND sc.caller_number = :calling
                AND sc.at > :now - INTERVAL '1 day'
              ORDER BY sc.at DESC LIMIT 50) AS stopped_at"""
    + USER_FROM
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


@dataclass(frozen=True, slots=True)
class UserFacts:
    """One user's facts as :data:`USER_FACTS` gathers them, ready for the rules: what does
    not depend on the moment of the call nor on who calls. :func:`subscriber_at` makes the
    :class:`Subscriber` of one call from it."""

    id: int
    org: Organization
    mobile: str
    landline: str | None
    role: Role
    manual_activity: int
    periods: tuple[Period, ...]
    """Scheduled activities not yet ended when the facts were read, ordered by start."""
    forwardings: tuple[Forwarding, ...]
    immediate_forward: str | None
    activity_forwards: dict[Activity, str]
    softphones: tuple[str, ...]
    voicemail_enabled: bool
    absence: AbsenceSettings

    @property
    def numbers(self) -> tuple[str, ...]:
        return tuple(n for n in (self.mobile, self.landline) if n)


def organization(row: Any) -> Organization:
    return Organization(
        id=row["org_id"],
        switchboard=row["switchboard_number"],
        red_activities=frozenset(Activity(a) for a in row["red_activities"]),
        language=row["language"],
        dial_policy=dial_policy(row["allowed_countries"], row["denied_prefixes"]),
    )


def user_facts(row: Any, org: Organization | None = None) -> UserFacts:
    """A row with :data:`USER_FACTS` as :class:`UserFacts` (``org``: the organisation
    already built from an earlier row of the same organisation)."""
    manual, periods, forwardings = forwarding_facts(row)
    immediate, by_activity = split_forwardings(forwardings)
    return UserFacts(
        id=row["id"],
        org=organization(row) if org is None else org,
        mobile=row["mobile_number"],
        landline=row["landline_number"],
        role=Role(row["role"]),
        manual_activity=manual,
        periods=periods,
        forwardings=forwardings,
        immediate_forward=immediate,
        activity_forwards={Activity(a): t for a, t in by_activity.items()},
        softphones=tuple(row["softphones"]),
        voicemail_enabled=row["voicemail_enabled"],
        absence=_absence(row),
    )


def subscriber_at(
    facts: UserFacts,
    now: datetime,
    hops: dict[str, tuple[str, ...]],
    caller_is_vip: bool = False,
    stopped_at: Iterable[datetime] = (),
) -> Subscriber:
    """The user as routing sees them at ``now``, as seen from this call's caller."""
    periods = facts.periods
    if periods:  # facts read earlier may hold periods that have ended since
        periods = tuple(p for p in periods if p.ends_at > now)
    red = facts.org.red_activities
    return Subscriber(
        id=facts.id,
        org=facts.org,
        mobile=facts.mobile,
        landline=facts.landline,
        activity=Activity(activity_in_effect(facts.manual_activity, periods, now)),
        role=facts.role,
        immediate_forward=facts.immediate_forward,
        activity_forwards=facts.activity_forwards,
        softphones=facts.softphones,
        voicemail_enabled=facts.voicemail_enabled,
        forward_hops=hops,
        activity_scheduled=scheduled_in_effect(periods, now) is not None,
        red_until=red_chain_end(periods, red, now),
        absence=facts.absence,
        caller_is_vip=caller_is_vip,
        earlier_stopped_calls=recent_calls(stopped_at, now, facts.absence),
    )


def _subscriber(
    row: Any, now: datetime, hops: dict[str, tuple[str, ...]], caller: str | None = None
) -> Subscriber:
    return subscriber_at(
        user_facts(row),
        now,
        hops,
        is_vip(caller, row["vip_numbers"] or ()),
        row["stopped_at"],
    )


class DbCallStore(ListeningQueries, ServiceNumberQueries):
    """The call flows' storage (:class:`vipcall.calls.context.CallStore`) in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool, engine: AsyncEngine) -> None:
        self.pool = pool
        self.sessions = session_factory(engine)
        self.statements = PoolStatements(pool)
        """The directory's one-statement writes (983/984 codes) in one round trip."""

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
        await directory.apply_activity(self.statements, user_id, activity)

    async def set_role(self, user_id: int, role: int) -> None:
        await directory.apply_role(self.statements, user_id, role)

    async def set_forwarding(self, user_id: int, target: str | None) -> None:
        async with transaction(self.sessions) as session:
            await directory.set_forwarding(session, user_id, target)
