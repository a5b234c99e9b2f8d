"""API tokens for the apps: made from a logged-in browser (shown once), listed, used as
``Authorization: Bearer``, revoked; only one's own."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.web.conftest import Login, People, _client

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_token_is_shown_once_and_works_as_bearer(
    login: Login, people: People, web_app: FastAPI
) -> None:
    c = await login(people.pekka.username)
    r = await c.post("/api/v1/tokens", json={"label": "  Puhelin   / phone "})
    assert r.status_code == 201
    made = r.json()
    assert made["label"] == "Puhelin / phone"
    assert made["token"].startswith("vip_")
    listed = (await c.get("/api/v1/tokens")).json()
    assert [t["id"] for t in listed] == [made["id"]]
    assert "token" not in listed[0] and listed[0]["last_used"] is None
    async with _client(web_app) as app:
        app.headers["Authorization"] = f"Bearer {made['token']}"
        who = await app.get("/api/v1/session")
        assert who.status_code == 200
        assert who.json()["user"]["id"] == people.pekka.id
        # A token cannot make more tokens (no CSRF needed, but refused).
        assert (await app.post("/api/v1/tokens", json={"label": "x"})).status_code == 403
    assert (await c.get("/api/v1/tokens")).json()[0]["last_used"] is not None


async def test_revoked_token_stops_working(login: Login, people: People, web_app: FastAPI) -> None:
    c = await login(people.pekka.username)
    made = (await c.post("/api/v1/tokens", json={"label": "app"})).json()
    assert (await c.delete(f"/api/v1/tokens/{made['id']}")).status_code == 204
    assert (await c.get("/api/v1/tokens")).json() == []
    async with _client(web_app) as app:
        app.headers["Authorization"] = f"Bearer {made['token']}"
        assert (await app.get("/api/v1/session")).status_code == 401


async def test_only_ones_own_tokens(login: Login, people: People) -> None:
    pekka = await login(people.pekka.username)
    maija = await login(people.maija.username)
    theirs = (await pekka.post("/api/v1/tokens", json={"label": "pekka"})).json()
    assert (await maija.get("/api/v1/tokens")).json() == []
    assert (await maija.delete(f"/api/v1/tokens/{theirs['id']}")).status_code == 404
    assert [t["id"] for t in (await pekka.get("/api/v1/tokens")).json()] == [theirs["id"]]


async def test_bad_input(login: Login, people: People, client: httpx.AsyncClient) -> None:
    c = await login(people.pekka.username)
    r = await c.post("/api/v1/tokens", json={"label": "   "})
    assert r.status_code == 422 and r.json()["field"] == "label"
    r = await c.post("/api/v1/tokens", json={})
    assert r.status_code == 422 and r.json()["field"] == "label"
    assert (await c.delete("/api/v1/tokens/99999999999")).status_code == 422
    assert (await c.get("/api/v1/tokens")).json() == []
    assert (await client.get("/api/v1/tokens")).status_code == 401
    assert (await client.post("/api/v1/tokens", json={"label": "x"})).status_code == 401
