"""A service-layer error over the API says it in Finnish first, the English beside it:
``detail`` is ``"<Finnish> (<English>)"``, and ``detail_fi`` / ``detail_en`` hold each."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.web.conftest import Login, People
from vipcall.directory.csv_import import parse_users_csv
from vipcall.web.problems import MEDIA_TYPE, install

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _problem(r: httpx.Response, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == MEDIA_TYPE
    body: dict[str, object] = r.json()
    return body


async def test_an_invalid_number_is_said_in_finnish_first(login: Login, people: People) -> None:
    c = await login(people.pekka.username)
    r = await c.post("/api/v1/me/contacts", json={"name": "Asiakas", "number": "123"})
    body = _problem(r, 422)
    assert body["field"] == "number"
    assert body["detail_fi"] == "'123' ei ole kelvollinen puhelinnumero"
    assert body["detail_en"] == "'123' is not a valid phone number"
    assert body["detail"] == (
        "'123' ei ole kelvollinen puhelinnumero ('123' is not a valid phone number)"
    )


async def test_an_unknown_user_is_said_in_finnish_first(login: Login, people: People) -> None:
    c = await login(people.pekka.username)
    # Outi is of another organisation: no such user, as far as Pekka can tell
    r = await c.put(f"/api/v1/me/vip/colleagues/{people.outi.id}")
    body = _problem(r, 404)
    assert body["detail"] == (
        f"tuntematon käyttäjä {people.outi.id} (unknown user {people.outi.id})"
    )
    assert (body["detail_fi"], body["detail_en"]) == (
        f"tuntematon käyttäjä {people.outi.id}",
        f"unknown user {people.outi.id}",
    )


async def test_an_invalid_forwarding_number_says_the_phone_words_first(
    login: Login, people: People
) -> None:
    c = await login(people.pekka.username)
    r = await c.put("/api/v1/me/forwarding", json={"target": "12"})
    body = _problem(r, 422)
    assert body["detail"] == "Numero on virheellinen. ('12' is not a valid phone number)"
    assert (body["detail_fi"], body["detail_en"]) == (
        "Numero on virheellinen.",
        "'12' is not a valid phone number",
    )
    assert (body["reason"], body["reason_fi"]) == ("invalid-number", "Numero on virheellinen.")


async def test_a_message_already_in_both_languages_is_not_said_twice(
    login: Login, people: People
) -> None:
    maija = await login(people.maija.username)
    r = await maija.patch("/api/v1/admin/organization", json={"allowed_countries": ["FI", "XX"]})
    body = _problem(r, 422)
    assert body["field"] == "allowed_countries"
    assert body["detail"] == "'XX' ei ole ISO-maatunnus ('XX' is not an ISO country code)"
    assert (body["detail_fi"], body["detail_en"]) == (
        "'XX' ei ole ISO-maatunnus",
        "'XX' is not an ISO country code",
    )


async def test_a_bad_csv_row_is_said_in_finnish_first() -> None:
    """The problem of a CSV import, as the error handler makes it: the first error, and each
    row's error in ``errors``, Finnish first."""
    app = FastAPI()
    install(app)

    @app.post("/import")
    async def _import() -> None:
        parse_users_csv("display_name;mobile\nAino;040 200 0001\nBertta;123\nCecilia;\n")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        body = _problem(await c.post("/import"), 422)
    assert body["detail"] == (
        "'123' ei ole kelvollinen puhelinnumero (ja 1 muu virhe)"
        " ('123' is not a valid phone number (and 1 more error))"
    )
    assert body["errors"] == [
        {
            "row": 3,
            "field": "mobile",
            "detail": "'123' ei ole kelvollinen puhelinnumero ('123' is not a valid phone number)",
            "detail_fi": "'123' ei ole kelvollinen puhelinnumero",
            "detail_en": "'123' is not a valid phone number",
        },
        {
            "row": 4,
            "field": "mobile",
            "detail": "numero puuttuu ('' is empty)",
            "detail_fi": "numero puuttuu",
            "detail_en": "'' is empty",
        },
    ]
