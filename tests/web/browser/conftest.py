"""Browser tests: real headless Chromium (Debian's, through Playwright's async API) against
the web app served by uvicorn on loopback, on the test database (tests/conftest.py), with a
real SMTP server (aiosmtpd) for the password codes.

``people`` (tests/web/conftest.py): Maija (admin) and Pekka of taipalsaari.fi, Outi of
naapuri.fi; every password is ``salasana123``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.notices.parts import SmtpServer
from tests.support.browser import chromium
from tests.web.browser.live import DESKTOP, LiveServer
from tests.web.conftest import PASSWORD
from vipcall.config import Settings
from vipcall.db.engine import session_factory
from vipcall.web.app import create_app


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.up()
    try:
        yield server
    finally:
        server.down()


@pytest_asyncio.fixture(loop_scope="session")
async def server(
    engine: AsyncEngine, database_url: str, smtp: SmtpServer
) -> AsyncIterator[LiveServer]:
    settings = Settings(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="vipcall@example.invalid",
    )
    live = LiveServer(create_app(settings, session_factory(engine)))
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


NewPage = Callable[..., Awaitable[Page]]


@pytest_asyncio.fixture(loop_scope="session")
async def new_page(browser: Browser, server: LiveServer) -> AsyncIterator[NewPage]:
    """``await new_page(viewport=PHONE)``: a fresh browser context (own cookies) on the home
    page, Finnish locale and Helsinki time; JavaScript errors fail the test."""
    contexts = []
    errors: list[str] = []

    async def _new(viewport: dict[str, int] = DESKTOP) -> Page:
        ctx = await browser.new_context(
            viewport=viewport, locale="fi-FI", timezone_id="Europe/Helsinki", base_url=server.url
        )
        contexts.append(ctx)
        page = await ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto("/")
        await page.wait_for_selector("body[data-ready]")
        return page

    yield _new
    for ctx in contexts:
        await ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


async def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    await page.goto("/#/login")
    await page.fill("#login-form input[name=username]", username)
    await page.fill("#login-form input[name=password]", password)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#page-activity")
