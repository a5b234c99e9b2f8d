"""The user's own presence over the API: activity, role, scheduled activities and the week's
timeline; each change is what the call app's next lookup sees; bad input changes nothing;
no user touches another's schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.conftest import Login, People
from tests.web.me_support import call_app, callee, snapshot
from vipcall.directory.localtime import LOCAL_TZ
from vipcall.store.calls import DbCallStore

pytestmark = pytest.mark.asyncio(loop_scope="session")
__all__ = ["call_app"]


def local(dt: datetime) -> str:
    """A naive local (Helsinki) ISO timestamp, as a page's form sends it."""
    return dt.astimezone(LOCAL_TZ).replace(tzinfo=None).isoformat(timespec="minutes")


async def test_me_needs_a_login(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/me", "/api/v1/me/presence", "/api/v1/me/schedule"):
        r = await client.get(path)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"


async def test_me_shows_the_user_and_their_presence(login: Login, people: People) -> None:
    c = await login(people.pekka.username)
    body = (await c.get("/api/v1/me")).json()
    assert body["username"] == people.pekka.username
    assert body["mobile"] == "+358407654321"
    assert body["new_messages"] == 0
    pres = body["presence"]
    assert pres["activity"] == {
        "id": 1,
        "fi": "Tavoitettavissa",
        "en": "Available",
        "colour": "green",
    }
    assert pres["role"] == {"id": 1, "fi": "Mobiili", "en": "Mobile"}
    assert pres["scheduled"] is None
    assert [a["colour"] for a in pres["activities"]] == ["green"] + ["red"] * 5 + ["green"] * 2
    assert len(pres["roles"]) == 5


async def test_activity_and_role_take_effect_on_the_next_call(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    c = await login(people.pekka.username)
    r = await c.put("/api/v1/me/presence", json={"activity": 3})
    assert r.status_code == 200, r.text
    assert r.json()["activity"] == {"id": 3, "fi": "Lounaalla", "en": "Lunch", "colour": "red"}
    assert (await callee(call_app, people.pekka.mobile)).activity == 3
    r = await c.put("/api/v1/me/presence", json={"role": 4})
    assert r.json()["role"]["en"] == "Hidden" and r.json()["activity"]["id"] == 3
    seen = await callee(call_app, people.pekka.mobile)
    assert (seen.activity, seen.role) == (3, 4)
    # Another user is untouched.
    assert (await callee(call_app, people.maija.mobile)).activity == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"activity": 9}, "activity"),
        ({"activity": 0}, "activity"),
        ({"activity": 2, "role": 6}, "role"),
        ({"activity": "lunch"}, "activity"),
        ({}, "body"),
    ],
)
async def test_bad_presence_is_a_problem_naming_the_field_and_changes_nothing(
    login: Login, people: People, engine: AsyncEngine, body: dict[str, object], field: str
) -> None:
    c = await login(people.pekka.username)
    before = await snapshot(engine)
    r = await c.put("/api/v1/me/presence", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field
    assert await snapshot(engine) == before


async def test_scheduled_activity_in_local_time_routes_the_next_call_until_removed(
    login: Login, people: People, call_app: DbCallStore
) -> None:
    c = await login(people.pekka.username)
    now = datetime.now(UTC)
    r = await c.post(
        "/api/v1/me/schedule",
        json={
            "activity": 4,
            "starts_at": local(now - timedelta(minutes=5)),
            "ends_at": local(now + timedelta(hours=1)),
        },
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["state"] == "in effect"
    assert made["activity"]["en"] == "In meeting"
    starts = datetime.fromisoformat(made["starts_at"])
    assert starts.utcoffset() == (now.astimezone(LOCAL_TZ).utcoffset())
    assert abs(starts - (now - timedelta(minutes=5))) < timedelta(minutes=1)
    seen = await callee(call_app, people.pekka.mobile)
    assert seen.activity == 4 and seen.activity_scheduled
    pres = (await c.get("/api/v1/me/presence")).json()
    assert pres["scheduled"]["id"] == made["id"] and pres["activity"]["id"] == 4
    assert pres["manual_activity"]["id"] == 1
    listed = (await c.get("/api/v1/me/schedule")).json()
    assert [x["id"] for x in listed] == [made["id"]]
    assert (await c.delete(f"/api/v1/me/schedule/{made['id']}")).status_code == 204
    assert (await callee(call_app, people.pekka.mobile)).activity == 1
    assert (await c.get("/api/v1/me/schedule")).json() == []


async def test_an_offset_given_is_kept(login: Login, people: People) -> None:
    c = await login(people.pekka.username)
    r = await c.post(
        "/api/v1/me/schedule",
        json={"activity": 6, "starts_at": "2030-07-01T08:00Z", "ends_at": "2030-07-02T08:00Z"},
    )
    assert r.status_code == 201
    assert r.json()["starts_at"] == "2030-07-01T11:00:00+03:00"  # summer time in Helsinki
    assert r.json()["state"] == "upcoming"


@pytest.mark.parametrize(
    ("starts", "ends", "field"),
    [
        ("2030-01-02T10:00", "2030-01-02T09:00", "ends_at"),
        ("tomorrow", "2030-01-02T09:00", "starts_at"),
        ("2030-01-02T10:00", "", "ends_at"),
        ("2030-03-31T03:30", "2030-03-31T05:00", "starts_at"),  # skipped by DST
    ],
)
async def test_bad_schedule_names_the_field_and_changes_nothing(
    login: Login, people: People, engine: AsyncEngine, starts: str, ends: str, field: str
) -> None:
    c = await login(people.pekka.username)
    before = await snapshot(engine)
    r = await c.post(
        "/api/v1/me/schedule", json={"activity": 2, "starts_at": starts, "ends_at": ends}
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert await snapshot(engine) == before


async def test_another_users_scheduled_activity_is_not_found_and_stays(
    login: Login, people: People, engine: AsyncEngine
) -> None:
    maija = await login(people.maija.username)
    pekka = await login(people.pekka.username)
    made = (
        await maija.post(
            "/api/v1/me/schedule",
            json={"activity": 5, "starts_at": "2030-01-02T10:00", "ends_at": "2030-01-02T12:00"},
        )
    ).json()
    before = await snapshot(engine)
    r = await pekka.delete(f"/api/v1/me/schedule/{made['id']}")
    assert r.status_code == 404
    assert await snapshot(engine) == before
    assert (await pekka.get("/api/v1/me/schedule")).json() == []
    assert len((await maija.get("/api/v1/me/schedule")).json()) == 1


async def test_week_view_clips_blocks_to_local_days(login: Login, people: People) -> None:
    c = await login(people.pekka.username)
    today = datetime.now(LOCAL_TZ).date()

    def at(days: int, hhmm: str) -> str:
        return f"{today + timedelta(days=days)}T{hhmm}"

    async def add(activity: int, starts: str, ends: str) -> int:
        r = await c.post(
            "/api/v1/me/schedule", json={"activity": activity, "starts_at": starts, "ends_at": ends}
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    over_midnight = await add(6, at(1, "22:00"), at(2, "02:30"))
    lunch = await add(3, at(0, "11:00"), at(0, "11:30"))
    await add(3, at(8, "11:00"), at(8, "11:30"))  # after the week: not shown
    await add(3, at(-2, "11:00"), at(-2, "11:30"))  # ended before today: not shown
    week = (await c.get("/api/v1/me/schedule/week")).json()
    assert week["start"] == str(today)
    assert [d["date"] for d in week["days"]] == [str(today + timedelta(days=i)) for i in range(7)]
    blocks = [
        [(b["id"], b["start_minute"], b["end_minute"]) for b in d["blocks"]] for d in week["days"]
    ]
    assert blocks[0] == [(lunch, 660, 690)]
    assert blocks[1] == [(over_midnight, 1320, 1440)]
    assert blocks[2] == [(over_midnight, 0, 150)]
    assert blocks[3:] == [[], [], [], []]
    assert week["days"][2]["blocks"][0]["activity"]["colour"] == "red"
    assert week["days"][2]["blocks"][0]["ends_at"].startswith(at(2, "02:30"))
