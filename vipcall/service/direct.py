"""Keeps this node's direct routes in Asterisk (AstDB family ``vipcall-direct``) in step
with the routing memory; which calls may take one is :mod:`vipcall.routing.direct`.

* **What is written.** For every number whose :func:`~vipcall.routing.direct.direct_ring`
  is a ring, ``vipcall-direct/<E.164>`` = ``token|until|ring spec``; for the others the key
  is blanked. Only changes are written: after the memory's first load everything, then the
  users each re-read names (:meth:`RoutingCache.watch`), and the users whose entry reached
  its ``until``.
* **The token.** A fresh one is set as the global ``VIP_DIRECT_TOKEN`` at every connect
  (entries written by an earlier app, for an earlier database or before an Asterisk restart
  never match). While the memory is not fresh (the listening connection lost: a change
  might be missed) the global is blanked, and every call goes to the app, which then reads
  the database; a new token and a full write follow once it is fresh again.
* **A change this node writes** (a 983/984/987 code, the activity number's menu): after
  the write the store marks the user (:meth:`RoutingCache.touch`), so no entry of theirs is
  written until the re-read after the write; then :meth:`written` waits until that re-read
  is applied and the user computed again, before the caller hears the confirmation. So the
  very next call after a 983 code takes the new state, and a code that leaves the entries
  as they were (most 984 codes) sends Asterisk nothing. Should that take longer than
  :data:`SETTLE_S`, the user's entries are blanked instead. Changes written elsewhere
  (another node, the web, the CLI) arrive as the memory's notifications do, within
  milliseconds.
* **App away.** The entries stay, as the fail-open map does: Asterisk rings those users'
  handsets as it would by failing open.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import secrets
from datetime import UTC, datetime

from vipcall.ari import AriClient, AriError, AriUnavailable
from vipcall.calls.dialplan import ring_spec
from vipcall.metrics import DIRECT_ROUTES
from vipcall.routing.direct import direct_ring, entry_value, valid_until
from vipcall.routing.rules import Policy
from vipcall.store.calls import subscriber_at
from vipcall.store.routing_cache import RoutingCache

log = logging.getLogger("vipcall.direct")

FAMILY = "vipcall-direct"
TOKEN_VAR = "VIP_DIRECT_TOKEN"
#: Users computed between two yields to the event loop (a full round of 100,000 users
#: must not hold calls up).
CHUNK = 200
#: Seconds before work a round could not do is tried again.
RETRY_S = 1.0
#: Seconds a write of this node waits for the user's entries to follow it (:meth:`written`)
#: before it blanks them instead (the re-read takes a few milliseconds).
SETTLE_S = 1.0


class DirectRoutes:
    """This node's direct routes; see the module doc."""

    def __init__(self, ari: AriClient, cache: RoutingCache, policy: Policy) -> None:
        self.ari = ari
        self.cache = cache
        self.policy = policy
        self.token: str | None = None
        """The token Asterisk holds as ``VIP_DIRECT_TOKEN``: "" none (no entry is taken),
        ``None`` not known (after a connect it may be an earlier app's: blanked first)."""
        self.pushed: dict[str, tuple[int, int]] = {}
        """number -> (user id, hash of the value) as written under :attr:`token`."""
        self.owned: dict[int, set[str]] = {}
        self._settling: dict[int, list[asyncio.Future[None]]] = {}
        """user id -> writes of this node waiting for the user to be computed again."""
        self._writes: dict[int, int] = {}
        """user id -> writes of this node about them so far: a computation that began
        before one of them writes nothing (see _put)."""
        self._todo: set[int] = set()
        self._all = False
        self._due: dict[int, float] = {}
        """user id -> when their routing next changes by the clock (epoch seconds)."""
        self._expiry: list[tuple[float, int]] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self.connected = False
        cache.watch(self)

    # -- what the memory and the connection tell ----------------------------------------

    def users_changed(self, user_ids: set[int] | None) -> None:
        """The memory re-read these users (``None``: loaded everything)."""
        if user_ids is None:
            self._all = True
        else:
            self._todo |= user_ids
        self._wake.set()

    def cache_down(self) -> None:
        """The memory stopped listening: no entry may be taken until it is fresh again (the
        next round blanks the token)."""
        self._all = True
        self._wake.set()

    def connect(self) -> None:
        """ARI (re)connected: Asterisk may have restarted; write everything again."""
        self.connected = True
        self.token = None
        self._all = True
        self._wake.set()

    # -- a change this node writes ------------------------------------------------------

    async def written(self, user_id: int) -> None:
        """After a write about ``user_id`` and the memory's mark: return once their entries
        show what was written (the re-read applied, the user computed again); after
        :data:`SETTLE_S` without that, blank their entries (and should that fail, every
        entry is off until a new token and a full write; if even that cannot be told to
        Asterisk, this raises, and the caller hears that the code failed)."""
        self._writes[user_id] = self._writes.get(user_id, 0) + 1
        if self.token == "":
            return  # no entry is taken now; a full write follows from fresh memory
        done = asyncio.get_running_loop().create_future()
        # registered while the mark is set: only a computation that starts once the
        # re-read has cleared it answers (see _user)
        self._settling.setdefault(user_id, []).append(done)
        try:
            await asyncio.wait_for(done, SETTLE_S)
        except TimeoutError:
            log.warning("direct routes: user %d not computed again in time: blanked", user_id)
            await self._blank(user_id)
        finally:
            waiting = self._settling.get(user_id)
            if waiting is not None and done in waiting:
                waiting.remove(done)
                if not waiting:
                    del self._settling[user_id]

    async def _blank(self, user_id: int) -> None:
        try:
            async with self._lock:
                for number in list(self.owned.get(user_id, ())):
                    await self._clear_locked(user_id, number)
            return
        except BaseException as exc:
            # an entry may still be there: a new token and a full write (the writer's next
            # round) void every entry
            self._all = True
            self._wake.set()
            if not isinstance(exc, Exception):
                raise  # cancelled
            log.warning("direct routes: blanking user %d failed (%r)", user_id, exc)
        if not await self._set_token(""):
            raise RuntimeError("direct routes: neither the user's entries nor the token blanked")

    def _settle(self, waiting: list[asyncio.Future[None]] | None) -> None:
        for done in waiting or ():
            if not done.done():
                done.set_result(None)

    def _keep(self, user_id: int, waiting: list[asyncio.Future[None]]) -> None:
        """Writes still waiting for the user (those given up already are dropped)."""
        left = [done for done in waiting if not done.done()]
        if left:
            self._settling.setdefault(user_id, []).extend(left)

    # -- the writer -------------------------------------------------------------------------

    async def run(self) -> None:
        """Write what changed, forever (cancel to stop)."""
        while True:
            timeout = RETRY_S if self._retry() else None
            if self._expiry:
                due = max(0.0, self._expiry[0][0] - datetime.now(UTC).timestamp())
                timeout = due if timeout is None else min(timeout, due)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.round()
            except AriUnavailable:
                self._all = True  # the next connect writes everything
            except Exception:  # noqa: BLE001 - tried again after a pause
                log.exception("direct routes: round failed")
                self._all = True
                await asyncio.sleep(RETRY_S)

    def _retry(self) -> bool:
        """Work is left that a round could not do (a refused write, a token not set)."""
        if not self.connected:
            return False
        if not self.cache.fresh:
            return self.token != ""
        return self._all or not self.token or bool(self._todo)

    async def round(self) -> None:
        """One round: the token, then the entries of the users that changed."""
        if not self.connected:
            return
        if not self.cache.fresh:
            # No entry may be taken: a full write with a new token once fresh again.
            self._all = True
            self._expiry.clear()
            self._due.clear()
            if self.token != "":
                await self._set_token("")
            return
        now = datetime.now(UTC)
        if self._all or not self.token:
            if not await self._set_token(secrets.token_hex(4)):
                return  # retried (the old token, if any, still matches only old entries)
            self._all, self._todo = False, set()
            self.pushed.clear()
            self.owned.clear()
            self._expiry.clear()
            self._due.clear()
            users = list(self.cache.users)
        else:
            self._take_due(now)
            users, self._todo = list(self._todo), set()
        for n, user_id in enumerate(users):
            if n and n % CHUNK == 0:
                await asyncio.sleep(0)
                if not self.token or self._all:  # stale memory, or a new full round needed
                    return
                # changes notified meanwhile go first: a full round of 100,000 users takes
                # tens of seconds
                now = datetime.now(UTC)
                self._take_due(now)
                urgent, self._todo = self._todo, set()
                for urgent_id in urgent:
                    await self._user(urgent_id, now)
            elif self._settling and self._todo and not self._todo.isdisjoint(self._settling):
                # a caller waits for a code's confirmation: before the next user
                waiting = self._todo & self._settling.keys()
                self._todo -= waiting
                for waiting_id in waiting:
                    await self._user(waiting_id, now)
            await self._user(user_id, now)
        DIRECT_ROUTES.set(len(self.pushed))

    def _take_due(self, now: datetime) -> None:
        """The users whose routing changes by the clock now join the round."""
        while self._expiry and self._expiry[0][0] <= now.timestamp():
            at, user_id = heapq.heappop(self._expiry)
            if self._due.get(user_id) == at:
                del self._due[user_id]
                self._todo.add(user_id)

    async def _set_token(self, token: str) -> bool:
        try:
            await self.ari.set_global_var(TOKEN_VAR, token)
        except AriUnavailable:
            raise
        except AriError as exc:
            log.warning("direct routes: setting %s failed (%s)", TOKEN_VAR, exc)
            return False
        if token or self.token:
            log.info("direct routes %s", f"on (token {token})" if token else "off")
        self.token = token
        if not token:  # no entry is taken: every write waiting is in step
            for waiting in self._settling.values():
                self._settle(waiting)
        return True

    def wanted(self, user_id: int, now: datetime) -> tuple[dict[str, str], datetime | None]:
        """The user's entries now (number -> value) and when they may change by the clock."""
        entry = self.cache.users.get(user_id)
        if entry is None:
            return {}, None
        facts = entry.facts
        user = subscriber_at(facts, now, {})
        until = valid_until(facts.periods, now)
        want = {}
        for number in facts.numbers:
            ring = direct_ring(user, number, self.policy)
            if ring is not None:
                want[number] = entry_value(self.token or "", until, ring_spec(ring, number))
        return want, until

    def _stopped(self, user_id: int) -> bool:
        """No entry may be written for the user now: a write about them is not read back
        yet (they are computed again once it is), or no entry may be taken at all."""
        return self.cache.dirty(user_id) or not self.token or not self.cache.fresh

    async def _user(self, user_id: int, now: datetime) -> None:
        if self._stopped(user_id):
            # a write not read back yet, or the token is off; computed again once read back
            return
        # the writes waiting for this user: the mark they saw is cleared, so this
        # computation reads what they wrote
        settling = self._settling.pop(user_id, None)
        try:
            complete = await self._compute(user_id, now)
        except BaseException:
            if settling:
                self._keep(user_id, settling)
            raise
        if settling and not complete and self.token:
            # a put was left out (written again meanwhile, the memory went stale, Asterisk
            # refused it): the next computation answers, or the token blanked settles them
            self._keep(user_id, settling)
        else:
            self._settle(settling)

    async def _compute(self, user_id: int, now: datetime) -> bool:
        """Write the user's entries as they should be now; False if one was left out."""
        seen = self._writes.get(user_id, 0)
        complete = True
        want, until = self.wanted(user_id, now)
        for number in self.owned.get(user_id, set()) - want.keys():
            await self._clear(user_id, number)
        for number, value in want.items():
            if self.pushed.get(number) != (user_id, hash(value)):
                complete = await self._put(user_id, number, value, seen) and complete
        # the next boundary, with or without an entry now (a red landline turns green)
        at = until.timestamp() if until is not None else None
        if at is None:
            self._due.pop(user_id, None)
        elif self._due.get(user_id) != at:
            self._due[user_id] = at
            heapq.heappush(self._expiry, (at, user_id))
        return complete

    async def _put(self, user_id: int, number: str, value: str, seen: int) -> bool:
        """Write one entry; False if it was left out."""
        async with self._lock:
            # checked again under the lock: a write may have marked the user meanwhile, or
            # been written (and read back) since this value was computed
            if self._stopped(user_id) or self._writes.get(user_id, 0) != seen:
                return False
            try:
                await self.ari.db_put(FAMILY, number, value)
            except AriUnavailable:
                raise
            except AriError as exc:
                # the old value may be stale: blank it, and try the user again
                log.warning("direct route %s not written (%s)", number, exc)
                self._todo.add(user_id)
                await self._clear_locked(user_id, number)
                return False
            old = self.pushed.get(number)
            if old is not None and old[0] != user_id:
                self.owned.get(old[0], set()).discard(number)
            self.pushed[number] = (user_id, hash(value))
            self.owned.setdefault(user_id, set()).add(number)
            return True

    async def _clear(self, user_id: int, number: str) -> None:
        async with self._lock:
            await self._clear_locked(user_id, number)

    async def _clear_locked(self, user_id: int, number: str) -> None:
        owner = self.pushed.get(number)
        if owner is None or owner[0] != user_id:
            self.owned.get(user_id, set()).discard(number)
            return
        await self.ari.db_clear(FAMILY, number)
        del self.pushed[number]
        self.owned[user_id].discard(number)
