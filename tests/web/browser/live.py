"""The real parts a browser test drives: the web app served by uvicorn on a loopback port
(in the test's event loop, against the test database) and Debian's Chromium driven by
Playwright (async API). Browser downloads are impossible here: Chromium is /usr/bin/chromium."""

from __future__ import annotations

import asyncio
import shutil

import uvicorn
from fastapi import FastAPI

from harness.kannel import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_missing() -> str | None:
    return None if shutil.which(CHROMIUM) else f"{CHROMIUM} not installed (scripts/bootstrap.sh)"


class LiveServer:
    """``create_app(...)`` served over real HTTP on 127.0.0.1:<free port>."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,  # an open event stream must not hold the stop
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())
        for _ in range(200):
            if self.server.started:
                return
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.02)
        raise AssertionError(f"uvicorn did not start on {self.url}")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)
