"""schemathesis against the API's own OpenAPI schema: every operation, with valid and with
invalid input, over a logged-in admin session with its CSRF header, answers without a
server error (no 5xx). The app runs under uvicorn on a loopback port (a real HTTP server,
its own event loop and engine) on the test database.

Deterministic: hypothesis derandomized (a fixed seed from the test's name), a fixed number
of examples per operation and mode; well under a minute."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from harness.kannel import free_port
from vipcall.config import Settings
from vipcall.db.engine import create_engine, session_factory, transaction
from vipcall.db.models import Base
from vipcall.directory import create_organization, create_user
from vipcall.directory.passwords import set_password
from vipcall.web.app import create_app

PASSWORD = "salasana123"
EXAMPLES = 6  # per operation and generation mode


@schemathesis.serializer("text/csv")
def _csv(ctx: Any, value: Any) -> bytes:
    """The CSV import's body: whatever was generated, as text."""
    return value.encode() if isinstance(value, str) else str(value).encode()


def _db(database_url: str, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    """Run ``work`` in one transaction on its own loop and engine (this test is not async)."""

    async def run() -> Any:
        engine = create_engine(database_url)
        try:
            async with transaction(session_factory(engine)) as s:
                return await work(s)
        finally:
            await engine.dispose()

    # In a worker thread: asyncio.run in the main thread would leave it without an event
    # loop (set_event_loop(None)), breaking the async tests that run after this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@dataclass
class Live:
    base: str
    database_url: str
    username: str
    admin_id: int
    http: requests.Session

    def log_in(self) -> None:
        """Log in again if the fuzzing logged out or changed the admin's password."""
        if self.http.get(f"{self.base}/api/v1/session").status_code == 200:
            return
        body = {"username": self.username, "password": PASSWORD}
        r = self.http.post(f"{self.base}/api/v1/session", json=body)
        if r.status_code != 200:
            admin_id = self.admin_id
            _db(self.database_url, lambda s: set_password(s, admin_id, PASSWORD))
            _db(self.database_url, lambda s: s.execute(text("DELETE FROM auth_events")))
            r = self.http.post(f"{self.base}/api/v1/session", json=body)
        assert r.status_code == 200, r.text
        self.http.headers["X-CSRF-Token"] = r.json()["csrf_token"]


async def _people(s: AsyncSession) -> tuple[str, int]:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    await s.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    org = await create_organization(s, name="Taipalsaaren kunta", domain="taipalsaari.fi")
    other = await create_organization(s, name="Naapuri Oy", domain="naapuri.fi")
    admin = await create_user(
        s,
        organization=org,
        display_name="Maija",
        mobile="0401234567",
        is_admin=True,
        password=PASSWORD,
        email="maija@example.fi",
    )
    await create_user(
        s, organization=org, display_name="Pekka", mobile="0407654321", password=PASSWORD
    )
    await create_user(
        s,
        organization=other,
        display_name="Outi",
        mobile="0501112222",
        is_admin=True,
        password=PASSWORD,
    )
    return admin.username, admin.id


@pytest.fixture
def live(database_url: str) -> Iterator[Live]:
    username, admin_id = _db(database_url, _people)
    port = free_port()
    # Codes are "sent" to a closed port: the delivery fails (logged), the answer is the same.
    app = create_app(
        Settings(
            database_url=database_url,
            smtp_port=free_port(),
            sms_url=f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms",
            notice_send_timeout=1,
        )
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", database_url, username, admin_id, requests.Session())
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_no_operation_answers_with_a_server_error(live: Live) -> None:
    live.log_in()
    schema = schemathesis.openapi.from_url(f"{live.base}/api/openapi.json")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    succeeded: set[str] = set()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: schemathesis.Case) -> None:
                response = case.call(base_url=live.base, session=live.http, timeout=30)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if 200 <= response.status_code < 300:
                    succeeded.add(f"{case.method} {case.path}")
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{case.body!r:.200} {response.text[:300]}"
                    )

            live.log_in()
            try:
                check()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label
    assert operations >= 15  # the schema was read (auth, admin and the others' areas)
    print(f"{operations} operations, answers by status: {dict(sorted(statuses.items()))}")
    print(f"operations with a 2xx answer: {len(succeeded)}")
    assert statuses.get(401, 0) < sum(statuses.values()) / 4  # mostly logged in
    assert len(succeeded) >= operations // 2  # the session and CSRF header work
    assert failures == [], "\n".join(failures[:20])
