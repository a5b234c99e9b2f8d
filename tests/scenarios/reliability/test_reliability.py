"""Calls survive the app: an established call stays up when the app is killed -9; while the
app is down, calls still ring the user; the app reconciles and reconnects by itself; when
the database does not answer, calls fail open to the user's handset."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from harness.app import AppProcess, eventually


async def test_established_call_survives_kill_9_of_the_app(vipcall, people, parties) -> None:
    org = await people.org()
    maija = await people.user(org)
    handset = await parties.handset().start()
    caller = await parties.external_caller("+358501110006", maija.mobile, hold="5000").start()

    await asyncio.sleep(2.0)  # answered and bridged by now
    vipcall.kill9()
    call, phone = await caller.wait(), await handset.wait()

    assert call.ok, call.log
    assert phone.received("BYE"), "the call ran to its normal end"

    vipcall.start()
    handset = await parties.handset().start()
    again = await parties.external_caller("+358501110006", maija.mobile).run()
    assert again.ok, again.log
    assert (await handset.wait()).received("INVITE")


async def test_call_while_the_app_is_down_still_rings_the_handset(
    vipcall, asterisk, people, parties
) -> None:
    pekka = await user_known_to_asterisk(people, asterisk)
    vipcall.kill9()

    handset = await parties.handset().start()
    call = await parties.external_caller("+358501110007", pekka.landline).run()
    seen = await handset.wait()

    assert call.ok, call.log
    invite = seen.received("INVITE")[0]
    assert invite.request_user == pekka.mobile
    assert invite.header("X-Vipcall") == "delivered"


async def test_app_reconnects_by_itself_after_asterisk_restarts(
    vipcall, asterisk, people, parties
) -> None:
    org = await people.org()
    maija = await people.user(org)
    asterisk.stop()
    asterisk.start()
    await eventually(lambda: _healthy(vipcall), timeout=20)

    handset = await parties.handset().start()
    call = await parties.external_caller("+358501110008", maija.mobile).run()
    assert call.ok, call.log
    assert (await handset.wait()).received("INVITE")


async def user_known_to_asterisk(people, asterisk):  # type: ignore[no-untyped-def]
    """A new user with a landline, once the app has put their numbers in Asterisk's AstDB
    (what the fail-open dialplan reads)."""
    org = await people.org()
    person = await people.user(org, landline=True)
    await eventually(
        lambda: person.mobile in asterisk.cli(f"database get vipcall-ring {person.landline}")
    )
    return person


def _healthy(app: AppProcess) -> bool:
    try:
        app.wait_healthy(timeout=0.2)
    except TimeoutError:
        return False
    return True


@contextlib.asynccontextmanager
async def silent_database() -> AsyncIterator[str]:
    """A 'database' that accepts connections and never answers: slower than any timeout."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/vipcall"
    finally:
        for writer in held:
            writer.close()
        server.close()


@pytest.mark.parametrize("database_state", ["silent", "refusing"])
async def test_database_trouble_fails_open_to_the_handset(
    vipcall, asterisk, people, parties, tmp_path, database_state
) -> None:
    pekka = await user_known_to_asterisk(people, asterisk)
    vipcall.stop()

    async with silent_database() as silent_url:
        url = (
            silent_url
            if database_state == "silent"
            else "postgresql+asyncpg://postgres@127.0.0.1:9/x"
        )
        degraded = AppProcess(asterisk, url, tmp_path / "degraded.log", http_port=19109)
        await asyncio.to_thread(degraded.start)
        try:
            handset = await parties.handset().start()
            call = await parties.external_caller("+358501110009", pekka.landline).run()
            seen = await handset.wait()
            metrics = degraded.metrics()
        finally:
            degraded.stop()

    assert call.ok, call.log
    assert seen.received("INVITE")[0].request_user == pekka.mobile
    assert "vipcall_fail_open_total" in metrics
    assert any(
        line.startswith("vipcall_fail_open_total") and not line.rstrip().endswith(" 0.0")
        for line in metrics.splitlines()
    ), metrics


async def test_feature_code_while_the_app_is_down_is_not_dialled_out(
    vipcall, people, parties, database
) -> None:
    from tests.support.people import state_of

    org = await people.org()
    maija = await people.user(org)
    vipcall.kill9()

    far_end = await parties.pstn_far_end().start()
    call = await parties.handset_caller(maija.mobile, "9833", "uac_until_bye.xml").run()
    far_end.kill()

    assert call.ok, call.log
    assert not (await far_end.wait()).received("INVITE")
    assert (await state_of(database, maija.id))["activity"] == 1


async def test_message_being_recorded_when_the_app_dies_is_stored_after_restart(
    vipcall, people, parties, database
) -> None:
    from tests.support.people import messages_of

    org = await people.org()
    maija = await people.user(org)
    handset = await parties.handset("uas_busy.xml").start()
    from tests.support.voicemail import default_greeting_seconds

    greeting = default_greeting_seconds(maija.mobile)  # speaks the number: ~12 s
    caller = await parties.external_caller(
        "+358501110015", maija.mobile, "uac_message.xml", hold=str(int((greeting + 5) * 1000))
    ).start()

    await asyncio.sleep(greeting + 2.5)  # busy -> greeting -> recording
    vipcall.kill9()
    call = await caller.wait()
    await handset.wait()
    assert call.ok, call.log
    assert await messages_of(database, maija.id) == []

    vipcall.start()
    messages = await eventually(lambda: messages_of(database, maija.id), timeout=15)
    assert messages[0]["caller_number"] == "+358501110015"
    assert messages[0]["duration_ms"] > 1000
