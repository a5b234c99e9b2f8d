"""The home page in headless Chromium beside the end-to-end stack (tests/scenarios/
conftest.py): the web app served by uvicorn on loopback against the scenario database, so a
change made on the page is what the next SIPp call through Asterisk is routed by.

Run under ``flock /tmp/vipcall-asterisk.lock`` like every scenario."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio
from playwright.async_api import Browser, Page

from tests.support.browser import chromium
from tests.support.people import People, Person
from tests.web.browser.live import DESKTOP, LiveServer
from vipcall.config import Settings
from vipcall.db.engine import transaction
from vipcall.directory.passwords import set_password
from vipcall.web.app import create_app

PASSWORD = "salasana-e2e-1"


@pytest_asyncio.fixture(loop_scope="function")
async def web(database: str) -> AsyncIterator[LiveServer]:
    live = LiveServer(create_app(Settings(database_url=database)))
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


@pytest_asyncio.fixture(loop_scope="function")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


OpenPage = Callable[[Person, str], Awaitable[Page]]


@pytest_asyncio.fixture(loop_scope="function")
async def open_page(browser: Browser, web: LiveServer, people: People) -> AsyncIterator[OpenPage]:
    """``await open_page(person, "activity")``: the person logged in on that page."""
    errors: list[str] = []
    contexts = []

    async def _open(person: Person, route: str) -> Page:
        async with transaction(people.sessions) as s:
            await set_password(s, person.id, PASSWORD)
        ctx = await browser.new_context(
            viewport=DESKTOP, locale="fi-FI", timezone_id="Europe/Helsinki", base_url=web.url
        )
        contexts.append(ctx)
        page = await ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto("/#/login")
        await page.wait_for_selector("body[data-ready]")
        await page.fill("#login-form input[name=username]", person.username)
        await page.fill("#login-form input[name=password]", PASSWORD)
        await page.click("#login-form button[type=submit]")
        await page.wait_for_selector("#page-activity")
        await page.goto(f"/#/{route}")
        await page.wait_for_selector(f"#page-{route}")
        return page

    yield _open
    for ctx in contexts:
        await ctx.close()  # closes the page's event stream before the server stops
    assert not errors, f"JavaScript errors on the page: {errors}"
