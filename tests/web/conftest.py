"""The web app on the test database, driven in-process through httpx (no sockets).

``people`` gives two organisations: taipalsaari.fi with Maija (admin) and Pekka, and
naapuri.fi with Outi; every password is ``salasana123``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall.config import Settings
from vipcall.db.engine import session_factory, transaction
from vipcall.directory import create_organization, create_user
from vipcall.web.app import create_app

PASSWORD = "salasana123"


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    mobile: str
    organization_id: int


@dataclass(frozen=True)
class People:
    maija: Person  # admin of taipalsaari.fi
    pekka: Person  # taipalsaari.fi
    outi: Person  # admin of naapuri.fi


@pytest_asyncio.fixture(loop_scope="session")
async def web_app(engine: AsyncEngine, database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(Settings(database_url=database_url), session_factory(engine))
    async with app.router.lifespan_context(app):
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def people(engine: AsyncEngine) -> People:
    async with transaction(session_factory(engine)) as s:
        org = await create_organization(s, name="Taipalsaaren kunta", domain="taipalsaari.fi")
        other = await create_organization(s, name="Naapuri Oy", domain="naapuri.fi")
        made = []
        for o, name, mobile, admin in (
            (org, "Maija Meikäläinen", "040 123 4567", True),
            (org, "Pekka Puupää", "040 765 4321", False),
            (other, "Outi Ulkopuolinen", "050 111 2222", True),
        ):
            u = await create_user(
                s,
                organization=o,
                display_name=name,
                mobile=mobile,
                is_admin=admin,
                password=PASSWORD,
                email=f"{name.split()[0].lower()}@example.invalid",
            )
            made.append(Person(u.id, u.username, u.mobile_number, u.organization_id))
    return People(*made)


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.9", 40000)),
        base_url="http://testserver",
    )


@pytest_asyncio.fixture(loop_scope="session")
async def client(web_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(web_app) as c:
        yield c


Login = Callable[[str, str], Awaitable[httpx.AsyncClient]]


@pytest_asyncio.fixture(loop_scope="session")
async def login(web_app: FastAPI) -> AsyncIterator[Login]:
    """``await login(username, password)``: a client with a session; its unsafe requests
    carry the CSRF header already."""
    opened: list[httpx.AsyncClient] = []

    async def _login(username: str, password: str = PASSWORD) -> httpx.AsyncClient:
        c = _client(web_app)
        opened.append(c)
        r = await c.post("/api/v1/session", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c

    yield _login
    for c in opened:
        await c.aclose()
