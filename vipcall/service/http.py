"""The service's own HTTP endpoints: Prometheus ``/metrics`` and ``/health``."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vipcall.ari import EventStream


def http_app(stream: EventStream) -> web.Application:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health(_: web.Request) -> web.Response:
        up = stream.ready.is_set()
        return web.json_response({"ari": "up" if up else "down"}, status=200 if up else 503)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/health", health)
    return app
