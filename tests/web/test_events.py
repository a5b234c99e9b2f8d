"""Live updates (real PostgreSQL, the app served by uvicorn on a loopback port, so the event
stream is read as a browser reads it): an open ``/api/v1/me/events`` stream gets ``event:
presence`` when the user's activity or role changes by any path — the call app's own write
after a feature code, the service layer, plain SQL, a scheduled activity — and nothing for
other users; keep-alive comments on a quiet stream; the listener comes back after its
database connection is killed."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import PASSWORD, People
from vipcall import directory
from vipcall.db.engine import session_factory, transaction
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import asyncpg_dsn, create_pool
from vipcall.web.api import events
from vipcall.web.live import hub_of

pytestmark = pytest.mark.asyncio(loop_scope="session")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture(loop_scope="session")
async def base_url(web_app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(web_app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        await hub_of(web_app).stop()


class Stream:
    """An open event stream, read event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 5.0) -> tuple[str, Any]:
        """The next event (name, data) or comment (``":"``, text)."""

        async def read() -> tuple[str, Any]:
            name, data = "message", None
            async for line in self._lines:
                if line.startswith(":"):
                    return ":", line[1:].strip()
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data = json.loads(line[5:])
                elif line == "" and data is not None:
                    return name, data
            raise EOFError

        return await asyncio.wait_for(read(), timeout)

    async def presence(self, timeout: float = 5.0) -> Any:
        while True:
            name, data = await self.next(timeout)
            if name == "presence":
                return data


@pytest_asyncio.fixture(loop_scope="session")
async def open_stream(base_url: str) -> AsyncIterator[Any]:
    clients: list[httpx.AsyncClient] = []
    streams: list[Any] = []

    async def _open(username: str) -> Stream:
        c = httpx.AsyncClient(base_url=base_url, timeout=10)
        clients.append(c)
        r = await c.post("/api/v1/session", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        cm = c.stream("GET", "/api/v1/me/events")
        response = await cm.__aenter__()
        streams.append(cm)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return Stream(response)

    yield _open
    for cm in streams:
        await cm.__aexit__(None, None, None)
    for c in clients:
        await c.aclose()


async def test_events_need_a_login(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/me/events")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


async def test_a_feature_code_by_phone_shows_on_the_open_page(
    open_stream: Any, people: People, database_url: str, engine: AsyncEngine
) -> None:
    stream = await open_stream(people.pekka.username)
    first = await stream.presence()
    assert first["activity"] == {"id": 1, "fi": "Tavoitettavissa", "en": "Available",
                                 "colour": "green"}  # fmt: skip
    assert first["role"]["id"] == 1 and first["colour"] == "green"

    # 9833 from the handset: the call app writes through its own store.
    pool = await create_pool(database_url)
    try:
        await DbCallStore(pool, engine).set_activity(people.pekka.id, 3)
        lunch = await stream.presence()
        assert lunch["activity"]["id"] == 3 and lunch["colour"] == "red"
        assert lunch["activity"]["en"] == "Lunch"
        # 9844: the role
        await DbCallStore(pool, engine).set_role(people.pekka.id, 4)
        assert (await stream.presence())["role"] == {"id": 4, "fi": "Piilotettu",
                                                     "en": "Hidden"}  # fmt: skip
    finally:
        await pool.close()


async def test_any_path_notifies_and_other_users_changes_do_not(
    open_stream: Any, people: People, database_url: str, engine: AsyncEngine
) -> None:
    stream = await open_stream(people.pekka.username)
    await stream.presence()
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        # Another user's change: nothing on Pekka's stream.
        await conn.execute("UPDATE users SET activity = 5 WHERE id = $1", people.maija.id)
        # Plain SQL (any other path) for Pekka himself:
        await conn.execute("UPDATE users SET activity = 7 WHERE id = $1", people.pekka.id)
        got = await stream.presence()
        assert got["activity"]["id"] == 7, "the first event is Pekka's own change"
    finally:
        await conn.close()

    # A scheduled activity added through the service layer (in effect now).
    now = datetime.now(UTC)
    async with transaction(session_factory(engine)) as s:
        await directory.add_scheduled_activity(
            s, people.pekka.id, 6, now - timedelta(minutes=1), now + timedelta(hours=1)
        )
    holiday = await stream.presence()
    assert holiday["activity"]["id"] == 6 and holiday["scheduled"] is True


async def test_a_scheduled_activity_starting_shows_without_a_write(
    open_stream: Any, people: People, engine: AsyncEngine
) -> None:
    starts = datetime.now(UTC) + timedelta(seconds=1.5)
    async with transaction(session_factory(engine)) as s:
        await directory.add_scheduled_activity(
            s, people.pekka.id, 4, starts, starts + timedelta(hours=1)
        )
    stream = await open_stream(people.pekka.username)
    assert (await stream.presence())["activity"]["id"] == 1
    meeting = await stream.presence(timeout=5)
    assert meeting["activity"]["id"] == 4
    assert datetime.now(UTC) >= starts


async def test_a_quiet_stream_gets_keep_alive_comments(
    open_stream: Any, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "KEEP_ALIVE", 0.3)
    stream = await open_stream(people.outi.username)
    await stream.presence()
    assert await stream.next(timeout=3) == (":", "keep-alive")


async def test_the_listener_reconnects_after_its_connection_is_killed(
    open_stream: Any, people: People, database_url: str, web_app: FastAPI
) -> None:
    stream = await open_stream(people.pekka.username)
    await stream.presence()
    hub = hub_of(web_app)
    await asyncio.wait_for(hub.listening.wait(), 5)
    before = hub.connections
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN%' AND datname = current_database()"
        )
        assert killed == 1
        for _ in range(100):
            if hub.connections > before and hub.listening.is_set():
                break
            await asyncio.sleep(0.1)
        assert hub.connections == before + 1, "the listener connected again"
        await conn.execute("UPDATE users SET role = 2 WHERE id = $1", people.pekka.id)
        assert (await stream.presence())["role"]["id"] == 2
    finally:
        await conn.close()
