"""Contacts over the API: the organisation directory (own organisation only), personal
contacts, VIP flags (seen by the call app's next lookup as the caller being VIP), the VIP
list; another user's contact and another organisation's user are 404 and stay."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import Login, People
from tests.web.me_support import call_app, callee, snapshot
from vipcall.store.calls import DbCallStore

pytestmark = pytest.mark.asyncio(loop_scope="session")
__all__ = ["call_app"]


async def test_directory_search_is_own_organisation_only(login: Login, people: People) -> None:
    c = await login(people.maija.username)
    found = (await c.get("/api/v1/directory", params={"q": "pekka"})).json()
    assert [(u["id"], u["mobile"], u["vip"], u["is_me"]) for u in found] == [
        (people.pekka.id, "+358407654321", False, False)
    ]
    by_number = (await c.get("/api/v1/directory", params={"q": "040 765"})).json()
    assert [u["id"] for u in by_number] == [people.pekka.id]
    assert (await c.get("/api/v1/directory", params={"q": "Outi"})).json() == []
    assert (await c.get("/api/v1/directory", params={"q": "050 111 2222"})).json() == []
    r = await c.get("/api/v1/directory", params={"q": ""})
    assert r.status_code == 422 and r.json()["field"] == "q"


async def test_personal_contacts_and_vip_flag_bypass_on_the_next_call(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    c = await login(people.pekka.username)
    r = await c.post(
        "/api/v1/me/contacts", json={"name": " Asiakas  Oy ", "number": "050 555 1234"}
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["name"], made["number"], made["vip"]) == ("Asiakas Oy", "+358505551234", False)
    assert not (await callee(call_app, people.pekka.mobile, "+358505551234")).caller_is_vip
    r = await c.patch(f"/api/v1/me/contacts/{made['id']}", json={"vip": True})
    assert r.status_code == 200 and r.json()["vip"] is True
    assert (await callee(call_app, people.pekka.mobile, "+358505551234")).caller_is_vip
    r = await c.patch(
        f"/api/v1/me/contacts/{made['id']}", json={"name": "Asiakas", "number": "0505551235"}
    )
    assert r.json() == {"id": made["id"], "name": "Asiakas", "number": "+358505551235", "vip": True}
    assert (await c.get("/api/v1/me/contacts")).json() == [r.json()]
    vip = (await c.get("/api/v1/me/vip")).json()
    assert vip == [
        {"kind": "contact", "id": made["id"], "name": "Asiakas", "numbers": ["+358505551235"],
         "username": None}
    ]  # fmt: skip
    assert (await c.delete(f"/api/v1/me/contacts/{made['id']}")).status_code == 204
    assert (await c.get("/api/v1/me/contacts")).json() == []
    assert not (await callee(call_app, people.pekka.mobile, "+358505551235")).caller_is_vip


async def test_vip_colleague(login: Login, people: People, call_app: DbCallStore) -> None:
    c = await login(people.pekka.username)
    assert (await c.put(f"/api/v1/me/vip/colleagues/{people.maija.id}")).status_code == 204
    assert (await callee(call_app, people.pekka.mobile, people.maija.mobile)).caller_is_vip
    vip = (await c.get("/api/v1/me/vip")).json()
    assert [(v["kind"], v["id"], v["username"]) for v in vip] == [
        ("colleague", people.maija.id, people.maija.username)
    ]
    found = (await c.get("/api/v1/directory", params={"q": "Maija"})).json()
    assert found[0]["vip"] is True
    assert (await c.delete(f"/api/v1/me/vip/colleagues/{people.maija.id}")).status_code == 204
    assert not (await callee(call_app, people.pekka.mobile, people.maija.mobile)).caller_is_vip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "number": "0505551234"}, "name"),
        ({"name": "   ", "number": "0505551234"}, "name"),
        ({"name": "X", "number": "12"}, "number"),
        ({"name": "X"}, "number"),
        ({"name": "Kaksoiskappale", "number": "+358 50 555 0000"}, "number"),  # duplicate
    ],
)
async def test_bad_contact_names_the_field_and_changes_nothing(
    login: Login, people: People, engine: AsyncEngine, body: dict[str, str], field: str
) -> None:
    c = await login(people.pekka.username)
    assert (
        await c.post("/api/v1/me/contacts", json={"name": "Olemassa", "number": "0505550000"})
    ).status_code == 201
    before = await snapshot(engine)
    r = await c.post("/api/v1/me/contacts", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert await snapshot(engine) == before


async def test_bad_contact_edit_changes_nothing(
    login: Login, people: People, engine: AsyncEngine
) -> None:
    c = await login(people.pekka.username)
    made = (
        await c.post("/api/v1/me/contacts", json={"name": "Olemassa", "number": "0505550000"})
    ).json()
    before = await snapshot(engine)
    for body, field in (
        ({}, "contact"),
        ({"name": "Uusi", "number": "nope", "vip": True}, "number"),
        ({"name": ""}, "name"),
    ):
        r = await c.patch(f"/api/v1/me/contacts/{made['id']}", json=body)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert await snapshot(engine) == before


async def test_other_users_contacts_and_other_organisations_users_are_not_found(
    login: Login, people: People, engine: AsyncEngine
) -> None:
    maija = await login(people.maija.username)
    outi = await login(people.outi.username)
    theirs = (
        await maija.post("/api/v1/me/contacts", json={"name": "Maijan", "number": "0505550000"})
    ).json()
    before = await snapshot(engine)
    assert (await outi.get("/api/v1/me/contacts")).json() == []
    r = await outi.patch(f"/api/v1/me/contacts/{theirs['id']}", json={"vip": True})
    assert r.status_code == 404
    assert (await outi.delete(f"/api/v1/me/contacts/{theirs['id']}")).status_code == 404
    for method in ("PUT", "DELETE"):
        r = await outi.request(method, f"/api/v1/me/vip/colleagues/{people.maija.id}")
        assert r.status_code == 404
        assert people.maija.username not in r.text
    r = await maija.put(f"/api/v1/me/vip/colleagues/{people.maija.id}")
    assert r.status_code == 422 and r.json()["field"] == "colleague"
    assert (await maija.put("/api/v1/me/vip/colleagues/999999")).status_code == 404
    assert await snapshot(engine) == before
