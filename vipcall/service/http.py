"""The service's own HTTP endpoints: Prometheus ``/metrics``, ``/health`` and the stored
audio Asterisk plays (``/media/<kind>/<owner>-<version>.wav``, see
:mod:`vipcall.calls.media`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vipcall.ari import EventStream
from vipcall.calls.context import MediaSource
from vipcall.calls.media import MediaKind, parse_media_key

#: The mid-call transfer check (:func:`vipcall.transfer.flow.check`): (who, keys) -> reply.
TransferCheck = Callable[[str, str], Awaitable[str]]
#: The dialplan's report that a handed-off call ended
#: (:func:`vipcall.history.recorder.end_reported`).
CallEnded = Callable[[dict[str, str]], bool]


def http_app(
    stream: EventStream,
    media: MediaSource | None = None,
    transfer: TransferCheck | None = None,
    call_ended: CallEnded | None = None,
) -> web.Application:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health(_: web.Request) -> web.Response:
        up = stream.ready.is_set()
        return web.json_response({"ari": "up" if up else "down"}, status=200 if up else 503)

    async def audio(request: web.Request) -> web.Response:
        try:
            kind = MediaKind(request.match_info["kind"])
        except ValueError:
            raise web.HTTPNotFound() from None
        key = parse_media_key(request.match_info["key"])
        if media is None or key is None:
            raise web.HTTPNotFound()
        data = await media.audio(kind, key[0])
        if data is None:
            raise web.HTTPNotFound()
        # One URL is one version of the audio: it may be cached for as long as it is used.
        return web.Response(
            body=data,
            content_type="audio/x-wav",
            headers={"Cache-Control": "private, max-age=86400"},
        )

    async def transfer_check(request: web.Request) -> web.Response:
        # Asked by the dialplan ([vipcall-xfer], CURL) after *#* and the keys; plain text.
        if transfer is None:
            raise web.HTTPNotFound()
        reply = await transfer(request.query.get("who", ""), request.query.get("keys", ""))
        return web.Response(text=reply)

    async def ended(request: web.Request) -> web.Response:
        # Reported by the dialplan ([vipcall-ended], CURL from a hangup handler) for the call
        # history; noted only, written in the background.
        if call_ended is None or not call_ended(dict(request.query)):
            raise web.HTTPNotFound()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/health", health)
    app.router.add_get("/media/{kind}/{key}.wav", audio)
    app.router.add_get("/transfer", transfer_check)
    app.router.add_get("/call-ended", ended)
    return app
