"""The organisation admin's API on real PostgreSQL: users (with CSV import and passwords),
groups, service numbers, the organisation. Only admins, only their own organisation
(another organisation's ids answer 404 like missing ones), bad input named and nothing
changed."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import PASSWORD, Login, People
from vipcall.db.engine import session_factory
from vipcall.db.models import User
from vipcall.directory.organizations import dial_policy_of, get_organization
from vipcall.presence.forwarding import destination_refusal
from vipcall.store.calls import DbCallStore
from vipcall.store.pool import create_pool

pytestmark = pytest.mark.asyncio(loop_scope="session")

ADMIN_GETS = (
    "/api/v1/admin/users",
    "/api/v1/admin/groups",
    "/api/v1/admin/service-numbers",
    "/api/v1/admin/organization",
)


async def _users(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as s:
        return await s.scalar(select(func.count()).select_from(User)) or 0


async def test_only_admins(login: Login, people: People, client: httpx.AsyncClient) -> None:
    pekka = await login(people.pekka.username)
    for path in ADMIN_GETS:
        assert (await pekka.get(path)).status_code == 403, path
        assert (await client.get(path)).status_code == 401, path
    r = await pekka.post("/api/v1/admin/users", json={"display_name": "X", "mobile": "0401111111"})
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"


# --- users ------------------------------------------------------------------------------


async def test_an_admin_sees_only_the_own_organisations_users(login: Login, people: People) -> None:
    maija = await login(people.maija.username)
    listed = (await maija.get("/api/v1/admin/users")).json()
    assert {u["id"] for u in listed} == {people.maija.id, people.pekka.id}
    found = (await maija.get("/api/v1/admin/users", params={"q": "pekka"})).json()
    assert [u["id"] for u in found] == [people.pekka.id]
    by_number = (await maija.get("/api/v1/admin/users", params={"q": "040 765"})).json()
    assert [u["id"] for u in by_number] == [people.pekka.id]
    assert (await maija.get("/api/v1/admin/users", params={"q": "Outi"})).json() == []
    for method, path in (
        ("GET", f"/api/v1/admin/users/{people.outi.id}"),
        ("PATCH", f"/api/v1/admin/users/{people.outi.id}"),
        ("DELETE", f"/api/v1/admin/users/{people.outi.id}"),
        ("POST", f"/api/v1/admin/users/{people.outi.id}/password"),
        ("GET", "/api/v1/admin/users/999999"),
    ):
        body = {"password": "toinen-salasana"} if path.endswith("password") else {}
        r = await maija.request(method, path, json=body if method != "GET" else None)
        assert r.status_code == 404, (method, path, r.text)


async def test_create_change_and_delete_a_user(
    login: Login, people: People, engine: AsyncEngine
) -> None:
    maija = await login(people.maija.username)
    r = await maija.post(
        "/api/v1/admin/users",
        json={"display_name": "Ville Uusi", "mobile": "044 555 1234", "email": "ville@x.fi"},
    )
    assert r.status_code == 201, r.text
    ville = r.json()
    assert ville["username"] == "fi0445551234@taipalsaari.fi"
    assert ville["mobile"] == "+358445551234"
    assert ville["has_password"] is False and ville["is_admin"] is False
    r = await maija.patch(
        f"/api/v1/admin/users/{ville['id']}",
        json={"display_name": "Ville Vanha", "landline": "05 123 4099", "is_admin": True},
    )
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Ville Vanha"
    assert r.json()["landline"] == "+35851234099"
    assert r.json()["email"] == "ville@x.fi"  # left out: unchanged
    assert r.json()["is_admin"] is True
    r = await maija.patch(f"/api/v1/admin/users/{ville['id']}", json={"email": None})
    assert r.json()["email"] is None
    before = await _users(engine)
    assert (await maija.delete(f"/api/v1/admin/users/{ville['id']}")).status_code == 204
    assert await _users(engine) == before - 1
    assert (await maija.get(f"/api/v1/admin/users/{ville['id']}")).status_code == 404


async def test_bad_user_input_names_the_field_and_changes_nothing(
    login: Login, people: People, engine: AsyncEngine
) -> None:
    maija = await login(people.maija.username)
    before = await _users(engine)
    for body, field in (
        ({"display_name": "X", "mobile": "123"}, "mobile"),
        ({"display_name": "X", "mobile": "09 123 4567"}, "mobile"),  # not a mobile
        ({"display_name": "X", "mobile": "040 765 4321"}, "mobile"),  # Pekka's
        ({"display_name": " ", "mobile": "0401112233"}, "display_name"),
        ({"display_name": "X", "mobile": "0401112233", "email": "nope"}, "email"),
        ({"display_name": "X", "mobile": "0401112233", "password": "short"}, "password"),
        ({"mobile": "0401112233"}, "display_name"),
    ):
        r = await maija.post("/api/v1/admin/users", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"] == field, (body, r.json())
    assert await _users(engine) == before
    pekka = f"/api/v1/admin/users/{people.pekka.id}"
    for body, field in (
        ({"display_name": None}, "display_name"),
        ({"landline": "040 765 4321"}, "landline"),  # his own mobile
        ({"landline": "040 123 4567"}, "landline"),  # Maija's mobile
        ({"display_name": "Uusi", "email": "not-an-address"}, "email"),
    ):
        r = await maija.patch(pekka, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"] == field
    assert (await maija.get(pekka)).json()["display_name"] == "Pekka Puupää"
    # An admin neither deletes themself nor drops their own admin right.
    me = f"/api/v1/admin/users/{people.maija.id}"
    assert (await maija.delete(me)).status_code == 422
    r = await maija.patch(me, json={"is_admin": False})
    assert r.status_code == 422 and r.json()["field"] == "is_admin"


async def test_an_admin_sets_a_users_password(
    login: Login, people: People, client: httpx.AsyncClient
) -> None:
    maija = await login(people.maija.username)
    pekka = await login(people.pekka.username)
    url = f"/api/v1/admin/users/{people.pekka.id}/password"
    r = await maija.post(url, json={"password": "short"})
    assert r.status_code == 422 and r.json()["field"] == "password"
    assert (await pekka.get("/api/v1/session")).status_code == 200  # nothing changed
    assert (await maija.post(url, json={"password": "pekan-uusi-salasana"})).status_code == 204
    assert (await pekka.get("/api/v1/session")).status_code == 401  # his sessions closed
    for password, status in ((PASSWORD, 401), ("pekan-uusi-salasana", 200)):
        r = await client.post(
            "/api/v1/session", json={"username": people.pekka.username, "password": password}
        )
        assert r.status_code == status


async def test_csv_import_all_or_nothing(login: Login, people: People, engine: AsyncEngine) -> None:
    maija = await login(people.maija.username)
    headers = {"content-type": "text/csv"}
    before = await _users(engine)
    bad = (
        "display_name;mobile;landline;email\n"
        "Aino Hyvä;040 200 0001;;aino@x.fi\n"
        "Bertta Huono;123;;\n"
        "Cecilia Kaksoisnumero;040 200 0001;;\n"
        "Daniel Varattu;040 765 4321;;\n"
    )
    r = await maija.post("/api/v1/admin/users/import", content=bad.encode(), headers=headers)
    assert r.status_code == 422
    problem = r.json()
    assert problem["detail"].startswith("nothing imported (mitään ei tuotu)")
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [(3, "mobile"), (4, "mobile")]
    assert await _users(engine) == before
    # A file whose rows are fine but a number is taken: also listed, nothing created.
    taken = "display_name,mobile\nAino Hyvä,040 200 0001\nDaniel Varattu,040 765 4321\n"
    r = await maija.post("/api/v1/admin/users/import", content=taken.encode(), headers=headers)
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(3, "mobile")]
    assert await _users(engine) == before
    good = "\ufeffdisplay_name,mobile,email\nAino Hyvä,040 200 0001,aino@x.fi\nEero,0402000002,\n"
    r = await maija.post("/api/v1/admin/users/import", content=good.encode(), headers=headers)
    assert r.status_code == 201, r.text
    assert [u["username"] for u in r.json()["created"]] == [
        "fi0402000001@taipalsaari.fi",
        "fi0402000002@taipalsaari.fi",
    ]
    assert await _users(engine) == before + 2


async def test_csv_import_refuses_what_is_not_a_csv_file(login: Login, people: People) -> None:
    maija = await login(people.maija.username)
    # One line is CSV text too, never a path on the server.
    r = await maija.post(
        "/api/v1/admin/users/import", content=b"/etc/passwd", headers={"content-type": "text/csv"}
    )
    assert r.status_code == 422 and r.json()["field"] == "header"
    r = await maija.post(
        "/api/v1/admin/users/import", content=b"\xff\xfe", headers={"content-type": "text/csv"}
    )
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = await maija.post("/api/v1/admin/users/import", json={"display_name": "x"})
    assert r.status_code == 415


# --- groups -----------------------------------------------------------------------------


async def test_no_voicemail_group_turns_a_members_voicemail_off(
    login: Login, people: People, engine: AsyncEngine, database_url: str
) -> None:
    maija = await login(people.maija.username)
    r = await maija.post(
        "/api/v1/admin/groups", json={"name": "Ei vastaajaa", "kind": "no_voicemail"}
    )
    assert r.status_code == 201, r.text
    group = r.json()
    url = f"/api/v1/admin/groups/{group['id']}/members"
    r = await maija.post(url, json={"user_id": people.pekka.id})
    assert r.status_code == 200
    assert [m["user_id"] for m in r.json()["members"]] == [people.pekka.id]
    pool = await create_pool(database_url)
    try:
        store = DbCallStore(pool, engine)
        pekka = await store.user(people.pekka.id)
        assert pekka is not None and pekka.voicemail_enabled is False
        maija_now = await store.user(people.maija.id)
        assert maija_now is not None and maija_now.voicemail_enabled is True
        assert (await maija.delete(f"{url}/{people.pekka.id}")).status_code == 204
        pekka = await store.user(people.pekka.id)
        assert pekka is not None and pekka.voicemail_enabled is True
    finally:
        await pool.close()
    listed = (await maija.get("/api/v1/admin/groups")).json()
    assert listed == [
        {"id": group["id"], "name": "Ei vastaajaa", "kind": "no_voicemail", "member_count": 0}
    ]
    assert (await maija.delete(f"/api/v1/admin/groups/{group['id']}")).status_code == 204
    assert (await maija.get("/api/v1/admin/groups")).json() == []


async def test_groups_bad_input_and_other_organisations(login: Login, people: People) -> None:
    maija = await login(people.maija.username)
    outi = await login(people.outi.username)
    theirs = (await outi.post("/api/v1/admin/groups", json={"name": "Naapurin"})).json()
    assert theirs["kind"] == "custom"
    assert (await maija.get(f"/api/v1/admin/groups/{theirs['id']}")).status_code == 404
    assert (await maija.delete(f"/api/v1/admin/groups/{theirs['id']}")).status_code == 404
    r = await maija.post(
        f"/api/v1/admin/groups/{theirs['id']}/members", json={"user_id": people.pekka.id}
    )
    assert r.status_code == 404
    mine = (await maija.post("/api/v1/admin/groups", json={"name": "Oma"})).json()
    r = await maija.post(
        f"/api/v1/admin/groups/{mine['id']}/members", json={"user_id": people.outi.id}
    )
    assert r.status_code == 404  # another organisation's user
    r = await maija.post("/api/v1/admin/groups", json={"name": "Oma"})
    assert r.status_code == 422 and r.json()["field"] == "name"
    r = await maija.post("/api/v1/admin/groups", json={"name": "X", "kind": "service"})
    assert r.status_code == 422 and r.json()["field"] == "kind"
    url = f"/api/v1/admin/groups/{mine['id']}/members"
    assert (await maija.post(url, json={"user_id": people.pekka.id})).status_code == 200
    r = await maija.post(url, json={"user_id": people.pekka.id})
    assert r.status_code == 422 and r.json()["field"] == "user_id"
    assert (await maija.delete(f"{url}/{people.maija.id}")).status_code == 404  # not a member
    assert (await outi.get(f"/api/v1/admin/groups/{theirs['id']}")).status_code == 200


# --- service numbers --------------------------------------------------------------------


async def test_service_numbers(login: Login, people: People) -> None:
    maija = await login(people.maija.username)
    r = await maija.post(
        "/api/v1/admin/service-numbers",
        json={"number": "05 123 4000", "kind": "switchboard", "name": "Vaihde"},
    )
    assert r.status_code == 201, r.text
    sn = r.json()
    assert sn["number"] == "+35851234000" and sn["strategy"] == "ring_all"
    url = f"/api/v1/admin/service-numbers/{sn['id']}"
    r = await maija.patch(
        url,
        json={
            "strategy": "longest_idle",
            "member_ring_seconds": 15,
            "max_wait_seconds": 60,
            "overflow": "voicemail",
            "overflow_target": people.pekka.username,
            "announce_position": True,
        },
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["strategy"], got["member_ring_seconds"], got["max_wait_seconds"]) == (
        "longest_idle",
        15,
        60,
    )
    assert (got["overflow"], got["overflow_target"]) == ("voicemail", str(people.pekka.id))
    assert got["announce_position"] is True
    r = await maija.post(f"{url}/members", json={"user_id": people.pekka.id})
    assert r.status_code == 200
    assert r.json()["members"] == [
        {
            "user_id": people.pekka.id,
            "username": people.pekka.username,
            "display_name": "Pekka Puupää",
            "logged_in": True,
        }
    ]
    # Bad input: named, and nothing changed.
    for body, field in (
        ({"member_ring_seconds": 1}, "member_ring_seconds"),
        ({"strategy": "random"}, "strategy"),
        ({"overflow": "number"}, "overflow_target"),
        ({"overflow": "voicemail", "overflow_target": people.outi.username}, "overflow_target"),
        ({"name": None}, "name"),
    ):
        r = await maija.patch(url, json={"max_wait_seconds": 90, **body})
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"] == field, (body, r.json())
    assert (await maija.get(url)).json() == (await maija.get(url)).json() | {"max_wait_seconds": 60}
    r = await maija.post(
        "/api/v1/admin/service-numbers",
        json={"number": "040 765 4321", "kind": "group", "name": "Pekan numero"},
    )
    assert r.status_code == 422 and r.json()["field"] == "number"
    # Another organisation's admin sees none of it.
    outi = await login(people.outi.username)
    assert (await outi.get("/api/v1/admin/service-numbers")).json() == []
    assert (await outi.get(url)).status_code == 404
    assert (await outi.patch(url, json={"name": "x"})).status_code == 404
    assert (await outi.delete(url)).status_code == 404
    r = await outi.post(f"{url}/members", json={"user_id": people.outi.id})
    assert r.status_code == 404
    assert (await maija.delete(f"{url}/members/{people.pekka.id}")).status_code == 204
    assert (await maija.get(url)).json()["members"] == []
    assert (await maija.delete(url)).status_code == 204
    assert (await maija.get("/api/v1/admin/service-numbers")).json() == []


# --- the organisation -------------------------------------------------------------------


async def test_the_organisation(login: Login, people: People) -> None:
    maija = await login(people.maija.username)
    org = (await maija.get("/api/v1/admin/organization")).json()
    assert org["domain"] == "taipalsaari.fi"
    assert org["red_activities"] == [2, 3, 4, 5, 6]
    r = await maija.patch(
        "/api/v1/admin/organization",
        json={
            "red_activities": [3, 2],
            "switchboard_number": "05 123 4000",
            "customer_service_number": "05 123 4100",
            "voicemail": {"max_messages": 50},
        },
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["red_activities"] == [2, 3]
    assert got["switchboard_number"] == "+35851234000"
    assert got["customer_service_number"] == "+35851234100"
    assert got["voicemail"]["max_messages"] == 50
    assert got["voicemail"]["max_message_seconds"] == org["voicemail"]["max_message_seconds"]
    for body, field in (
        ({"red_activities": [9]}, "red_activities"),
        ({"switchboard_number": "0600 12345"}, "switchboard_number"),  # premium rate
        ({"switchboard_number": "abc"}, "switchboard_number"),
        ({"name": "Uusi nimi", "voicemail": {"max_messages": 0}}, "max_messages"),
        ({"name": None}, "name"),
    ):
        r = await maija.patch("/api/v1/admin/organization", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"] == field, (body, r.json())
    assert (await maija.get("/api/v1/admin/organization")).json() == got
    r = await maija.patch("/api/v1/admin/organization", json={"customer_service_number": None})
    assert r.json()["customer_service_number"] is None
    outi = await login(people.outi.username)
    assert (await outi.get("/api/v1/admin/organization")).json()["domain"] == "naapuri.fi"


async def test_the_organisations_toll_fraud_guard(
    login: Login, people: People, engine: AsyncEngine
) -> None:
    maija = await login(people.maija.username)
    org = (await maija.get("/api/v1/admin/organization")).json()
    assert (org["allowed_countries"], org["denied_prefixes"]) == (None, [])
    r = await maija.patch(
        "/api/v1/admin/organization",
        json={"allowed_countries": ["se", "FI", "fi"], "denied_prefixes": ["00882", "+46 709"]},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["allowed_countries"] == ["FI", "SE"]
    assert got["denied_prefixes"] == ["+46709", "+882"]
    # what the call-time rule reads: a Swedish target is fine, an Estonian one and one under
    # a denied prefix are refused
    async with session_factory(engine)() as s:
        policy = dial_policy_of(await get_organization(s, people.maija.organization_id))
    assert destination_refusal("+46701234567", policy) is None
    assert destination_refusal("+3725123456", policy) is not None
    assert destination_refusal("+46709123456", policy) is not None

    for body, field in (
        ({"allowed_countries": ["FI", "XX"]}, "allowed_countries"),
        ({"allowed_countries": []}, "allowed_countries"),
        ({"allowed_countries": [""]}, "allowed_countries"),
        ({"allowed_countries": "FI"}, "allowed_countries"),
        ({"denied_prefixes": ["+358", "0882"]}, "denied_prefixes"),
        ({"denied_prefixes": ["+35a"]}, "denied_prefixes"),
        ({"denied_prefixes": None}, "denied_prefixes"),
        # one bad field: the good one given with it is not changed either
        ({"red_activities": [2], "denied_prefixes": ["x"]}, "denied_prefixes"),
        ({"allowed_countries": None, "switchboard_number": "abc"}, "switchboard_number"),
    ):
        r = await maija.patch("/api/v1/admin/organization", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["field"] == field, (body, r.json())
    assert (await maija.get("/api/v1/admin/organization")).json() == got

    r = await maija.patch(
        "/api/v1/admin/organization", json={"allowed_countries": None, "denied_prefixes": []}
    )
    assert (r.json()["allowed_countries"], r.json()["denied_prefixes"]) == (None, [])
    # another organisation's guard is untouched, and a user who is not an admin cannot set it
    outi = await login(people.outi.username)
    assert (await outi.get("/api/v1/admin/organization")).json()["allowed_countries"] is None
    pekka = await login(people.pekka.username)
    r = await pekka.patch("/api/v1/admin/organization", json={"allowed_countries": ["FI"]})
    assert r.status_code == 403
    assert (await maija.get("/api/v1/admin/organization")).json()["allowed_countries"] is None


async def test_text_with_nul_is_bad_input_not_a_server_error(
    login: Login, people: People, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """PostgreSQL text cannot hold U+0000: refused as input (422), anywhere in the API."""
    r = await client.post("/api/v1/session", json={"username": "a\x00", "password": "x"})
    assert r.status_code == 422
    r = await client.post("/api/v1/password/request", json={"username": "a\x00"})
    assert r.status_code == 422
    maija = await login(people.maija.username)
    before = await _users(engine)
    assert (await maija.get("/api/v1/admin/users", params={"q": "a\x00"})).status_code == 422
    r = await maija.post("/api/v1/admin/users", json={"display_name": "A\x00", "mobile": "0401"})
    assert r.status_code == 422 and r.json()["field"] == "display_name"
    r = await maija.post(
        "/api/v1/admin/users/import",
        content=b"display_name,mobile\nA\x00,0402000009\n",
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 422 and r.json()["field"] == "file"
    assert await _users(engine) == before
