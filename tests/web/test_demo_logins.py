"""The demo organisation's users log in to the home page with the documented demo password
(what ``make run`` prints); Maija is the admin."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall.db.engine import session_factory, transaction
from vipcall.db.models import User
from vipcall.directory.demo import DEMO_PASSWORD, ensure_demo

pytestmark = pytest.mark.asyncio(loop_scope="session")

LOGINS = (
    ("fi0401234567@taipalsaari.fi", True),  # Maija Meikäläinen, admin
    ("fi0401234568@taipalsaari.fi", False),  # Matti Virtanen
    ("fi0501234569@taipalsaari.fi", False),  # Liisa Korhonen
)


async def test_demo_users_log_in_with_the_demo_password(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    async with transaction(session_factory(engine)) as s:
        demo = await ensure_demo(s)
    assert sorted(u.username for u in demo.users) == sorted(name for name, _ in LOGINS)
    for username, admin in LOGINS:
        r = await client.post(
            "/api/v1/session", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert r.status_code == 200, (username, r.text)
        assert r.json()["user"]["is_admin"] is admin
        status = (await client.get("/api/v1/admin/users")).status_code
        assert status == (200 if admin else 403)


async def test_a_demo_database_from_before_gets_the_password_and_a_changed_one_stays(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    sessions = session_factory(engine)
    async with transaction(sessions) as s:
        await ensure_demo(s)
    async with transaction(sessions) as s:  # as made before demo passwords existed
        await s.execute(update(User).values(password_hash=None))
    async with transaction(sessions) as s:
        again = await ensure_demo(s)
    assert again.created  # the passwords were added
    maija = LOGINS[0][0]
    ok = await client.post("/api/v1/session", json={"username": maija, "password": DEMO_PASSWORD})
    assert ok.status_code == 200
    admin = {"X-CSRF-Token": ok.json()["csrf_token"]}
    users = (await client.get("/api/v1/admin/users")).json()
    matti = next(u for u in users if u["username"] == LOGINS[1][0])
    r = await client.post(
        f"/api/v1/admin/users/{matti['id']}/password",
        json={"password": "matin-oma-salasana"},
        headers=admin,
    )
    assert r.status_code == 204
    async with transaction(sessions) as s:
        assert not (await ensure_demo(s)).created
    r = await client.post(
        "/api/v1/session", json={"username": LOGINS[1][0], "password": "matin-oma-salasana"}
    )
    assert r.status_code == 200
