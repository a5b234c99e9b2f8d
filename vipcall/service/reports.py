"""The dialplan's end-of-call reports, on a listener of their own (``VIP_END_URL``).

Every call handed off to ring ends with one ``GET /call-ended?...`` from ``[vipcall-ring]``'s
``h`` extension (docs/design.md "Call history"), on a new TCP connection each time (the
channel's thread, and with it CURL's handle, ends with the call). Through the aiohttp
application that one request cost the app about as much CPU as routing the call (request,
response and handler objects, routing, middleware; docs/design.md "Performance design").
This listener answers that one request and nothing else with a plain
:class:`asyncio.Protocol`: read the request line, note the report, answer ``200 ok`` (or
``404``), close. The aiohttp application keeps ``/call-ended`` for any other caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast
from urllib.parse import parse_qsl

log = logging.getLogger("vipcall.reports")

#: The report (the query's fields) -> whether it was taken
#: (:func:`vipcall.history.recorder.end_reported`).
CallEnded = Callable[[dict[str, str]], bool]

PATH = "/call-ended"
#: A request line longer than this is not a report (the dialplan's are ~300 bytes).
MAX_REQUEST = 8192

_OK = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\nok"
)
_NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n"
    b"Connection: close\r\n\r\nnot found"
)
_BAD = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
    b"Connection: close\r\n\r\nbad request"
)


def answer(request_line: bytes, call_ended: CallEnded) -> bytes:
    """The response to one request line (``GET /call-ended?<query> HTTP/1.x``)."""
    parts = request_line.split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        return _BAD
    method, target = parts[0], parts[1].decode("latin-1")
    path, _, query = target.partition("?")
    if method != b"GET" or path != PATH:
        return _NOT_FOUND
    fields = dict(parse_qsl(query, keep_blank_values=True))
    return _OK if call_ended(fields) else _NOT_FOUND


class _ReportProtocol(asyncio.Protocol):
    __slots__ = ("call_ended", "buffer", "transport")

    def __init__(self, call_ended: CallEnded) -> None:
        self.call_ended = call_ended
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance check.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n")
        if end < 0:
            if len(self.buffer) > MAX_REQUEST:
                self._reply(_BAD)
            return
        try:
            reply = answer(self.buffer[:end], self.call_ended)
        except Exception:  # noqa: BLE001 - a bad report must not end the listener
            log.exception("end-of-call report failed")
            reply = _BAD
        self._reply(reply)

    def _reply(self, reply: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(reply)
            transport.close()


async def serve_reports(call_ended: CallEnded, host: str, port: int = 0) -> asyncio.Server:
    """Listen on ``host:port`` (0: a free port; ``server.sockets[0].getsockname()``)."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _ReportProtocol(call_ended), host, port)
