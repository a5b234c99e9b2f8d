"""What service-number calls read and write in PostgreSQL: the service number's settings,
its members with the facts the pure rules read (logged in, busy, idle since), and the
calls in the queue (``service_number_calls``: waiting, being offered, connected).

The queue lives here, not in the app's memory: a restarted app (or the app of another
Asterisk node) finds every waiting caller by its channel id and node, and "busy" means
"ringing for, or connected through, a queue call" whichever app placed it. Offers are made
under a per-service-number advisory lock, so two waiting callers never ring the same member
and the caller who has waited longest is served first (:func:`vipcall.servicenumbers.rules.
first_in_line`).

:class:`ServiceNumberQueries` is mixed into :class:`vipcall.store.calls.DbCallStore`; the
port is :class:`vipcall.calls.context.ServiceNumberStore`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall.db.engine import transaction
from vipcall.directory import servicenumbers as sn_service
from vipcall.presence.forwarding import dial_policy
from vipcall.routing.snapshot import Organization, Subscriber
from vipcall.servicenumbers.rules import (
    Member,
    Offer,
    Overflow,
    OverflowKind,
    QueueSettings,
    Strategy,
    first_in_line,
    next_offer,
    queue_position,
)


@dataclass(frozen=True, slots=True)
class ServiceNumberInfo:
    id: int
    org_id: int
    number: str
    name: str
    language: str
    settings: QueueSettings


@dataclass(frozen=True, slots=True)
class MemberLine:
    """A member with what ringing them needs (the handset and the softphones)."""

    member: Member
    phones: Subscriber


@dataclass(frozen=True, slots=True)
class QueueCall:
    id: int
    service_number_id: int
    channel_id: str
    node: str
    caller: str | None
    entered_at: datetime
    state: str
    member_user_id: int | None
    member_channel_id: str | None
    bridge_id: str | None


_SN = """
SELECT s.id, s.organization_id, s.number, s.name, s.strategy, s.member_ring_seconds,
       s.max_wait_seconds, s.overflow_kind, s.overflow_target, s.announce_position, o.language,
       o.allowed_countries, o.denied_prefixes
  FROM service_numbers s JOIN organizations o ON o.id = s.organization_id
 WHERE s.id = $1
"""

#: Members of a service number; busy = ringing for another queue call or connected through
#: one (any service number: a member is one person).
_MEMBERS = """
SELECT m.user_id, m.logged_in, m.logged_in_changed_at, m.last_call_end, u.mobile_number,
       u.organization_id,
       ARRAY(SELECT p.sip_username FROM softphones p WHERE p.user_id = u.id ORDER BY p.seq)
         AS softphones,
       EXISTS (SELECT 1 FROM service_number_calls c
                WHERE c.id <> $2
                  AND (c.member_user_id = u.id AND c.state = 'connected'
                       OR u.id = ANY (c.offered_to))) AS busy
  FROM service_number_members m JOIN users u ON u.id = m.user_id
 WHERE m.service_number_id = $1
 ORDER BY m.user_id
"""

_ENQUEUE = """
INSERT INTO service_number_calls (service_number_id, channel_id, node, caller_number)
VALUES ($1, $2, $3, $4)
ON CONFLICT (channel_id) DO UPDATE SET node = EXCLUDED.node
RETURNING *
"""


def _call(row: Any) -> QueueCall:
    return QueueCall(
        id=row["id"],
        service_number_id=row["service_number_id"],
        channel_id=row["channel_id"],
        node=row["node"],
        caller=row["caller_number"],
        entered_at=row["entered_at"],
        state=row["state"],
        member_user_id=row["member_user_id"],
        member_channel_id=row["member_channel_id"],
        bridge_id=row["bridge_id"],
    )


def _member(row: Any) -> MemberLine:
    member = Member(
        user_id=row["user_id"],
        logged_in=row["logged_in"],
        busy=row["busy"],
        last_call_end=row["last_call_end"],
        logged_in_at=row["logged_in_changed_at"],
    )
    phones = Subscriber(
        id=row["user_id"],
        org=Organization(id=row["organization_id"]),
        mobile=row["mobile_number"],
        softphones=tuple(row["softphones"]),
    )
    return MemberLine(member, phones)


class ServiceNumberQueries:
    """Service-number storage (mixed into ``DbCallStore``)."""

    pool: asyncpg.Pool
    sessions: async_sessionmaker[AsyncSession]

    async def service_number_at(self, number: str) -> int | None:
        """The id of the service number with this number (E.164), ``None``: none."""
        found = await self.pool.fetchval("SELECT id FROM service_numbers WHERE number = $1", number)
        return None if found is None else int(found)

    async def service_number(self, sn_id: int) -> ServiceNumberInfo | None:
        row = await self.pool.fetchrow(_SN, sn_id)
        if row is None:
            return None
        settings = QueueSettings(
            strategy=Strategy(row["strategy"]),
            member_ring_seconds=row["member_ring_seconds"],
            max_wait_seconds=row["max_wait_seconds"],
            overflow=Overflow(OverflowKind(row["overflow_kind"]), row["overflow_target"]),
            announce_position=row["announce_position"],
            dial_policy=dial_policy(row["allowed_countries"], row["denied_prefixes"]),
        )
        return ServiceNumberInfo(
            row["id"], row["organization_id"], row["number"], row["name"], row["language"],
            settings,
        )  # fmt: skip

    async def members(self, sn_id: int, call_id: int = 0) -> list[MemberLine]:
        """The members, busy as seen from queue call ``call_id``."""
        return [_member(r) for r in await self.pool.fetch(_MEMBERS, sn_id, call_id)]

    async def enqueue(
        self, sn_id: int, channel_id: str, node: str, caller: str | None
    ) -> QueueCall:
        return _call(await self.pool.fetchrow(_ENQUEUE, sn_id, channel_id, node, caller))

    async def queue_call(self, call_id: int) -> QueueCall | None:
        row = await self.pool.fetchrow("SELECT * FROM service_number_calls WHERE id = $1", call_id)
        return None if row is None else _call(row)

    async def queue_calls_on(self, node: str) -> list[QueueCall]:
        """The queue calls whose caller's channel is on this node's app."""
        rows = await self.pool.fetch(
            "SELECT * FROM service_number_calls WHERE node = $1 ORDER BY entered_at, id", node
        )
        return [_call(r) for r in rows]

    async def claim_offer(
        self, call: QueueCall, settings: QueueSettings, tried: frozenset[int]
    ) -> tuple[Offer | None, list[MemberLine]]:
        """Whom the waiting ``call`` rings now (marked as offered to them, so they are busy
        for every other queue call), or ``None``: nobody free, or an earlier caller first."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(8, $1)", call.service_number_id)
            waiting = await conn.fetch(
                "SELECT entered_at, id FROM service_number_calls"
                " WHERE service_number_id = $1 AND state = 'waiting'",
                call.service_number_id,
            )
            lines = [
                _member(r) for r in await conn.fetch(_MEMBERS, call.service_number_id, call.id)
            ]
            if not first_in_line([(r["entered_at"], r["id"]) for r in waiting], call.id):
                return None, lines
            offer = next_offer(settings, [line.member for line in lines], tried)
            if offer is not None:
                await conn.execute(
                    "UPDATE service_number_calls SET state = 'offering', offered_to = $2"
                    " WHERE id = $1",
                    call.id,
                    list(offer.user_ids),
                )
            return offer, lines

    async def offer_over(self, call_id: int) -> None:
        """Nobody answered the offer: the call waits again."""
        await self.pool.execute(
            "UPDATE service_number_calls SET state = 'waiting', offered_to = '{}' WHERE id = $1",
            call_id,
        )

    async def connected(
        self, call_id: int, member_id: int, member_channel: str, bridge_id: str
    ) -> None:
        await self.pool.execute(
            "UPDATE service_number_calls SET state = 'connected', offered_to = '{}',"
            " member_user_id = $2, member_channel_id = $3, bridge_id = $4 WHERE id = $1",
            call_id,
            member_id,
            member_channel,
            bridge_id,
        )

    async def finish_queue_call(self, call_id: int) -> None:
        """The call left the queue (connected call over, overflow, caller hung up); a
        member it was connected to is idle from now."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "DELETE FROM service_number_calls WHERE id = $1"
                " RETURNING service_number_id, member_user_id, state",
                call_id,
            )
            if row is not None and row["member_user_id"] is not None:
                await conn.execute(
                    "UPDATE service_number_members SET last_call_end = now()"
                    " WHERE service_number_id = $1 AND user_id = $2",
                    row["service_number_id"],
                    row["member_user_id"],
                )

    async def queue_position(self, call: QueueCall) -> int:
        rows = await self.pool.fetch(
            "SELECT entered_at, id FROM service_number_calls"
            " WHERE service_number_id = $1 AND state IN ('waiting', 'offering')",
            call.service_number_id,
        )
        return queue_position([(r["entered_at"], r["id"]) for r in rows], call.id)

    async def set_service_login(self, user_id: int, sn_id: int, logged_in: bool) -> bool:
        """Log a member in or out (the directory service layer); raises
        :class:`vipcall.directory.DirectoryError` for no such service number or member."""
        async with transaction(self.sessions) as session:
            return await sn_service.set_logged_in(session, sn_id, user_id, logged_in)
