"""Service-number memberships (log in / out) and softphone accounts (the guide's section 3)
over the API: what the call app and its provisioning read next, SIP settings and the QR
code, and that no user sees or changes another's."""

from __future__ import annotations

import io

import httpx
import pytest
import segno
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import Login, People
from tests.web.me_support import call_app, snapshot
from vipcall.config import Settings
from vipcall.db.engine import session_factory, transaction
from vipcall.directory import servicenumbers as sn
from vipcall.service.provisioning import Provisioner
from vipcall.store.calls import DbCallStore

pytestmark = pytest.mark.asyncio(loop_scope="session")
__all__ = ["call_app"]


async def service_numbers(engine: AsyncEngine, people: People) -> tuple[int, int, int]:
    """Switchboard (Maija and Pekka), customer service (Maija), Naapuri's group (Outi)."""
    async with transaction(session_factory(engine)) as s:
        board = await sn.create_service_number(
            s, "taipalsaari.fi", number="09 4150 0000", kind="switchboard", name="Vaihde"
        )
        service = await sn.create_service_number(
            s, "taipalsaari.fi", number="09 4150 0001", kind="customer_service", name="Asiakas"
        )
        other = await sn.create_service_number(
            s, "naapuri.fi", number="09 4150 0002", kind="group", name="Naapurit"
        )
        for number, person in ((board, people.maija), (board, people.pekka)):
            await sn.add_member(s, number.id, person.id)
        await sn.add_member(s, service.id, people.maija.id)
        await sn.add_member(s, other.id, people.outi.id)
    return board.id, service.id, other.id


async def test_memberships_log_in_and_out(
    login: Login, people: People, engine: AsyncEngine, call_app: DbCallStore
) -> None:
    board, service, other = await service_numbers(engine, people)
    c = await login(people.pekka.username)
    assert (await c.get("/api/v1/me/service-numbers")).json() == [
        {"id": board, "number": "+358941500000", "name": "Vaihde", "kind": "switchboard",
         "logged_in": True}
    ]  # fmt: skip
    r = await c.put(f"/api/v1/me/service-numbers/{board}", json={"logged_in": False})
    assert r.status_code == 200 and r.json()["logged_in"] is False
    members = {m.member.user_id: m.member.logged_in for m in await call_app.members(board)}
    assert members == {people.maija.id: True, people.pekka.id: False}
    r = await c.put(f"/api/v1/me/service-numbers/{board}", json={"logged_in": True})
    assert {m.member.user_id: m.member.logged_in for m in await call_app.members(board)}[
        people.pekka.id
    ]
    # Not a member: 404 whether the number is of the own organisation or another's.
    before = await snapshot(engine)
    for sn_id in (service, other, 999999):
        r = await c.put(f"/api/v1/me/service-numbers/{sn_id}", json={"logged_in": False})
        assert r.status_code == 404, r.text
    r = await c.put(f"/api/v1/me/service-numbers/{board}", json={"logged_in": "perhaps"})
    assert r.status_code == 422 and r.json()["field"] == "logged_in"
    assert await snapshot(engine) == before


async def test_softphone_add_show_qr_remove_reaches_provisioning(
    login: Login, people: People, engine: AsyncEngine, web_app: FastAPI
) -> None:
    settings: Settings = web_app.state.settings
    c = await login(people.pekka.username)
    r = await c.post("/api/v1/me/softphones", json={"label": "Työkone"})
    assert r.status_code == 201, r.text
    made = r.json()
    username = f"sp-{people.pekka.id}-1"
    assert made["username"] == username and made["label"] == "Työkone"
    assert (made["domain"], made["port"], made["transport"]) == (
        settings.sip_public_host,
        settings.sip_public_port,
        "udp",
    )
    assert len(made["password"]) >= 20
    assert made["provisioning_uri"] == (
        f"sip:{username}:{made['password']}@{settings.sip_public_host}:"
        f"{settings.sip_public_port};transport=udp"
    )
    assert made["active_within_seconds"] == settings.sync_interval
    # What the call app's provisioning pushes to Asterisk on its next round.
    _, desired = await Provisioner(None, engine).desired()  # type: ignore[arg-type]
    assert desired[username].password == made["password"]
    assert desired[username].mobile == people.pekka.mobile
    listed = (await c.get("/api/v1/me/softphones")).json()
    assert [(p["id"], p["username"]) for p in listed] == [(made["id"], username)]
    assert "password" not in listed[0]
    shown = (await c.get(f"/api/v1/me/softphones/{made['id']}")).json()
    assert shown["password"] == made["password"]
    qr = await c.get(made["qr_url"])
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert qr.text.lstrip().startswith(("<?xml", "<svg")) and "<path" in qr.text
    assert (await c.delete(f"/api/v1/me/softphones/{made['id']}")).status_code == 204
    _, desired = await Provisioner(None, engine).desired()  # type: ignore[arg-type]
    assert username not in desired
    assert (await c.get(f"/api/v1/me/softphones/{made['id']}")).status_code == 404


async def test_qr_code_holds_the_uri(login: Login, people: People) -> None:
    """segno's own encoding of the same text gives the same SVG: the code holds the URI."""
    c = await login(people.pekka.username)
    made = (await c.post("/api/v1/me/softphones", json={})).json()
    svg = (await c.get(made["qr_url"])).text
    expected = io.BytesIO()
    segno.make(made["provisioning_uri"], error="m").save(
        expected, kind="svg", scale=5, border=2, title="SIP"
    )
    assert svg == expected.getvalue().decode()


async def test_other_users_softphones_are_not_found_and_stay(
    login: Login, people: People, engine: AsyncEngine
) -> None:
    maija = await login(people.maija.username)
    pekka = await login(people.pekka.username)
    theirs = (await maija.post("/api/v1/me/softphones", json={"label": "Maijan"})).json()
    before = await snapshot(engine)
    assert (await pekka.get("/api/v1/me/softphones")).json() == []
    for method, path in (
        ("GET", f"/api/v1/me/softphones/{theirs['id']}"),
        ("GET", f"/api/v1/me/softphones/{theirs['id']}/qr.svg"),
        ("DELETE", f"/api/v1/me/softphones/{theirs['id']}"),
    ):
        r = await pekka.request(method, path)
        assert r.status_code == 404, (method, path)
        assert theirs["password"] not in r.text
    r = await pekka.post("/api/v1/me/softphones", json={"label": "x" * 101})
    assert r.status_code == 422 and r.json()["field"] == "label"
    assert await snapshot(engine) == before


async def test_not_logged_in_gets_nothing(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/me/softphones", "/api/v1/me/service-numbers", "/api/v1/me/contacts"):
        assert (await client.get(path)).status_code == 401


async def test_an_app_uses_its_token_for_the_me_area(
    login: Login, people: People, client: httpx.AsyncClient, call_app: DbCallStore
) -> None:
    """A softphone/mobile app holds a bearer token, not a session: no CSRF header needed."""
    c = await login(people.pekka.username)
    token = (await c.post("/api/v1/tokens", json={"label": "Mobiilisovellus"})).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    r = await client.put("/api/v1/me/presence", json={"activity": 7}, headers=auth)
    assert r.status_code == 200, r.text
    assert (await client.get("/api/v1/me", headers=auth)).json()["presence"]["activity"]["id"] == 7
    _, seen = await call_app.parties(None, None, people.pekka.mobile)
    assert seen is not None and seen.activity == 7
