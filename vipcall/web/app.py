"""The web process's application: the API routers, the problem+json errors, the home page.

``create_app(settings)`` owns its engine (opened and closed with the app's lifespan) unless
a session factory is handed in (tests share theirs).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall.config import Settings
from vipcall.db.engine import create_engine, session_factory
from vipcall.web import problems
from vipcall.web.routes import ROUTERS

STATIC = Path(__file__).parent / "static"


def create_app(
    settings: Settings, sessions: async_sessionmaker[AsyncSession] | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = None
        if getattr(app.state, "sessions", None) is None:
            engine = create_engine(settings.database_url, pool_size=10)
            app.state.sessions = session_factory(engine)
        try:
            for start in app.state.on_start:
                await start(app)
            yield
        finally:
            for stop in reversed(app.state.on_stop):
                await stop(app)
            if engine is not None:
                await engine.dispose()
                app.state.sessions = None

    app = FastAPI(
        title="vipcall",
        summary="Home page and REST API of the vipcall mobile PBX (kotisivu ja REST-rajapinta)",
        version="1",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.sessions = sessions
    # Background parts of an area (e.g. the live-update listener) hook in here.
    app.state.on_start = []
    app.state.on_stop = []
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    if STATIC.is_dir():
        app.mount("/", StaticFiles(directory=STATIC, html=True), name="home")
    return app
