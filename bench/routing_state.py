"""The routing state in memory at scale (issue 10: "100,000 users loaded", memory per user,
CPU per routing read): no Asterisk, so it can run beside other work (CPU is measured as
this process's CPU time, which other load barely changes; latencies are less robust).

    .venv/bin/python -m bench.routing_state [--users 100000] [--reads 20000]

One throwaway database (``vipcall_bench_state_<random>``, dropped at the end) seeded in SQL
with ``--users`` users in 10 organisations: every 10th user forwards (immediately or for an
activity), every 7th has a scheduled activity now, every 5th voicemail settings, every 20th
a softphone, every 10th two VIP contacts, and 1,000 stopped calls. Then:

* **load**: seconds for :meth:`RoutingCache.load` and the memory it holds (a second load
  under ``tracemalloc``: bytes allocated by the load and still alive, per user) and the
  process's RSS growth (which also holds what the load freed but the allocator kept);
* **read CPU**: CPU µs per routing read (caller + callee), from memory
  (:meth:`RoutingCache.parties`) and from PostgreSQL (:meth:`DbCallStore.parties`, the
  app's side only; PostgreSQL's own CPU comes on top) over ``--reads`` random calls;
* **notify -> applied**: a user's activity changed by another connection until the cache
  shows it, ``--changes`` times (p50 / p99 / max ms): how long another node's call could
  still see the old state.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import time
import tracemalloc
from datetime import UTC, datetime

import asyncpg

from harness.db import drop_database, fresh_database
from vipcall.db.engine import create_engine
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import asyncpg_dsn, create_pool
from vipcall.store.routing_cache import RoutingCache

SEED = """
INSERT INTO organizations (name, domain)
SELECT 'Org ' || o, 'org' || o || '.bench.fi' FROM generate_series(1, 10) o;
INSERT INTO users (organization_id, username, display_name, mobile_number, landline_number,
                   activity, role)
SELECT 1 + i % 10, 'u' || i || '@bench.fi', 'User ' || i, '+35840' || (5000000 + i),
       CASE WHEN i % 3 = 0 THEN '+3589' || (5000000 + i) END, 1 + i % 8, 1 + i % 5
  FROM generate_series(1, $USERS) i;
INSERT INTO forwardings (user_id, kind, activity, target)
SELECT id, CASE WHEN id % 20 = 0 THEN 'immediate' ELSE 'activity' END,
       CASE WHEN id % 20 = 0 THEN NULL ELSE 2 END, '+35840' || (5000000 + (id * 7) % $USERS + 1)
  FROM users WHERE id % 10 = 0;
INSERT INTO scheduled_activities (user_id, activity, starts_at, ends_at)
SELECT id, 3, now() - interval '1 hour', now() + interval '2 hours' FROM users WHERE id % 7 = 0;
INSERT INTO voicemail_settings (user_id, notice_on_scheduled_red, repeat_breakthrough)
SELECT id, true, true FROM users WHERE id % 5 = 0 ON CONFLICT (user_id) DO NOTHING;
INSERT INTO softphones (user_id, seq, sip_username, sip_password)
SELECT id, 1, 'sp-' || id || '-1', 'x' FROM users WHERE id % 20 = 0;
INSERT INTO contacts (organization_id, owner_user_id, name, number, is_vip)
SELECT u.organization_id, u.id, 'VIP ' || k, '+35850' || (1000000 + u.id * 2 + k), true
  FROM users u CROSS JOIN generate_series(0, 1) k WHERE u.id % 10 = 0;
INSERT INTO stopped_calls (user_id, caller_number)
SELECT 1 + (i * 97) % $USERS, '+35850' || (2000000 + i) FROM generate_series(1, 1000) i;
"""


def _rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> None:
    url = await fresh_database("vipcall_bench_state")
    dsn = asyncpg_dsn(url)
    try:
        conn = await asyncpg.connect(dsn)
        started = time.perf_counter()
        await conn.execute(SEED.replace("$USERS", str(args.users)))
        await conn.execute("ANALYZE")
        print(f"seeded {args.users} users in {time.perf_counter() - started:.1f} s", flush=True)

        cache = RoutingCache(lambda: asyncpg.connect(dsn))
        await cache.load(conn)
        load_seconds = cache.load_seconds
        cache = RoutingCache(lambda: asyncpg.connect(dsn))
        gc.collect()
        rss0 = _rss_kib()
        tracemalloc.start()
        await cache.load(conn)
        gc.collect()
        held, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss1 = _rss_kib()
        users = len(cache.users)
        print(
            f"load: {users} users in {load_seconds:.2f} s; memory held "
            f"{held / 2**20:.1f} MiB = {held / users:.0f} B/user (tracemalloc); "
            f"RSS +{(rss1 - rss0) / 1024:.1f} MiB = {(rss1 - rss0) * 1024 / users:.0f} B/user",
            flush=True,
        )

        rnd = random.Random(1)
        mobiles = [f"+35840{5000000 + i}" for i in range(1, args.users + 1)]
        calls = [(f"+35850{3000000 + i}", rnd.choice(mobiles)) for i in range(args.reads)]
        cpu = time.process_time()
        for caller, dialled in calls:
            cache.parties(caller, None, dialled, datetime.now(UTC))
        mem_us = (time.process_time() - cpu) / len(calls) * 1e6

        engine = create_engine(url)
        pool = await create_pool(url)
        db = DbCallStore(pool, engine)
        db_calls = calls[: max(1, args.reads // 5)]
        for caller, dialled in db_calls[:50]:  # warm the pool and the prepared statement
            await db.parties(caller, None, dialled)
        cpu = time.process_time()
        wall = time.perf_counter()
        for caller, dialled in db_calls:
            await db.parties(caller, None, dialled)
        db_us = (time.process_time() - cpu) / len(db_calls) * 1e6
        db_wall = (time.perf_counter() - wall) / len(db_calls) * 1e3
        print(
            f"routing read, CPU of this process per call: memory {mem_us:.0f} µs, "
            f"PostgreSQL {db_us:.0f} µs (+ the server's own; {db_wall:.2f} ms wall each)",
            flush=True,
        )

        listener = asyncio.create_task(cache.run())
        try:
            assert await cache.wait_fresh(120), "the cache did not start listening"
            lags = []
            writer = await asyncpg.connect(dsn)
            try:
                for _ in range(args.changes):
                    user_id = rnd.randrange(1, args.users + 1)
                    current = cache.users[user_id].facts.manual_activity
                    new = 1 + current % 8
                    t0 = time.perf_counter()
                    await writer.execute(
                        "UPDATE users SET activity = $1 WHERE id = $2", new, user_id
                    )
                    while cache.users[user_id].facts.manual_activity != new:
                        await asyncio.sleep(0)
                    lags.append((time.perf_counter() - t0) * 1e3)
            finally:
                await writer.close()
            print(
                f"notify -> applied ({len(lags)} changes, write included): p50 "
                f"{statistics.median(lags):.2f} / p99 {_pct(lags, 0.99):.2f} / max "
                f"{max(lags):.2f} ms",
                flush=True,
            )
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
            await pool.close()
            await engine.dispose()
            await conn.close()
    finally:
        await drop_database(url)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.routing_state", description=__doc__)
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--reads", type=int, default=20_000)
    p.add_argument("--changes", type=int, default=200)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
