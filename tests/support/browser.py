"""Debian's Chromium through Playwright (async API), launched the one way the browser tests
(tests/web/browser) and the home-page scenario (tests/scenarios/home_page) both use; each
wraps it in a ``browser`` fixture of its own scope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, async_playwright

from tests.web.browser.live import CHROMIUM, CHROMIUM_ARGS, chromium_missing


@asynccontextmanager
async def chromium(extra_args: Sequence[str] = ()) -> AsyncIterator[Browser]:
    """Headless Chromium, closed on the way out; skips the test where it is not installed.
    ``extra_args`` are added to :data:`CHROMIUM_ARGS` (a fake microphone, say)."""
    why = chromium_missing()
    if why:
        pytest.skip(why)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield b
        finally:
            await b.close()
