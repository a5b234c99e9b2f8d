"""A new password by a one-time code (the operator's guide, section 2), through the API on
real PostgreSQL. The code goes out through the voicemail notices' real paths: an aiosmtpd
SMTP server on loopback and Debian's Kannel chain (read back from its fake SMSC); the tests
read the code out of what arrived, set the new password with it and log in with it."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from harness.kannel import KannelChain
from tests.notices.conftest import kannel_chain, smtp  # noqa: F401 - fixtures used here
from tests.notices.parts import SmtpServer
from tests.web.conftest import PASSWORD, Login, People, _client
from vipcall.config import Settings
from vipcall.db.engine import session_factory, transaction
from vipcall.db.models import AuthEvent, PasswordCode
from vipcall.directory import update_voicemail_settings
from vipcall.directory.codes import MAX_WRONG_TRIES
from vipcall.directory.passwords import ResetOutcome, issue_code, reset_password
from vipcall.web.app import create_app

pytestmark = pytest.mark.asyncio(loop_scope="session")

NEW = "uusi-salasana-2024"
SENDER = "salasana@vipcall.test"
LISTEN = "+358401621485"
CODE = re.compile(r"\b(\d{6})\b")


class Recorder:
    """A CodeSender that keeps what it was given (for rules that need no real server)."""

    def __init__(self) -> None:
        self.sms: list[tuple[str, str]] = []
        self.mail: list[tuple[str, str, str]] = []

    async def send_sms(self, to: str, text: str) -> None:
        self.sms.append((to, text))

    async def send_email(self, to: str, subject: str, body: str) -> None:
        self.mail.append((to, subject, body))

    def last_code(self) -> str:
        texts = [t for _, t in self.sms] + [b for _, _, b in self.mail]
        found = CODE.search(texts[-1])
        assert found, texts
        return found.group(1)


@pytest_asyncio.fixture(loop_scope="session")
async def real_app(
    engine: AsyncEngine,
    database_url: str,
    smtp: SmtpServer,  # noqa: F811
    kannel_chain: KannelChain,  # noqa: F811
) -> AsyncIterator[FastAPI]:
    """The web app sending through the real SMTP server and SMS gateway."""
    settings = Settings(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security="none",
        smtp_from=SENDER,
        sms_url=kannel_chain.sendsms_url,
        sms_user=kannel_chain.user,
        sms_password=kannel_chain.password,
        sms_from=LISTEN,
        notice_send_timeout=10,
    )
    app = create_app(settings, session_factory(engine))
    async with app.router.lifespan_context(app):
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def recorded(web_app: FastAPI) -> Recorder:
    rec = Recorder()
    web_app.state.code_sender = rec
    return rec


async def _reset(
    c: httpx.AsyncClient, username: str, code: str, password: str = NEW, again: str | None = None
) -> httpx.Response:
    return await c.post(
        "/api/v1/password/reset",
        json={
            "username": username,
            "code": code,
            "password": password,
            "password_again": password if again is None else again,
        },
    )


async def _can_log_in(c: httpx.AsyncClient, username: str, password: str) -> bool:
    r = await c.post("/api/v1/session", json={"username": username, "password": password})
    return r.status_code == 200


async def _events(engine: AsyncEngine, kind: str) -> list[AuthEvent]:
    async with session_factory(engine)() as s:
        return list(await s.scalars(select(AuthEvent).where(AuthEvent.kind == kind)))


async def test_code_by_email_through_a_real_smtp_server_sets_the_password(
    real_app: FastAPI,
    people: People,
    engine: AsyncEngine,
    smtp: SmtpServer,  # noqa: F811
) -> None:
    async with transaction(session_factory(engine)) as s:
        await update_voicemail_settings(s, people.pekka.id, notify_by="email")
    async with _client(real_app) as c:
        r = await c.post("/api/v1/password/request", json={"username": people.pekka.username})
        assert r.status_code == 202
        assert len(smtp.mailbox.messages) == 1
        envelope, msg = smtp.mailbox.messages[0]
        assert envelope.rcpt_tos == ["pekka@example.invalid"]
        assert msg["From"] == SENDER
        assert isinstance(msg, EmailMessage)
        body = msg.get_content()
        # Finnish first, English alongside.
        assert body.index("salasanan vaihtokoodisi") < body.index("Your vipcall password code")
        code = CODE.search(body)
        assert code is not None
        assert (await _reset(c, people.pekka.username, code.group(1))).status_code == 204
        assert await _can_log_in(c, people.pekka.username, NEW)
        assert not await _can_log_in(c, people.pekka.username, PASSWORD)
        # Single use.
        again = await _reset(c, people.pekka.username, code.group(1), "toinen-salasana")
        assert again.status_code == 422 and again.json()["field"] == "code"
    assert [e.user_id for e in await _events(engine, "password_reset")] == [people.pekka.id]


async def test_code_by_sms_through_the_real_kannel_chain_sets_the_password(
    real_app: FastAPI,
    people: People,
    kannel_chain: KannelChain,  # noqa: F811
) -> None:
    before = len(kannel_chain.received())
    async with _client(real_app) as c:
        r = await c.post("/api/v1/password/request", json={"username": people.maija.username})
        assert r.status_code == 202
        got = kannel_chain.wait_received(before + 1)
        sms = [m for m in got[before:] if m[1] == people.maija.mobile]
        assert len(sms) == 1, got[before:]
        sender, _, text = sms[0]
        assert sender == LISTEN
        assert text.startswith("vipcall: salasanan vaihtokoodi")
        code = CODE.search(text)
        assert code is not None
        assert (await _reset(c, people.maija.username, code.group(1))).status_code == 204
        assert await _can_log_in(c, people.maija.username, NEW)


async def test_both_channels_when_the_user_wants_both(
    real_app: FastAPI,
    people: People,
    engine: AsyncEngine,
    smtp: SmtpServer,  # noqa: F811
    kannel_chain: KannelChain,  # noqa: F811
) -> None:
    async with transaction(session_factory(engine)) as s:
        await update_voicemail_settings(s, people.outi.id, notify_by="both")
    before = len(kannel_chain.received())
    async with _client(real_app) as c:
        r = await c.post("/api/v1/password/request", json={"username": people.outi.username})
        assert r.status_code == 202
    got = kannel_chain.wait_received(before + 1)
    sms_code = CODE.search(next(t for _, to, t in got[before:] if to == people.outi.mobile))
    mail_code = CODE.search(smtp.mailbox.messages[-1][1].get_content())
    assert sms_code and mail_code and sms_code.group(1) == mail_code.group(1)


async def test_an_unknown_username_gets_the_same_answer_and_nothing_is_sent(
    client: httpx.AsyncClient, people: People, recorded: Recorder, engine: AsyncEngine
) -> None:
    known = await client.post("/api/v1/password/request", json={"username": people.pekka.username})
    unknown = await client.post(
        "/api/v1/password/request", json={"username": "fi0409999999@taipalsaari.fi"}
    )
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert len(recorded.sms) == 1  # only Pekka's
    logged = await _events(engine, "code_requested")
    assert [(e.username, e.user_id) for e in logged] == [
        (people.pekka.username, people.pekka.id),
        ("fi0409999999@taipalsaari.fi", None),
    ]
    assert all(e.client_addr == "127.0.0.9" for e in logged)


async def test_requesting_again_ends_the_older_code(
    client: httpx.AsyncClient, people: People, recorded: Recorder
) -> None:
    await client.post("/api/v1/password/request", json={"username": people.pekka.username})
    first = recorded.last_code()
    await client.post("/api/v1/password/request", json={"username": people.pekka.username})
    second = recorded.last_code()
    if first != second:  # one in a million they are the same
        r = await _reset(client, people.pekka.username, first)
        assert r.status_code == 422 and r.json()["field"] == "code"
    assert (await _reset(client, people.pekka.username, second)).status_code == 204


async def test_a_code_expires_after_ten_minutes(
    client: httpx.AsyncClient, people: People, recorded: Recorder, web_app: FastAPI
) -> None:
    await client.post("/api/v1/password/request", json={"username": people.pekka.username})
    code = recorded.last_code()
    later = datetime.now(UTC) + timedelta(minutes=10, seconds=5)
    web_app.state.clock = lambda: later
    try:
        r = await _reset(client, people.pekka.username, code)
    finally:
        del web_app.state.clock
    assert r.status_code == 422 and r.json()["field"] == "code"
    assert await _can_log_in(client, people.pekka.username, PASSWORD)


@pytest.mark.parametrize(
    ("password", "again", "field"),
    [("short", "short", "password"), (NEW, NEW + "x", "password_again")],
)
async def test_a_bad_new_password_names_the_field_and_keeps_the_code(
    client: httpx.AsyncClient,
    people: People,
    recorded: Recorder,
    password: str,
    again: str,
    field: str,
) -> None:
    await client.post("/api/v1/password/request", json={"username": people.pekka.username})
    code = recorded.last_code()
    r = await _reset(client, people.pekka.username, code, password, again)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field
    assert await _can_log_in(client, people.pekka.username, PASSWORD)
    assert (await _reset(client, people.pekka.username, code)).status_code == 204


async def test_wrong_codes_are_counted_logged_and_limited(
    client: httpx.AsyncClient, people: People, recorded: Recorder, engine: AsyncEngine
) -> None:
    await client.post("/api/v1/password/request", json={"username": people.pekka.username})
    code = recorded.last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        r = await _reset(client, people.pekka.username, wrong)
        assert r.status_code == 422 and r.json()["field"] == "code"
    # The right code now: refused (the limit), and the password is unchanged.
    assert (await _reset(client, people.pekka.username, code)).status_code == 429
    assert await _can_log_in(client, people.pekka.username, PASSWORD)
    assert len(await _events(engine, "code_failed")) == 5
    async with session_factory(engine)() as s:
        tries = await s.scalar(select(PasswordCode.wrong_tries))
    assert tries == 5


async def test_wrong_codes_from_one_address_are_limited_across_usernames(
    client: httpx.AsyncClient, people: People, recorded: Recorder
) -> None:
    statuses = []
    for i in range(21):
        r = await _reset(client, f"fi04099{i:05d}@taipalsaari.fi", "123456")
        statuses.append(r.status_code)
    assert statuses[:20] == [422] * 20
    assert statuses[20] == 429


async def test_requests_are_limited_alike_for_known_and_unknown_usernames(
    client: httpx.AsyncClient, people: People, recorded: Recorder
) -> None:
    for username in (people.pekka.username, "fi0409999999@taipalsaari.fi"):
        answers = [
            (await client.post("/api/v1/password/request", json={"username": username})).status_code
            for _ in range(6)
        ]
        assert answers == [202] * 5 + [429]
    assert len(recorded.sms) == 5


async def test_a_new_password_closes_the_users_sessions(
    client: httpx.AsyncClient, people: People, recorded: Recorder, login: Login
) -> None:
    logged_in = await login(people.pekka.username)
    await client.post("/api/v1/password/request", json={"username": people.pekka.username})
    assert (await _reset(client, people.pekka.username, recorded.last_code())).status_code == 204
    assert (await logged_in.get("/api/v1/session")).status_code == 401


async def test_the_code_never_appears_in_the_logs(
    real_app: FastAPI,
    people: People,
    engine: AsyncEngine,
    smtp: SmtpServer,  # noqa: F811
    kannel_chain: KannelChain,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sent SMS and a failed email (the SMTP server down: its error is logged too)."""
    async with transaction(session_factory(engine)) as s:
        await update_voicemail_settings(s, people.pekka.id, notify_by="both")
    smtp.down()
    before = len(kannel_chain.received())
    caplog.set_level(logging.DEBUG)
    async with _client(real_app) as c:
        r = await c.post("/api/v1/password/request", json={"username": people.pekka.username})
    assert r.status_code == 202
    got = kannel_chain.wait_received(before + 1)
    code = CODE.search(next(t for _, to, t in got[before:] if to == people.pekka.mobile))
    assert code is not None
    messages = [rec.getMessage() for rec in caplog.records]
    assert any("by email failed" in m for m in messages), messages
    assert any("sent by sms" in m for m in messages), messages
    assert not [m for m in messages if code.group(1) in m]


async def test_exhausted_code_is_refused_even_when_right(
    engine: AsyncEngine, people: People
) -> None:
    """The service rule without the per-user limit in front of it."""
    now = datetime.now(UTC)
    sessions = session_factory(engine)
    async with transaction(sessions) as s:
        delivery = await issue_code(s, people.pekka.username, now=now)
    assert delivery is not None
    for _ in range(MAX_WRONG_TRIES):
        async with transaction(sessions) as s:
            result = await reset_password(
                s,
                people.pekka.username,
                "000000" if delivery.code != "000000" else "111111",
                NEW,
                NEW,
                now=now,
            )
        assert result.outcome is ResetOutcome.WRONG_CODE
    async with transaction(sessions) as s:
        result = await reset_password(s, people.pekka.username, delivery.code, NEW, NEW, now=now)
    assert result.outcome is ResetOutcome.WRONG_CODE
