"""Forwarding over the API: the immediate target and one per activity, each seen by the call
app's next lookup; refused targets say why (in words, with the reason's code) and change
nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import Login, People
from tests.web.me_support import call_app, callee, snapshot
from vipcall.store.calls import DbCallStore

pytestmark = pytest.mark.asyncio(loop_scope="session")
__all__ = ["call_app"]


async def test_immediate_forwarding_in_any_spelling_routes_the_next_call(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    c = await login(people.pekka.username)
    assert (await c.get("/api/v1/me/forwarding")).json() == {"target": None}
    r = await c.put("/api/v1/me/forwarding", json={"target": "050 555 1234"})
    assert r.status_code == 200, r.text
    assert r.json() == {"target": "+358505551234"}
    assert (await callee(call_app, people.pekka.mobile)).immediate_forward == "+358505551234"
    r = await c.put("/api/v1/me/forwarding", json={"target": "+358 9 123 4567"})
    assert r.json() == {"target": "+35891234567"}
    assert (await c.delete("/api/v1/me/forwarding")).status_code == 204
    assert (await callee(call_app, people.pekka.mobile)).immediate_forward is None
    assert (await c.get("/api/v1/me/forwarding")).json() == {"target": None}


async def test_activity_forwarding_per_activity(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    c = await login(people.pekka.username)
    r = await c.put("/api/v1/me/forwarding/activities/3", json={"target": "0505551234"})
    assert r.status_code == 200, r.text
    assert r.json()["activity"]["fi"] == "Lounaalla" and r.json()["target"] == "+358505551234"
    await c.put("/api/v1/me/forwarding/activities/6", json={"target": "0401112222"})
    listed = (await c.get("/api/v1/me/forwarding/activities")).json()
    assert [a["activity"]["id"] for a in listed] == list(range(1, 9))
    assert {a["activity"]["id"]: a["target"] for a in listed if a["target"]} == {
        3: "+358505551234",
        6: "+358401112222",
    }
    seen = await callee(call_app, people.pekka.mobile)
    assert seen.activity_forwards == {3: "+358505551234", 6: "+358401112222"}
    assert (await c.delete("/api/v1/me/forwarding/activities/3")).status_code == 204
    assert (await callee(call_app, people.pekka.mobile)).activity_forwards == {6: "+358401112222"}


@pytest.mark.parametrize(
    ("target", "reason", "fi"),
    [
        ("12", "invalid-number", "Numero on virheellinen."),
        ("0700 123 456", "premium-or-shared-cost", "Siirto maksullisiin"),
        ("040 765 4321", "own-number", "Puheluja ei voi siirtää omaan numeroosi."),
    ],
)
async def test_refused_target_says_why_and_changes_nothing(
    login: Login, people: People, engine: AsyncEngine, target: str, reason: str, fi: str
) -> None:
    c = await login(people.pekka.username)
    await c.put("/api/v1/me/forwarding", json={"target": "0505551234"})
    before = await snapshot(engine)
    for path in ("/api/v1/me/forwarding", "/api/v1/me/forwarding/activities/2"):
        r = await c.put(path, json={"target": target})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["field"] == "target"
        assert body["reason"] == reason
        assert body["detail"].startswith(fi)
        assert body["reason_en"]  # the English sentence alongside
    assert await snapshot(engine) == before


async def test_a_loop_over_a_colleague_is_refused(
    login: Login, people: People, engine: AsyncEngine
) -> None:
    maija = await login(people.maija.username)
    pekka = await login(people.pekka.username)
    assert (
        await maija.put("/api/v1/me/forwarding", json={"target": people.pekka.mobile})
    ).status_code == 200
    before = await snapshot(engine)
    r = await pekka.put("/api/v1/me/forwarding", json={"target": people.maija.mobile})
    assert r.status_code == 422
    assert r.json()["reason"] == "loop"
    assert r.json()["detail"].startswith("Siirto muodostaisi silmukan.")
    assert await snapshot(engine) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/me/forwarding", {}, "target"),
        ("/api/v1/me/forwarding", {"target": ""}, "target"),
        ("/api/v1/me/forwarding/activities/9", {"target": "0505551234"}, "activity"),
        ("/api/v1/me/forwarding/activities/0", {"target": "0505551234"}, "activity"),
    ],
)
async def test_bad_forwarding_input_names_the_field(
    login: Login,
    people: People,
    engine: AsyncEngine,
    path: str,
    body: dict[str, str],
    field: str,
) -> None:
    c = await login(people.pekka.username)
    before = await snapshot(engine)
    r = await c.put(path, json=body)
    assert r.status_code == 422
    assert r.json()["field"] == field
    assert await snapshot(engine) == before
