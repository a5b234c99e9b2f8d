"""The call history over the API (real PostgreSQL): a user sees only the calls they made or
received, with in/out/missed, the route's label in Finnish and English, the length; calls
per day; admins see their own organisation's totals and nobody else's; bad input is a
problem naming the field."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.web.conftest import Login, People
from vipcall.directory.localtime import LOCAL_TZ
from vipcall.history.recorder import Note
from vipcall.history.rules import ROUTE_LABELS, RecordEnd, RecordStart, Route
from vipcall.store.pool import asyncpg_dsn
from vipcall.store.records import write_records

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = datetime.now(UTC).replace(microsecond=0)
OUTSIDE = "+358451239876"
_ids = itertools.count(1)


async def record_calls(database_url: str, people: People) -> None:
    maija, pekka, outi = people.maija, people.pekka, people.outi
    notes: list[Note] = []

    def call(start: RecordStart, answered_after: float | None, length: float) -> None:
        notes.append(start)
        answered = (
            start.started_at + timedelta(seconds=answered_after)
            if answered_after is not None
            else None
        )
        notes.append(
            RecordEnd(start.channel_id, start.started_at + timedelta(seconds=length), answered)
        )

    def ch() -> str:
        return f"1764158400.{next(_ids)}"

    t = NOW - timedelta(minutes=3)
    # Outside -> Pekka, answered: 30 s of talk.
    call(RecordStart(ch(), t, Route.RANG, OUTSIDE, pekka.mobile, None, pekka.id), 4, 34)
    # Maija -> Pekka, Pekka's voicemail.
    call(
        RecordStart(ch(), t + timedelta(minutes=1), Route.VOICEMAIL, maija.mobile,
                    pekka.mobile, maija.id, pekka.id),
        None, 25,
    )  # fmt: skip
    # Outi (naapuri.fi) -> outside, yesterday.
    call(
        RecordStart(ch(), NOW - timedelta(days=1), Route.RANG, outi.mobile, OUTSIDE,
                    outi.id, None),
        2, 12,
    )  # fmt: skip
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await write_records(conn, notes)
    finally:
        await conn.close()


def local_day(when: datetime, back: int = 0) -> str:
    return (when.astimezone(LOCAL_TZ).date() - timedelta(days=back)).isoformat()


async def test_history_needs_a_login(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/me/calls", "/api/v1/me/calls/per-day", "/api/v1/admin/calls/summary"):
        r = await client.get(path)
        assert r.status_code == 401, path
        assert r.headers["content-type"] == "application/problem+json"


async def test_a_user_sees_their_own_calls(login: Login, people: People, database_url: str) -> None:
    await record_calls(database_url, people)
    pekka = await login(people.pekka.username)
    r = await pekka.get("/api/v1/me/calls")
    assert r.status_code == 200, r.text
    calls = r.json()
    assert [
        (c["direction"], c["route"], c["other_number"], c["other_name"], c["length_seconds"])
        for c in calls
    ] == [
        ("missed", "voicemail", people.maija.mobile, "Maija Meikäläinen", 25),
        ("in", "rang", OUTSIDE, None, 30),
    ]
    assert calls[0]["route_label"] == {"fi": "vastaaja", "en": "voicemail"}
    assert calls[0]["direction_label"] == {"fi": "vastaamaton", "en": "missed"}
    assert calls[1]["answered"] is True

    maija = await login(people.maija.username)
    mine = (await maija.get("/api/v1/me/calls")).json()
    assert [(c["direction"], c["other_name"]) for c in mine] == [("out", "Pekka Puupää")]
    outi = await login(people.outi.username)
    assert [c["other_number"] for c in (await outi.get("/api/v1/me/calls")).json()] == [OUTSIDE]


async def test_calls_per_day(login: Login, people: People, database_url: str) -> None:
    await record_calls(database_url, people)
    pekka = await login(people.pekka.username)
    r = await pekka.get("/api/v1/me/calls/per-day", params={"days": 3})
    assert r.status_code == 200, r.text
    days = r.json()
    assert [d["day"] for d in days] == [local_day(NOW, 2), local_day(NOW, 1), local_day(NOW)]
    # Both of Pekka's calls were made minutes ago (the same local day, but near midnight).
    started = NOW - timedelta(minutes=3)
    if local_day(started) == local_day(NOW):
        assert days[-1] == {
            "day": local_day(NOW), "incoming": 1, "outgoing": 0, "missed": 1, "total": 2,
        }  # fmt: skip
    assert sum(d["total"] for d in days) == 2
    assert len((await pekka.get("/api/v1/me/calls/per-day")).json()) == 14


async def test_an_admin_sees_only_their_own_organisations_totals(
    login: Login, people: People, database_url: str
) -> None:
    await record_calls(database_url, people)
    maija = await login(people.maija.username)  # admin of taipalsaari.fi
    r = await maija.get("/api/v1/admin/calls/summary", params={"days": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["organization_id"] == people.maija.organization_id
    assert body["total"] == 2  # Outi's call is naapuri.fi's
    assert sum(d["incoming"] for d in body["days"]) == 1  # Pekka's answered call
    assert sum(d["outgoing"] for d in body["days"]) == 1  # Maija's call to Pekka
    assert sum(d["missed"] for d in body["days"]) == 0
    assert body["by_route"]["voicemail"] == 1 and body["by_route"]["rang"] == 1
    # every route with its words (the page has no copy of them), in the history's order
    routes = body["routes"]
    assert [r["route"] for r in routes] == [r.value for r in Route]
    assert {r["route"]: r["calls"] for r in routes} == body["by_route"]
    assert {r["route"]: (r["label"]["fi"], r["label"]["en"]) for r in routes} == {
        r.value: ROUTE_LABELS[r] for r in Route
    }
    voicemail = next(r for r in routes if r["route"] == "voicemail")
    assert voicemail == {"route": "voicemail", "label": {"fi": "vastaaja", "en": "voicemail"},
                         "calls": 1}  # fmt: skip
    assert body["talk_seconds"] == 30

    outi = await login(people.outi.username)  # admin of naapuri.fi
    other = (await outi.get("/api/v1/admin/calls/summary", params={"days": 2})).json()
    assert other["organization_id"] == people.outi.organization_id
    assert other["total"] == 1 and other["talk_seconds"] == 10


async def test_a_user_who_is_not_an_admin_gets_no_totals(login: Login, people: People) -> None:
    pekka = await login(people.pekka.username)
    r = await pekka.get("/api/v1/admin/calls/summary")
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/me/calls", {"days": "0"}, "days"),
        ("/api/v1/me/calls", {"days": "many"}, "days"),
        ("/api/v1/me/calls", {"limit": "100000"}, "limit"),
        ("/api/v1/me/calls/per-day", {"days": "400"}, "days"),
        ("/api/v1/admin/calls/summary", {"days": "-3"}, "days"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(
    login: Login, people: People, path: str, params: dict[str, str], field: str
) -> None:
    maija = await login(people.maija.username)
    r = await maija.get(path, params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json().get("field") == field or field in r.text
