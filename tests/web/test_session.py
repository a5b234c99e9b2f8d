"""Logging in and out of the home page: sessions, CSRF, idle expiry, problem+json."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import PASSWORD, Login, People
from vipcall.db.engine import session_factory
from vipcall.db.models import AuthEvent, WebSession

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_log_in_with_username_and_password_opens_a_session(
    client: httpx.AsyncClient, people: People
) -> None:
    r = await client.post(
        "/api/v1/session", json={"username": people.pekka.username, "password": PASSWORD}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["username"] == "fi0407654321@taipalsaari.fi"
    assert body["user"]["mobile"] == "+358407654321"
    assert body["csrf_token"]
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert (await client.get("/api/v1/session")).json()["user"]["id"] == people.pekka.id


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient, people: People, engine: AsyncEngine
) -> None:
    wrong = await client.post(
        "/api/v1/session", json={"username": people.pekka.username, "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/session", json={"username": "fi0409999999@taipalsaari.fi", "password": "x"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["detail"] == unknown.json()["detail"]
    async with session_factory(engine)() as s:
        logged = await s.scalar(
            select(func.count()).select_from(AuthEvent).where(AuthEvent.kind == "login_failed")
        )
    assert logged == 2


async def test_too_many_wrong_passwords_are_refused_even_with_the_right_one(
    client: httpx.AsyncClient, people: People
) -> None:
    for _ in range(10):
        r = await client.post(
            "/api/v1/session", json={"username": people.maija.username, "password": "wrong-one"}
        )
        assert r.status_code == 401
    r = await client.post(
        "/api/v1/session", json={"username": people.maija.username, "password": PASSWORD}
    )
    assert r.status_code == 429


async def test_not_logged_in_is_401_problem(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/session")
    assert r.status_code == 401
    assert r.json()["status"] == 401


async def test_unsafe_request_without_csrf_header_is_refused(login: Login, people: People) -> None:
    c = await login(people.pekka.username)
    token = c.headers.pop("X-CSRF-Token")
    assert (await c.delete("/api/v1/session")).status_code == 403
    c.headers["X-CSRF-Token"] = token
    assert (await c.delete("/api/v1/session")).status_code == 204
    assert (await c.get("/api/v1/session")).status_code == 401


async def test_an_idle_session_expires(login: Login, people: People, web_app: FastAPI) -> None:
    c = await login(people.pekka.username)
    later = datetime.now(UTC) + timedelta(minutes=31)
    web_app.state.clock = lambda: later
    try:
        assert (await c.get("/api/v1/session")).status_code == 401
    finally:
        del web_app.state.clock


async def test_missing_field_names_the_field(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/session", json={"username": "x"})
    assert r.status_code == 422
    assert r.json()["field"] == "password"


async def test_logging_out_deletes_the_session(
    login: Login, people: People, engine: AsyncEngine
) -> None:
    c = await login(people.pekka.username)
    await c.delete("/api/v1/session")
    async with session_factory(engine)() as s:
        left = await s.scalar(select(func.count()).select_from(WebSession))
    assert left == 0
