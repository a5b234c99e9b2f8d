"""argon2 (~50 ms of CPU per PIN) never runs on the event loop: changing the PIN (by phone
through the call store, the CLI, the web) and checking it (the listening number, the
service layer) hash in a thread, so calls in progress go on meanwhile.

The hash is replaced by one that waits until a task on the event loop has run: on the loop
itself it would wait in vain (the loop is blocked by it) and say so after a bound far above
what the task needs."""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from vipcall import directory as d
from vipcall.db.engine import transaction
from vipcall.directory import voicemail as vm
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import create_pool

pytestmark = pytest.mark.asyncio(loop_scope="session")

BOUND = 5.0  # seconds; the loop task runs within milliseconds when the loop is free


class LoopWitness:
    """Runs ``real`` only once the event loop has ticked meanwhile (:meth:`ticking`)."""

    def __init__(self, real):  # type: ignore[no-untyped-def]
        self.real = real
        self.ticks = 0
        self.calls = 0
        self.blocked: list[str] = []

    async def ticking(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(0.005)

    def __call__(self, *args):  # type: ignore[no-untyped-def]
        self.calls += 1
        seen = self.ticks
        deadline = time.monotonic() + BOUND
        while self.ticks == seen and time.monotonic() < deadline:
            time.sleep(0.005)
        if self.ticks == seen:
            self.blocked.append(self.real.__name__)
        return self.real(*args)


async def test_changing_and_checking_the_pin_leave_the_loop_free(
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with transaction(sessions) as s:
        demo = await d.ensure_demo(s)
    maija = demo.users[0]
    hash_witness = LoopWitness(vm.hash_pin)
    check_witness = LoopWitness(vm.pin_matches)
    monkeypatch.setattr(vm, "hash_pin", hash_witness)
    monkeypatch.setattr(vm, "pin_matches", check_witness)
    pool: asyncpg.Pool = await create_pool(database_url)
    store = DbCallStore(pool, engine)
    ticker = asyncio.create_task(hash_witness.ticking())
    checker = asyncio.create_task(check_witness.ticking())
    try:
        await store.change_pin(maija.id, "4711")  # the listening number's "change PIN"
        assert await store.check_pin(maija.id, "4711")
        async with transaction(sessions) as s:  # the CLI's and the web's way
            await d.set_pin(s, maija.id, "8642")
        async with sessions() as s:
            assert await d.verify_pin(s, maija.id, "8642")
    finally:
        for task in (ticker, checker):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await pool.close()
    assert (hash_witness.calls, check_witness.calls) == (2, 2)
    assert hash_witness.blocked == [] and check_witness.blocked == []
