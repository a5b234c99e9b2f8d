"""The direct routes' writer (vipcall.service.direct): what it writes into Asterisk, when it
switches them off, and that a write of this node is confirmed only once the user's routes
were computed from what it wrote (never from a round that read the old state). An
in-memory ARI stand-in records the requests; the same runs for real
in tests/scenarios/direct_routes (983 on the very next call, a schedule's start)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from vipcall.ari import AriError
from vipcall.presence.absence import AbsenceSettings
from vipcall.presence.activity import Period
from vipcall.presence.model import Role
from vipcall.routing.rules import Policy
from vipcall.routing.snapshot import Organization
from vipcall.service.direct import FAMILY, TOKEN_VAR, DirectRoutes
from vipcall.store.calls import UserFacts
from vipcall.store.routing_cache import RoutingCache

MAIJA = UserFacts(
    id=1, org=Organization(id=1), mobile="+358401000001", landline="+35891000001",
    role=Role.MOBILE, manual_activity=1, periods=(), forwardings=(), immediate_forward=None,
    activity_forwards={}, softphones=(), voicemail_enabled=True, absence=AbsenceSettings(),
)  # fmt: skip


class FakeAri:
    """AstDB and globals as Asterisk keeps them; ``gate`` holds each put until set."""

    def __init__(self) -> None:
        self.db: dict[str, str] = {}
        self.globals: dict[str, str] = {TOKEN_VAR: "earlier-app"}
        self.calls: list[tuple[str, str]] = []
        self.gate: asyncio.Event | None = None
        self.refuse_globals = False

    async def set_global_var(self, variable: str, value: str) -> None:
        self.calls.append(("global", value))
        if self.refuse_globals:
            raise AriError(500, "POST", "/asterisk/variable", "refused")
        self.globals[variable] = value

    async def db_put(self, family: str, key: str, value: str) -> None:
        assert family == FAMILY
        if self.gate is not None:
            await self.gate.wait()
        self.calls.append(("put", key))
        self.db[key] = value

    async def db_clear(self, family: str, key: str) -> None:
        self.calls.append(("clear", key))
        self.db[key] = ""

    def taken(self, number: str) -> str | None:
        """The entry the dialplan would take now (its token is the global's)."""
        value, token = self.db.get(number, ""), self.globals.get(TOKEN_VAR, "")
        return value if token and value.startswith(token + "|") else None


def setup(*users: UserFacts) -> tuple[FakeAri, RoutingCache, DirectRoutes]:
    ari = FakeAri()
    cache = RoutingCache(lambda: None)  # type: ignore[arg-type, return-value]
    for facts in users:
        cache._put(facts, frozenset())
    cache.loaded = cache.listening = True
    direct = DirectRoutes(ari, cache, Policy())  # type: ignore[arg-type]
    direct.connect()
    return ari, cache, direct


async def test_after_a_connect_every_green_users_numbers_get_a_route_under_a_new_token() -> None:
    ari, _, direct = setup(MAIJA)
    await direct.round()
    assert ari.globals[TOKEN_VAR] not in ("", "earlier-app")
    mobile, landline = ari.taken(MAIJA.mobile), ari.taken(MAIJA.landline or "")
    assert mobile and mobile.endswith("|30|1|+358401000001|||PJSIP/+358401000001@mobile")
    assert landline and landline.endswith("|30|1|+35891000001|||PJSIP/+358401000001@mobile")


async def test_a_red_users_landline_has_no_route_their_mobile_keeps_one() -> None:
    lunch = replace(MAIJA, manual_activity=3)
    ari, _, direct = setup(lunch)
    await direct.round()
    assert ari.taken(MAIJA.mobile)
    assert not ari.taken(MAIJA.landline or "")


async def test_until_the_memory_is_fresh_no_route_is_taken_not_even_an_earlier_apps() -> None:
    ari, cache, direct = setup(MAIJA)
    cache.listening = False
    await direct.round()
    assert ari.globals[TOKEN_VAR] == ""
    assert ari.db == {}


async def test_a_lost_listening_connection_switches_the_routes_off() -> None:
    ari, cache, direct = setup(MAIJA)
    await direct.round()
    cache._down()  # what the listener does when its connection is lost
    await direct.round()
    assert ari.globals[TOKEN_VAR] == ""
    assert not ari.taken(MAIJA.mobile)


async def test_a_route_ends_at_the_next_scheduled_boundary() -> None:
    starts = datetime.now(UTC) + timedelta(hours=1)
    meeting = replace(MAIJA, periods=(Period(4, starts, starts + timedelta(hours=1)),))
    ari, _, direct = setup(meeting)
    await direct.round()
    value = ari.taken(MAIJA.mobile)
    assert value and value.split("|")[1] == str(int(starts.timestamp()))


async def round_with_a_slow_put(ari: FakeAri, direct: DirectRoutes) -> asyncio.Task[None]:
    """Maija's entries written, then forgotten on both sides, and a round that writes them
    again started: its first put is waiting for Asterisk (``ari.gate``) when this returns."""
    await direct.round()
    ari.db.clear()
    direct.pushed.clear()
    direct.owned.clear()
    ari.gate = asyncio.Event()
    direct.users_changed({MAIJA.id})
    writing = asyncio.create_task(direct.round())
    await asyncio.sleep(0.01)
    return writing


def read_back(cache: RoutingCache, direct: DirectRoutes, facts: UserFacts) -> None:
    """What the memory does when the re-read after a write is applied."""
    cache._put(facts, frozenset())
    cache._dirty.pop(facts.id, None)
    direct.users_changed({facts.id})


async def test_a_write_is_confirmed_once_the_users_routes_show_it() -> None:
    ari, cache, direct = setup(MAIJA)
    await direct.round()
    # a 983 3 code (lunch, red) is written; the store marks the user and waits
    cache.touch(MAIJA.id)
    waiting = asyncio.create_task(direct.written(MAIJA.id))
    # a re-read that started before the write brings the old (green) state back
    direct.users_changed({MAIJA.id})
    await direct.round()
    await asyncio.sleep(0)
    assert not waiting.done(), "the mark is still set: nothing computed from old state counts"
    read_back(cache, direct, replace(MAIJA, manual_activity=3))
    await direct.round()
    await asyncio.wait_for(waiting, 1)
    assert not ari.taken(MAIJA.landline or ""), "the landline asks the app at lunch"
    assert ari.taken(MAIJA.mobile), "the mobile still rings directly at lunch"


async def test_a_code_that_leaves_the_routes_as_they_were_sends_asterisk_nothing() -> None:
    ari, cache, direct = setup(MAIJA)
    await direct.round()
    before = list(ari.calls)
    cache.touch(MAIJA.id)  # 984 2: the outgoing caller ID changes, the ring does not
    waiting = asyncio.create_task(direct.written(MAIJA.id))
    await asyncio.sleep(0)  # as the store does: waiting from right after its mark
    read_back(cache, direct, replace(MAIJA, role=Role.LANDLINE))
    await direct.round()
    await asyncio.wait_for(waiting, 1)
    assert ari.calls == before


async def test_a_put_computed_before_the_write_does_not_confirm_it() -> None:
    ari, cache, direct = setup(MAIJA)
    writing = await round_with_a_slow_put(ari, direct)  # from the old (green) state
    cache.touch(MAIJA.id)  # meanwhile a 983 3 code is written
    waiting = asyncio.create_task(direct.written(MAIJA.id))
    read_back(cache, direct, replace(MAIJA, manual_activity=3))
    ari.gate.set()
    await writing
    await asyncio.sleep(0)
    assert not waiting.done(), "the old state's put does not answer the write"
    await direct.round()
    await asyncio.wait_for(waiting, 1)
    assert not ari.taken(MAIJA.landline or "")
    assert ari.taken(MAIJA.mobile)


async def test_overlapping_writes_wait_for_the_last_one_read_back() -> None:
    ari, cache, direct = setup(MAIJA)
    await direct.round()
    cache.touch(MAIJA.id)
    first = asyncio.create_task(direct.written(MAIJA.id))
    await asyncio.sleep(0)
    cache.touch(MAIJA.id)  # a second code while the first is not read back
    second = asyncio.create_task(direct.written(MAIJA.id))
    await asyncio.sleep(0)
    read_back(cache, direct, replace(MAIJA, manual_activity=3))
    await direct.round()
    await asyncio.wait_for(asyncio.gather(first, second), 1)
    assert not ari.taken(MAIJA.landline or "")


async def test_a_write_not_read_back_in_time_blanks_the_users_routes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("vipcall.service.direct.SETTLE_S", 0.01)
    ari, cache, direct = setup(MAIJA)
    await direct.round()
    cache.touch(MAIJA.id)  # the re-read never comes (the database is slow)
    await direct.written(MAIJA.id)
    assert not ari.taken(MAIJA.mobile) and not ari.taken(MAIJA.landline or "")
    await direct.round()
    assert not ari.taken(MAIJA.mobile), "not put back while the mark is set"


async def test_a_blank_that_fails_switches_every_route_off_until_rewritten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("vipcall.service.direct.SETTLE_S", 0.01)
    ari, cache, direct = setup(MAIJA)
    await direct.round()
    old_token = ari.globals[TOKEN_VAR]

    async def refused(family: str, key: str) -> None:
        raise AriError(500, "DELETE", f"/asterisk/database/{family}/{key}", "refused")

    ari.db_clear = refused  # type: ignore[method-assign]
    cache.touch(MAIJA.id)
    await direct.written(MAIJA.id)
    assert ari.globals[TOKEN_VAR] == "", "no entry is taken"
    read_back(cache, direct, MAIJA)
    await direct.round()
    assert ari.globals[TOKEN_VAR] not in ("", old_token), "a new token: earlier entries void"
    assert ari.taken(MAIJA.mobile), "written again under it"


async def test_a_write_while_the_routes_are_off_does_not_wait() -> None:
    ari, cache, direct = setup(MAIJA)
    cache.listening = False
    await direct.round()
    cache.touch(MAIJA.id)
    await asyncio.wait_for(direct.written(MAIJA.id), 0.5)


async def test_a_refused_token_keeps_the_old_bookkeeping_and_is_retried() -> None:
    ari, _, direct = setup(MAIJA)
    await direct.round()
    pushed = dict(direct.pushed)
    direct.connect()  # a reconnect: a new token is due
    ari.refuse_globals = True
    await direct.round()
    assert direct.pushed == pushed, "what Asterisk holds is still known (a blank clears it)"
    assert direct._retry(), "tried again after a pause"
    ari.refuse_globals = False
    await direct.round()
    assert ari.taken(MAIJA.mobile)


async def test_while_the_memory_is_stale_the_writer_waits_without_spinning() -> None:
    starts = datetime.now(UTC) - timedelta(seconds=1)  # a boundary already due
    meeting = replace(MAIJA, periods=(Period(4, starts, starts + timedelta(hours=1)),))
    ari, cache, direct = setup(meeting)
    direct._due[MAIJA.id] = starts.timestamp()
    direct._expiry.append((starts.timestamp(), MAIJA.id))
    cache.listening = False
    await direct.round()
    assert ari.globals[TOKEN_VAR] == ""
    assert not direct._expiry and not direct._retry(), "nothing to wake for until fresh"


async def test_a_users_next_boundary_is_kept_once_even_without_a_route() -> None:
    """On holiday with the absence notice neither number has a route; when the holiday
    ends they get one again (the boundary is watched for them too), and recomputing a user
    does not pile up timers."""
    now = datetime.now(UTC)
    period = Period(6, now - timedelta(days=1), now + timedelta(days=2))
    holiday = replace(MAIJA, role=Role.ABSENCE_NOTICE, periods=(period,))
    ari, _, direct = setup(holiday)
    await direct.round()
    assert not ari.taken(MAIJA.mobile) and not ari.taken(MAIJA.landline or "")
    for _ in range(3):
        direct.users_changed({MAIJA.id})
        await direct.round()
    assert direct._due == {MAIJA.id: (now + timedelta(days=2)).timestamp()}
    assert len(direct._expiry) == 1


async def test_when_nothing_can_be_blanked_the_write_is_not_confirmed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Asterisk refuses both the entries' blanking and the token's: the code's caller must
    hear that it failed, not the confirmation."""
    monkeypatch.setattr("vipcall.service.direct.SETTLE_S", 0.01)
    ari, cache, direct = setup(MAIJA)
    await direct.round()

    async def refused(family: str, key: str) -> None:
        raise AriError(500, "DELETE", f"/asterisk/database/{family}/{key}", "refused")

    ari.db_clear = refused  # type: ignore[method-assign]
    ari.refuse_globals = True
    cache.touch(MAIJA.id)
    with pytest.raises(RuntimeError):
        await direct.written(MAIJA.id)


async def test_a_computation_begun_before_a_write_puts_nothing_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A round computed Maija green, and its first put is slow; meanwhile 983 3 (lunch) is
    written, the wait gives up and blanks her entries, and the re-read clears the mark. The
    old round's second put (the landline, green) must not land after that."""
    monkeypatch.setattr("vipcall.service.direct.SETTLE_S", 0.01)
    ari, cache, direct = setup(MAIJA)
    old_round = await round_with_a_slow_put(ari, direct)  # the mobile's put
    cache.touch(MAIJA.id)
    waiting = asyncio.create_task(direct.written(MAIJA.id))
    await asyncio.sleep(0.05)  # the wait gave up; its blank waits for the lock
    read_back(cache, direct, replace(MAIJA, manual_activity=3))
    ari.gate.set()
    await asyncio.gather(old_round, waiting)
    assert not ari.taken(MAIJA.landline or ""), "the old round's green landline is not put"
    await direct.round()
    assert ari.taken(MAIJA.mobile) and not ari.taken(MAIJA.landline or "")


async def test_during_a_full_write_a_waiting_caller_goes_before_the_next_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("vipcall.service.direct.CHUNK", 10_000)
    users = [
        replace(MAIJA, id=n, mobile=f"+35840100000{n}", landline=None) for n in (1, 2, 3)
    ]
    ari, cache, direct = setup(*users)
    ari.gate = asyncio.Event()
    full = asyncio.create_task(direct.round())  # after the connect: everyone
    await asyncio.sleep(0.01)  # user 1's put waits for Asterisk
    cache.touch(3)
    waiting = asyncio.create_task(direct.written(3))
    await asyncio.sleep(0)
    read_back(cache, direct, replace(users[2], manual_activity=2))
    ari.gate.set()
    await asyncio.gather(full, waiting)
    puts = [key for kind, key in ari.calls if kind == "put"]
    assert puts.index(users[2].mobile) < puts.index(users[1].mobile), puts
