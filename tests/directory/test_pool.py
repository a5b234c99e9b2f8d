"""The call path's pool (vipcall.store.pool) against PostgreSQL: a release sends nothing
after a statement, and still ends a transaction left open."""

from __future__ import annotations

import pytest

from vipcall.store.pool import create_pool

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_release_sends_the_server_nothing(database_url: str) -> None:
    pool = await create_pool(database_url)
    sent: list[str] = []
    try:
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda record: sent.append(record.query))
            assert await conn.fetchval("SELECT 1") == 1
        async with pool.acquire() as conn:  # the same connection (its logger stays)
            await conn.fetchval("SELECT 2")
        assert sent == ["SELECT 1", "SELECT 2"], "no reset statement between the two uses"
    finally:
        await pool.close()


async def test_a_transaction_left_open_is_rolled_back_on_release(database_url: str) -> None:
    pool = await create_pool(database_url)
    try:
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")
            await conn.execute("CREATE TEMP TABLE left_open (x int)")
            pid = await conn.fetchval("SELECT pg_backend_pid()")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid
            assert await conn.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
            assert not conn.is_in_transaction()
    finally:
        await pool.close()
