"""Log in, log out, and a new password by a one-time code read from the real SMTP server."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.notices.parts import SmtpServer
from tests.web.browser.conftest import NewPage, log_in
from tests.web.conftest import People
from vipcall.db.engine import session_factory, transaction
from vipcall.directory.voicemail import update_voicemail_settings

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_log_in_shows_the_users_pages_and_log_out_ends_the_session(
    new_page: NewPage, people: People
) -> None:
    page = await new_page()
    assert await page.is_visible("#login-form")

    await page.fill("#login-form input[name=username]", people.pekka.username)
    await page.fill("#login-form input[name=password]", "väärä-salasana")
    await page.click("#login-form button[type=submit]")
    error = page.locator("#login-form .error.form-error")
    await error.wait_for()
    assert "väärä käyttäjätunnus tai salasana" in await error.inner_text()
    assert await page.is_visible("#login-form")

    await log_in(page, people.pekka.username)
    assert await page.inner_text("#who-name") == "Pekka Puupää"
    nav = await page.inner_text("#nav")
    assert "Postilaatikko" in nav and "Mailbox" in nav
    assert "Hallinta" not in nav, "the admin page is only for admins"
    await page.goto("/#/admin")
    await page.wait_for_selector("#page-activity")  # not an admin: back to the own page

    await page.click("#logout")
    await page.wait_for_selector("#login-form")
    await page.reload()
    await page.wait_for_selector("#login-form")  # the session is gone, not just hidden


async def test_an_admin_sees_the_admin_page(new_page: NewPage, people: People) -> None:
    page = await new_page()
    await log_in(page, people.maija.username)
    await page.click("#nav >> text=Hallinta")
    await page.wait_for_selector("#admin-users")
    rows = await page.locator("#admin-user-list tbody tr").all_inner_texts()
    assert any("Pekka Puupää" in r for r in rows)
    assert not any("Outi" in r for r in rows), "only the admin's own organisation"


async def _code_from(smtp: SmtpServer, to: str, timeout: float = 10.0) -> str:
    for _ in range(int(timeout / 0.05)):
        for envelope, msg in smtp.mailbox.messages:
            if to in envelope.rcpt_tos:
                body = msg.get_body(preferencelist=("plain",))
                assert body is not None
                found = re.search(r"koodisi on (\d+)", body.get_content())
                assert found, body.get_content()
                return found.group(1)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no email to {to} within {timeout}s")


async def test_request_a_password_with_the_code_from_the_email(
    new_page: NewPage, people: People, smtp: SmtpServer, engine: AsyncEngine
) -> None:
    async with transaction(session_factory(engine)) as s:
        await update_voicemail_settings(s, people.pekka.id, notify_by="email")
    page = await new_page()
    await page.click("text=Pyydä salasana")
    await page.fill("#password-request input[name=username]", people.pekka.username)
    await page.click("#password-request button[type=submit]")
    await page.wait_for_selector("#password-reset")
    code = await _code_from(smtp, "pekka@example.invalid")

    # a wrong code is refused next to the code field, nothing changes
    wrong = "000000" if code != "000000" else "111111"
    await page.fill("#password-reset input[name=code]", wrong)
    await page.fill("#password-reset input[name=password]", "uusi-salasana-1")
    await page.fill("#password-reset input[name=password_again]", "uusi-salasana-1")
    await page.click("#password-reset button[type=submit]")
    code_error = page.locator('#password-reset .error[data-for="code"]')
    await code_error.wait_for()
    assert "väärä tai vanhentunut koodi" in await code_error.inner_text()
    assert await page.get_attribute("#password-reset input[name=code]", "aria-invalid") == "true"

    await page.fill("#password-reset input[name=code]", code)
    await page.click("#password-reset button[type=submit]")
    await page.wait_for_selector("text=Salasana vaihdettu")

    await log_in(page, people.pekka.username, "uusi-salasana-1")
    assert await page.inner_text("#who-name") == "Pekka Puupää"


async def test_unknown_username_gets_the_same_answer(new_page: NewPage, people: People) -> None:
    page = await new_page()
    await page.goto("/#/password")
    await page.fill("#password-request input[name=username]", "fi0409999999@taipalsaari.fi")
    await page.click("#password-request button[type=submit]")
    await page.wait_for_selector("#password-reset")  # never says whether it exists
