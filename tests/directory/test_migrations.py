"""Migrations: upgrade from empty, downgrade to base (programmatically and via alembic's CLI),
and the models agree with the migrated schema."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from harness.db import drop_database, fresh_database
from vipcall.db import migrate
from vipcall.db.engine import create_engine
from vipcall.db.models import Base

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPO = Path(__file__).resolve().parents[2]
EXPECTED_TABLES = {
    "organizations",
    "users",
    "scheduled_activities",
    "forwardings",
    "contacts",
    "groups",
    "group_members",
    "service_numbers",
    "service_number_members",
    "voicemail_settings",
    "softphones",
    "mailboxes",
    "voicemail_messages",
    # 0002: voicemail, absence notice, notices
    "vip_colleagues",
    "stopped_calls",
    "notices",
    "mailbox_login_failures",
    # 0003: service numbers' queue
    "service_number_calls",
    # 0004: the home page's sessions, tokens, password codes and auth log
    "web_sessions",
    "api_tokens",
    "password_codes",
    "auth_events",
    # 0005: call history
    "call_records",
}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def _diff(url: str) -> list[object]:
    engine = create_engine(url, poolclass=NullPool)

    def compare(conn: Connection) -> list[object]:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(ctx, Base.metadata))

    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_roundtrip() -> None:
    url = await fresh_database("vipcall_mig", migrate=False)
    try:
        assert await _tables(url) == set()
        await migrate.upgrade_async(url)
        assert await _tables(url) == EXPECTED_TABLES
        assert await migrate.current_revision_async(url) == "0010"  # head
        assert await _diff(url) == [], "models and migrations disagree"
        # Upgrading again is a no-op.
        await migrate.upgrade_async(url)
        await migrate.downgrade_async(url, "base")
        assert await _tables(url) == set()
        assert await migrate.current_revision_async(url) is None
        await migrate.upgrade_async(url)
        assert await _tables(url) == EXPECTED_TABLES
    finally:
        await drop_database(url)


async def test_alembic_command_line() -> None:
    url = await fresh_database("vipcall_mig", migrate=False)
    env = {**os.environ, "VIPCALL_DATABASE_URL": url}
    alembic = [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini")]
    try:
        for args in (["upgrade", "head"], ["downgrade", "base"], ["upgrade", "head"]):
            proc = await asyncio.to_thread(
                subprocess.run, alembic + args, cwd=REPO, env=env, capture_output=True, text=True
            )
            assert proc.returncode == 0, proc.stderr
        assert await _tables(url) == EXPECTED_TABLES
        # -x url= wins over the environment.
        other = await fresh_database("vipcall_mig", migrate=False)
        try:
            proc = await asyncio.to_thread(
                subprocess.run,
                alembic + ["-x", f"url={other}", "upgrade", "head"],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
            )
            assert proc.returncode == 0, proc.stderr
            assert await _tables(other) == EXPECTED_TABLES
        finally:
            await drop_database(other)
    finally:
        await drop_database(url)


async def test_sync_api_outside_loop() -> None:
    # asyncio.run() in the main thread would unset the session event loop pytest-asyncio
    # uses, so the "no running loop" case runs in a worker thread.
    def body() -> None:
        url = asyncio.run(fresh_database("vipcall_mig", migrate=False))
        try:
            assert migrate.create_database_if_missing(url) is False
            migrate.upgrade(url)
            assert asyncio.run(_tables(url)) == EXPECTED_TABLES
            migrate.downgrade(url)
            assert asyncio.run(_tables(url)) == set()
        finally:
            migrate.drop_database(url)

    await asyncio.to_thread(body)


async def test_sync_api_inside_running_loop() -> None:
    from harness.db import new_database_url

    url = new_database_url("vipcall_mig")
    assert migrate.create_database_if_missing(url) is True
    try:
        migrate.upgrade(url)  # runs in a worker thread because a loop is running
        assert await _tables(url) == EXPECTED_TABLES
    finally:
        migrate.drop_database(url)


async def test_check_constraints_exist() -> None:
    url = await fresh_database("vipcall_mig")
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            names = set(
                (
                    await conn.execute(
                        text("SELECT conname FROM pg_constraint WHERE contype = 'c'")
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
        await drop_database(url)
    assert {"ck_users_activity", "ck_users_role", "ck_scheduled_activities_activity"} <= names
