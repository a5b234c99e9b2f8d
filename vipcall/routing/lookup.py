"""Loads the routing snapshot from PostgreSQL and stores what call flows write.

One round trip per new call: the calling and the called user are fetched together with
everything the rules read (organisation, effective activity, forwardings, softphones,
whether the user has voicemail). The hot reads go straight through an asyncpg pool as one
prepared statement outside any transaction (the benchmark measured SQLAlchemy's session and
BEGIN/ROLLBACK round trips as a fifth of the app's CPU per call); writes go through the
directory service layer that the CLI and the web API share.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall import directory
from vipcall.db.engine import session_factory, transaction
from vipcall.routing.state import Activity, Organization, Role, User

_USER_SQL = """
SELECT u.id, u.mobile_number, u.landline_number, u.role,
       COALESCE((SELECT s.activity FROM scheduled_activities s
                  WHERE s.user_id = u.id AND s.starts_at <= now() AND now() < s.ends_at
                  ORDER BY s.starts_at DESC LIMIT 1), u.activity) AS activity,
       o.id AS org_id, o.switchboard_number, o.red_activities, o.language,
       (SELECT f.target FROM forwardings f
         WHERE f.user_id = u.id AND f.kind = 'immediate') AS immediate_forward,
       ARRAY(SELECT f.activity::text || '=' || f.target FROM forwardings f
              WHERE f.user_id = u.id AND f.kind = 'activity') AS activity_forwards,
       ARRAY(SELECT p.sip_username FROM softphones p
              WHERE p.user_id = u.id ORDER BY p.seq) AS softphones,
       ARRAY(WITH RECURSIVE hop(number, depth) AS (
               SELECT f.target, 1 FROM forwardings f WHERE f.user_id = u.id
               UNION
               SELECT f2.target, hop.depth + 1
                 FROM hop JOIN users u2 ON hop.number IN (u2.mobile_number, u2.landline_number)
                 JOIN forwardings f2 ON f2.user_id = u2.id
                WHERE hop.depth < 10 AND @@in_effect(f2, u2)@@)
             SELECT DISTINCT hop.number || '>' || f3.target
               FROM hop JOIN users u3 ON hop.number IN (u3.mobile_number, u3.landline_number)
               JOIN forwardings f3 ON f3.user_id = u3.id
              WHERE @@in_effect(f3, u3)@@
       ) AS forward_hops,
       NOT EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
                    WHERE gm.user_id = u.id AND g.kind = 'no_voicemail') AS voicemail_enabled,
       u.mobile_number = :caller OR u.id = (SELECT p.user_id FROM softphones p
                                              WHERE p.sip_username = :softphone) AS is_caller,
       u.mobile_number = :dialled OR u.landline_number = :dialled AS is_callee
  FROM users u JOIN organizations o ON o.id = u.organization_id
"""


def _in_effect(f: str, u: str) -> str:
    """SQL: forwarding ``f`` of user ``u`` applies now (immediate, or bound to the activity
    in effect when there is no immediate one). The loop check when a call is placed follows
    only these; setting a forwarding follows all (any activity can be switched on)."""
    activity = (
        f"COALESCE((SELECT s.activity FROM scheduled_activities s WHERE s.user_id = {u}.id"
        f" AND s.starts_at <= now() AND now() < s.ends_at ORDER BY s.starts_at DESC LIMIT 1),"
        f" {u}.activity)"
    )
    return (
        f"({f}.kind = 'immediate' OR ({f}.activity = {activity} AND NOT EXISTS ("
        f"SELECT 1 FROM forwardings fi WHERE fi.user_id = {u}.id AND fi.kind = 'immediate')))"
    )


_USER_SQL = _USER_SQL.replace("@@in_effect(f2, u2)@@", _in_effect("f2", "u2")).replace(
    "@@in_effect(f3, u3)@@", _in_effect("f3", "u3")
)

PARTIES = (
    (
        _USER_SQL
        + """ WHERE u.mobile_number IN (:caller, :dialled) OR u.landline_number = :dialled
        OR u.id = (SELECT p.user_id FROM softphones p WHERE p.sip_username = :softphone)"""
    )
    .replace(":caller", "$1::text")
    .replace(":softphone", "$2::text")
    .replace(":dialled", "$3::text")
)
ONE_USER = (
    _USER_SQL.replace(":caller", "NULL").replace(":softphone", "NULL").replace(":dialled", "NULL")
    + " WHERE u.id = $1"
)

SAVE_MESSAGE = """
WITH box AS (
  INSERT INTO mailboxes (user_id) VALUES ($1)
  ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id
  RETURNING id
)
INSERT INTO voicemail_messages (mailbox_id, caller_number, called_number, duration_ms, audio)
SELECT id, $2, $3, $4, $5 FROM box
RETURNING id
"""


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN asyncpg wants for a SQLAlchemy URL."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


async def create_pool(url: str) -> asyncpg.Pool:
    """A pool that opens connections only when a call needs one, so the app starts (and
    fails open) while the database is away."""
    return await asyncpg.create_pool(
        asyncpg_dsn(url), min_size=0, max_size=10, command_timeout=10, timeout=5
    )


def _user(row: Any) -> User:
    org = Organization(
        id=row["org_id"],
        switchboard=row["switchboard_number"],
        red_activities=frozenset(Activity(a) for a in row["red_activities"]),
        language=row["language"],
    )
    forwards = {}
    for item in row["activity_forwards"]:
        activity, _, target = item.partition("=")
        forwards[Activity(int(activity))] = target
    return User(
        id=row["id"],
        org=org,
        mobile=row["mobile_number"],
        landline=row["landline_number"],
        activity=Activity(row["activity"]),
        role=Role(row["role"]),
        immediate_forward=row["immediate_forward"],
        activity_forwards=forwards,
        softphones=tuple(row["softphones"]),
        voicemail_enabled=row["voicemail_enabled"],
        forward_hops=_hops(row["forward_hops"]),
    )


def _hops(edges: list[str]) -> dict[str, tuple[str, ...]]:
    hops: dict[str, tuple[str, ...]] = {}
    for edge in edges:
        number, _, target = edge.partition(">")
        hops[number] = (*hops.get(number, ()), target)
    return hops


class DbCallState:
    """The :class:`vipcall.calls.flows.CallState` of the running service."""

    def __init__(self, pool: asyncpg.Pool, engine: AsyncEngine) -> None:
        self.pool = pool
        self.sessions = session_factory(engine)

    async def parties(
        self, caller: str | None, softphone: str | None, dialled: str | None
    ) -> tuple[User | None, User | None]:
        if caller is None and softphone is None and dialled is None:
            return None, None
        rows = await self.pool.fetch(PARTIES, caller, softphone, dialled)
        calling = called = None
        for row in rows:
            if row["is_caller"]:
                calling = _user(row)
            if row["is_callee"]:
                called = calling if row["is_caller"] else _user(row)
        return calling, called

    async def user(self, user_id: int) -> User | None:
        row = await self.pool.fetchrow(ONE_USER, user_id)
        return None if row is None else _user(row)

    async def save_message(
        self, user_id: int, caller: str | None, called: str | None, audio: bytes, duration_ms: int
    ) -> int:
        message_id = await self.pool.fetchval(
            SAVE_MESSAGE, user_id, caller, called or "", duration_ms, audio
        )
        return int(message_id)

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
