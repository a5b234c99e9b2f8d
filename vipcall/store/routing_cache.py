"""The routing state held in the app's memory, kept fresh by PostgreSQL LISTEN/NOTIFY.

Every fact a routing decision reads (:data:`vipcall.store.calls.USER_FACTS`, the VIP lists,
the calls the absence notice stopped, the service numbers' numbers) is loaded once into
:class:`RoutingCache`; a new call then reads memory only (no database round trip on the
ring path). What keeps the memory right:

* **Triggers** (migration 0008) send ``pg_notify('vipcall_routing', ...)`` for every row
  change of a table the snapshot reads, whatever wrote it (a feature code on any node, the
  web, the CLI, a migration): ``u<id>`` a user's facts, ``o<id>`` an organisation's,
  ``g<id>`` a group's kind, ``n`` the service numbers, ``s<row id> <user> <µs> <caller>``
  one call the notice stopped (applied as is). PostgreSQL delivers them when the writing
  transaction commits.
* **One listening connection** per app: LISTEN first, then the full load, then the
  notified changes are re-read (``u``/``o``/``g``: one query for all pending ids; a
  notification that arrives while an earlier re-read runs is re-read again after it, so
  the last read always starts after the last commit).
* **Fresh** means: listening and loaded. While not fresh (the listening connection lost,
  the first load not done) the store routes from the database as before, and only if the
  database does not answer either from the remembered state (:class:`CachedCallStore`):
  a database that nobody can reach is one nobody can change, so the remembered state is
  the current one.
* **The writing node** marks the user it changed (:meth:`RoutingCache.touch`) before its
  write returns; until the re-read that started after the mark is applied, calls about
  that user read the database. So a 983 code takes effect on the very next call on this
  node whatever the notification's timing; other nodes see it once its notification is
  applied (measured: docs/design.md "Performance design").

Time-dependent rules (which scheduled activity is in effect, repeat calls within the
window) are applied at call time by the pure rules to the remembered facts, exactly as to
facts read from the database (:func:`vipcall.store.calls.subscriber_at`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall.db.queries import VIP_NUMBERS
from vipcall.metrics import ROUTING_FRESH, ROUTING_REREADS, ROUTING_STALE_READS, ROUTING_USERS
from vipcall.presence.absence import is_vip
from vipcall.presence.forwarding import Reached, next_hops_now
from vipcall.routing.snapshot import Organization, Subscriber
from vipcall.store.calls import (
    USER_FACTS,
    USER_FROM,
    DbCallStore,
    UserFacts,
    subscriber_at,
    user_facts,
)
from vipcall.store.listen import Connect, keep_listening

log = logging.getLogger("vipcall.cache")

#: The channel migration 0008's triggers notify.
CHANNEL = "vipcall_routing"
#: Forwarding hops the loop check follows (as :data:`vipcall.db.queries.FORWARDING_REACH`).
MAX_HOPS = 10
#: Calls the notice stopped: kept for a day, the newest 50 per caller and user count (as
#: the database query reads them).
STOPPED_KEPT = timedelta(days=1)
STOPPED_LIMIT = 50
#: Seconds without a notification after which the listening connection is checked.
QUIET_CHECK_S = 30.0
#: Seconds the listener waits after a wake-up before it re-reads, so that what arrives
#: together is read together (every node applies a change this much later).
COALESCE_S = 0.003
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_FACTS = USER_FACTS + ",\n       " + VIP_NUMBERS + " AS vip_numbers" + USER_FROM
ALL_USERS = _FACTS.replace(":now", "$1")
#: The users a notification names: by id, and everyone of the organisations and groups
#: named, and whoever has a named user as VIP colleague (the colleague's numbers are on
#: their VIP list). One id set first, so every part uses its index.
SOME_USERS = (
    """
WITH ids AS (
    SELECT unnest($2::int[]) AS id
    UNION SELECT u.id FROM users u WHERE u.organization_id = ANY($3::int[])
    UNION SELECT gm.user_id FROM group_members gm WHERE gm.group_id = ANY($4::int[])
    UNION SELECT v.user_id FROM vip_colleagues v WHERE v.colleague_id = ANY($2::int[])
)"""
    + ALL_USERS
    + " WHERE u.id IN (SELECT id FROM ids)"
)
STOPPED = (
    "SELECT id, user_id, caller_number, at FROM stopped_calls"
    " WHERE at > $1::timestamptz - INTERVAL '1 day'"
)
SERVICE_NUMBERS = "SELECT number, id FROM service_numbers"


class _Entry:
    """One user in memory: the facts and the VIP numbers."""

    __slots__ = ("facts", "vip")

    def __init__(self, facts: UserFacts, vip: frozenset[str]) -> None:
        self.facts = facts
        self.vip = vip


_NO_VIP: frozenset[str] = frozenset()


class CacheWatcher(Protocol):
    """Told what the memory re-read (:meth:`RoutingCache.watch`)."""

    def users_changed(self, user_ids: set[int] | None) -> None:
        """These users were re-read (``None``: everything was loaded)."""

    def cache_down(self) -> None:
        """The listening connection was lost: the memory may miss changes until reloaded."""


class RoutingCache:
    """Every user's routing facts, indexed by number and softphone; see the module doc."""

    def __init__(self, connect: Connect, *, backoff_max: float = 5.0) -> None:
        self._connect = connect
        self._backoff_max = backoff_max
        self.users: dict[int, _Entry] = {}
        self.by_mobile: dict[str, int] = {}
        self.by_landline: dict[str, int] = {}
        self.by_softphone: dict[str, int] = {}
        self.service_numbers: dict[str, int] = {}
        self.stopped: dict[tuple[int, str], dict[int, datetime]] = {}
        """(user id, caller) -> stopped call id -> when."""
        self.loaded = False
        """The state was loaded at least once (there is a remembered state)."""
        self.listening = False
        self._pending_users: set[int] = set()
        self._pending_orgs: set[int] = set()
        self._pending_groups: set[int] = set()
        self._pending_numbers = False
        self._pending_stops: list[tuple[int, int, str, datetime]] = []
        self._wake = asyncio.Event()
        self._dirty: dict[int, int] = {}
        """user id -> the re-read generation that must start before the mark is cleared."""
        self._generation = 0
        self._busy = False
        self._marks: set[str] = set()
        self._mark_seq = 0
        self.applied = 0
        """Notifications applied so far (tests and the bench read it)."""
        self.load_seconds = 0.0
        self._watchers: list[CacheWatcher] = []

    def watch(self, watcher: CacheWatcher) -> None:
        """Tell ``watcher`` of every load and re-read, and of a lost connection."""
        self._watchers.append(watcher)

    # -- reading (the call path: memory only) ----------------------------------------

    @property
    def fresh(self) -> bool:
        """Listening and loaded: memory agrees with the database (up to notifications in
        flight)."""
        return self.listening and self.loaded

    def dirty(self, *user_ids: int | None) -> bool:
        """One of these users was changed by this node and the change is not read back yet."""
        return bool(self._dirty) and any(u in self._dirty for u in user_ids if u is not None)

    def touch(self, user_id: int) -> None:
        """This node just changed ``user_id``: read them from the database until a re-read
        that starts from now on has been applied."""
        self._generation += 1
        self._dirty[user_id] = self._generation
        self._pending_users.add(user_id)
        self._wake.set()

    def party_ids(
        self, caller: str | None, softphone: str | None, dialled: str | None
    ) -> tuple[int | None, int | None]:
        """(calling user id, called user id) as :meth:`parties` finds them."""
        calling = None
        if softphone is not None:
            calling = self.by_softphone.get(softphone)
        if calling is None and caller is not None:
            calling = self.by_mobile.get(caller)
        called = None
        if dialled is not None:
            called = self.by_mobile.get(dialled)
            if called is None:
                called = self.by_landline.get(dialled)
        return calling, called

    def parties(
        self, caller: str | None, softphone: str | None, dialled: str | None, now: datetime
    ) -> tuple[Subscriber | None, Subscriber | None]:
        """As :meth:`vipcall.store.calls.DbCallStore.parties`, from memory."""
        calling_id, called_id = self.party_ids(caller, softphone, dialled)
        calling = called = None
        entry = self.users.get(calling_id) if calling_id is not None else None
        calling_number = caller
        if entry is not None:
            if caller is None:
                calling_number = entry.facts.mobile
            calling = subscriber_at(
                entry.facts, now, {}, False, self._stopped(entry.facts.id, calling_number, now)
            )
        entry = self.users.get(called_id) if called_id is not None else None
        if entry is not None:
            facts = entry.facts
            called = subscriber_at(
                facts,
                now,
                self.hops(facts, now),
                is_vip(calling_number, entry.vip),
                self._stopped(facts.id, calling_number, now),
            )
        return calling, called

    def user(self, user_id: int, now: datetime) -> Subscriber | None:
        entry = self.users.get(user_id)
        return None if entry is None else subscriber_at(entry.facts, now, {})

    def hops(self, facts: UserFacts, now: datetime) -> dict[str, tuple[str, ...]]:
        """Where the users reachable from the user's forwarding targets forward to now
        (the loop check): the same users as the recursive query reaches (every
        forwarding, any kind, at most :data:`MAX_HOPS` hops)."""
        if not facts.forwardings:
            return {}
        depth = {f.target: 0 for f in facts.forwardings}
        todo = list(depth)
        reached: dict[int, UserFacts] = {}
        while todo:
            number = todo.pop(0)
            d = depth[number]
            for index in (self.by_mobile, self.by_landline):
                uid = index.get(number)
                entry = self.users.get(uid) if uid is not None else None
                if entry is None:
                    continue
                reached[entry.facts.id] = entry.facts
                if d >= MAX_HOPS:
                    continue
                for f in entry.facts.forwardings:
                    if f.target not in depth:
                        depth[f.target] = d + 1
                        todo.append(f.target)
        return next_hops_now(
            (
                Reached(
                    u.numbers,
                    u.manual_activity,
                    tuple(p for p in u.periods if p.ends_at > now),
                    u.forwardings,
                )
                for u in reached.values()
            ),
            now,
        )

    def _stopped(self, user_id: int, caller: str | None, now: datetime) -> list[datetime]:
        if caller is None or not self.stopped:
            return []
        ats = self.stopped.get((user_id, caller))
        if not ats:
            return []
        since = now - STOPPED_KEPT
        return sorted((a for a in ats.values() if a > since), reverse=True)[:STOPPED_LIMIT]

    # -- writing (the listener) --------------------------------------------------------

    def note_stopped(self, row_id: int, user_id: int, caller: str, at: datetime) -> None:
        self.stopped.setdefault((user_id, caller), {})[row_id] = at

    def notified(self, payload: str) -> None:
        """One notification from the triggers (see the module doc)."""
        kind, rest = payload[:1], payload[1:]
        try:
            if kind == "u":
                self._pending_users.add(int(rest))
            elif kind == "o":
                self._pending_orgs.add(int(rest))
            elif kind == "g":
                self._pending_groups.add(int(rest))
            elif kind == "n":
                self._pending_numbers = True
            elif kind == "m":  # a mark of :meth:`caught_up`: nothing to re-read
                self._marks.add(rest)
                return
            elif kind == "s":
                row, user, micros, caller = rest.split(" ", 3)
                at = _EPOCH + timedelta(microseconds=int(micros))
                self._pending_stops.append((int(row), int(user), caller, at))
            else:
                raise ValueError(kind)
        except ValueError:
            log.warning("routing cache: unreadable notification %r", payload[:80])
            return
        self._wake.set()

    def _put(self, facts: UserFacts, vip: frozenset[str]) -> None:
        self._drop(facts.id)
        self.users[facts.id] = _Entry(facts, vip)
        self.by_mobile[facts.mobile] = facts.id
        if facts.landline is not None:
            self.by_landline[facts.landline] = facts.id
        for sp in facts.softphones:
            self.by_softphone[sp] = facts.id

    def _drop(self, user_id: int) -> None:
        old = self.users.pop(user_id, None)
        if old is None:
            return
        f = old.facts
        if self.by_mobile.get(f.mobile) == user_id:
            del self.by_mobile[f.mobile]
        if f.landline is not None and self.by_landline.get(f.landline) == user_id:
            del self.by_landline[f.landline]
        for sp in f.softphones:
            if self.by_softphone.get(sp) == user_id:
                del self.by_softphone[sp]

    def _rows(self, rows: Iterable[Any]) -> list[tuple[UserFacts, frozenset[str]]]:
        orgs: dict[int, Organization] = {}
        out = []
        for row in rows:
            facts = user_facts(row, orgs.get(row["org_id"]))
            orgs.setdefault(facts.org.id, facts.org)
            vip = frozenset(row["vip_numbers"]) if row["vip_numbers"] else _NO_VIP
            out.append((facts, vip))
        return out

    async def load(self, conn: asyncpg.Connection) -> None:
        """Read everything (a fresh state, swapped in at once)."""
        started = time.perf_counter()
        now = datetime.now(UTC)
        rows = await conn.fetch(ALL_USERS, now)
        stopped = await conn.fetch(STOPPED, now)
        numbers = await conn.fetch(SERVICE_NUMBERS)
        fresh = RoutingCache(self._connect)
        for facts, vip in self._rows(rows):
            fresh._put(facts, vip)
        for r in stopped:
            fresh.note_stopped(r["id"], r["user_id"], r["caller_number"], r["at"])
        self.users, self.by_mobile = fresh.users, fresh.by_mobile
        self.by_landline, self.by_softphone = fresh.by_landline, fresh.by_softphone
        self.stopped = fresh.stopped
        self.service_numbers = {r["number"]: r["id"] for r in numbers}
        self.loaded = True
        ROUTING_USERS.set(len(self.users))
        self.load_seconds = time.perf_counter() - started
        for w in self._watchers:
            w.users_changed(None)
        log.info("routing cache: %d users loaded in %.2f s", len(self.users), self.load_seconds)

    async def apply_pending(self, conn: asyncpg.Connection) -> None:
        """Re-read what was notified since the last call (until nothing is pending)."""
        self._busy = True
        try:
            await self._apply_pending(conn)
        finally:
            self._busy = False

    async def _apply_pending(self, conn: asyncpg.Connection) -> None:
        if self._pending_stops:  # applied as they are (ids: a repeat changes nothing)
            stops, self._pending_stops = self._pending_stops, []
            for row_id, user_id, caller, at in stops:
                self.note_stopped(row_id, user_id, caller, at)
            self.applied += len(stops)
        while (
            self._pending_users
            or self._pending_orgs
            or self._pending_groups
            or (self._pending_numbers)
        ):
            generation = self._generation
            users, self._pending_users = self._pending_users, set()
            orgs, self._pending_orgs = self._pending_orgs, set()
            groups, self._pending_groups = self._pending_groups, set()
            numbers, self._pending_numbers = self._pending_numbers, False
            found: list[tuple[UserFacts, frozenset[str]]] = []
            try:
                if users or orgs or groups:
                    ROUTING_REREADS.inc()
                    rows = await conn.fetch(
                        SOME_USERS, datetime.now(UTC), list(users), list(orgs), list(groups)
                    )
                    found = self._rows(rows)
                    seen = {f.id for f, _ in found}
                    for uid in users - seen:
                        self._drop(uid)  # deleted
                    for facts, vip in found:
                        self._put(facts, vip)
                if numbers:
                    rows = await conn.fetch(SERVICE_NUMBERS)
                    self.service_numbers = {r["number"]: r["id"] for r in rows}
            except BaseException:
                self._pending_users |= users
                self._pending_orgs |= orgs
                self._pending_groups |= groups
                self._pending_numbers = self._pending_numbers or numbers
                raise
            self.applied += len(users) + len(orgs) + len(groups) + int(numbers)
            ROUTING_USERS.set(len(self.users))
            for uid in users:
                mark = self._dirty.get(uid)
                if mark is not None and mark <= generation:
                    del self._dirty[uid]
            if self._watchers and (users or orgs or groups):
                reread = users | {f.id for f, _ in found}
                for w in self._watchers:
                    w.users_changed(reread)

    def prune_stopped(self, now: datetime) -> None:
        since = now - STOPPED_KEPT
        for key in list(self.stopped):
            kept = {i: a for i, a in self.stopped[key].items() if a > since}
            if kept:
                self.stopped[key] = kept
            else:
                del self.stopped[key]

    async def run(self) -> None:
        """Listen, load, apply notifications; reconnect and reload after any loss, forever
        (cancel to stop)."""
        await keep_listening(
            "routing cache", self._connect, CHANNEL, self.notified, self._serve,
            log=log, down=self._down, max_pause=self._backoff_max,
        )  # fmt: skip

    def _down(self) -> None:
        self.listening = False
        ROUTING_FRESH.set(0)
        for w in self._watchers:
            w.cache_down()

    async def _serve(self, conn: asyncpg.Connection, lost: asyncio.Event) -> None:
        """One listening connection (LISTENing already): load, then apply notifications
        until it ends."""
        self._wake.clear()
        await self.load(conn)
        self.listening = True
        ROUTING_FRESH.set(1)
        pruned = time.monotonic()
        while not lost.is_set() and not conn.is_closed():
            await self.apply_pending(conn)
            waiter = asyncio.ensure_future(self._wake.wait())
            dropped = asyncio.ensure_future(lost.wait())
            try:
                done, _ = await asyncio.wait(
                    {waiter, dropped}, timeout=QUIET_CHECK_S, return_when="FIRST_COMPLETED"
                )
            finally:
                waiter.cancel()
                dropped.cancel()
            if not done and not conn.is_closed():
                # Quiet: a connection can die without a word, and then memory (and the
                # direct routes written from it) would miss changes. Its error ends the
                # serve, and the memory is reloaded on a new connection.
                await conn.fetchval("SELECT 1", timeout=5)
            # A change this node writes arrives twice, as its notification and as the
            # writer's touch(), within about a millisecond in either order: one re-read
            # after both instead of one after each.
            await asyncio.sleep(COALESCE_S)
            self._wake.clear()
            if time.monotonic() - pruned > 600:
                self.prune_stopped(datetime.now(UTC))
                pruned = time.monotonic()

    async def wait_fresh(self, timeout: float) -> bool:
        """Wait until loaded and listening (tests, the bench)."""
        deadline = time.monotonic() + timeout
        while not self.fresh and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.fresh

    async def caught_up(self, conn: asyncpg.Connection, timeout: float) -> bool:
        """Wait until every change committed before this call has been applied (tests, the
        bench). PostgreSQL delivers notifications in commit order, so a mark notified now
        arrives after those of every earlier commit; once it is here and nothing is pending,
        memory holds all of them. (:meth:`settled` alone cannot see a notification still
        on its way.)"""
        self._mark_seq += 1
        token = f"{id(self)}.{self._mark_seq}"
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, "m" + token)
        deadline = time.monotonic() + timeout
        while token not in self._marks:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        self._marks.discard(token)
        return await self.settled(max(0.0, deadline - time.monotonic()))

    async def settled(self, timeout: float) -> bool:
        """Wait until nothing notified is pending (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.fresh and not (
                self._pending_users
                or self._pending_orgs
                or self._pending_groups
                or self._pending_numbers
                or self._pending_stops
                or self._dirty
                or self._busy
            ):
                return True
            await asyncio.sleep(0.01)
        return False


class WriteGuard(Protocol):
    """Told of a routing write this node made (:class:`CachedCallStore`)."""

    async def written(self, user_id: int) -> None:
        """After the write and the memory's mark; returns once in step with it."""


class CachedCallStore(DbCallStore):
    """:class:`DbCallStore` whose routing reads come from a :class:`RoutingCache` while it
    is fresh; from the database while it is not, and from the remembered state when the
    database does not answer either. Writes that change routing mark the user
    (:meth:`RoutingCache.touch`), so the next call about them reads what was written."""

    def __init__(
        self, pool: asyncpg.Pool, engine: AsyncEngine, cache: RoutingCache, db_timeout: float
    ) -> None:
        super().__init__(pool, engine)
        self.cache = cache
        self.db_timeout = db_timeout
        self.stale_reads = 0
        """Calls routed from the remembered state because the database did not answer."""
        self.guard: WriteGuard | None = None
        """The direct routes (:mod:`vipcall.service.direct`), told of routing writes."""

    async def parties(
        self, caller: str | None, softphone: str | None, dialled: str | None
    ) -> tuple[Subscriber | None, Subscriber | None]:
        cache = self.cache
        if cache.fresh and not cache.dirty(*cache.party_ids(caller, softphone, dialled)):
            return cache.parties(caller, softphone, dialled, datetime.now(UTC))
        if not cache.loaded:
            return await super().parties(caller, softphone, dialled)
        try:
            return await asyncio.wait_for(
                super().parties(caller, softphone, dialled), self.db_timeout
            )
        except Exception as exc:  # noqa: BLE001 - remembered state: nobody can change it now
            self._stale(exc)
            return cache.parties(caller, softphone, dialled, datetime.now(UTC))

    async def user(self, user_id: int) -> Subscriber | None:
        cache = self.cache
        if cache.fresh and not cache.dirty(user_id):
            return cache.user(user_id, datetime.now(UTC))
        if not cache.loaded:
            return await super().user(user_id)
        try:
            return await asyncio.wait_for(super().user(user_id), self.db_timeout)
        except Exception as exc:  # noqa: BLE001
            self._stale(exc)
            return cache.user(user_id, datetime.now(UTC))

    async def service_number_at(self, number: str) -> int | None:
        if self.cache.fresh:
            return self.cache.service_numbers.get(number)
        if not self.cache.loaded:
            return await super().service_number_at(number)
        try:
            return await asyncio.wait_for(super().service_number_at(number), self.db_timeout)
        except Exception as exc:  # noqa: BLE001
            self._stale(exc)
            return self.cache.service_numbers.get(number)

    def _stale(self, exc: BaseException) -> None:
        self.stale_reads += 1
        ROUTING_STALE_READS.inc()
        if self.stale_reads in (1, 10, 100) or self.stale_reads % 1000 == 0:
            log.warning(
                "database unavailable (%s): %d calls routed from the remembered state",
                type(exc).__name__,
                self.stale_reads,
            )

    async def note_stopped_call(self, user_id: int, caller: str) -> None:
        # caller facts: no direct route depends on them (vipcall.routing.direct)
        await super().note_stopped_call(user_id, caller)
        self.cache.touch(user_id)

    async def set_activity(self, user_id: int, activity: int) -> None:
        async with self._changing(user_id):
            await super().set_activity(user_id, activity)

    async def set_role(self, user_id: int, role: int) -> None:
        async with self._changing(user_id):
            await super().set_role(user_id, role)

    async def set_forwarding(self, user_id: int, target: str | None) -> None:
        async with self._changing(user_id):
            await super().set_forwarding(user_id, target)

    @contextlib.asynccontextmanager
    async def _changing(self, user_id: int) -> AsyncIterator[None]:
        """Around a write that changes the user's routing: after it the memory's mark (so
        the next call reads what was written), then the direct routes brought in step
        before the caller is told."""
        try:
            yield
        finally:
            # also after a failure: the write may have committed before it
            self.cache.touch(user_id)
        if self.guard is not None:
            await self.guard.written(user_id)
