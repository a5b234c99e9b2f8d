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
import os
import time
from collections.abc import Callable
from pathlib import Path
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


# -- the spool: reports appended to a file by Asterisk, taken by the app in batches ---------

#: The file in the spool folder the dialplan appends one report to per call (a line: the
#: same query string as the HTTP report's).
SPOOL_FILE = "ended"
#: A taken file is ``ended.<ns>.taken``: renamed away from the writers, read, then removed.
TAKEN_SUFFIX = ".taken"
#: Ticks a taken file is read again before it is removed: a writer that opened the file just
#: before it was taken (FILE() opens, appends, closes) still lands its line.
READS_PER_FILE = 2


def reports_in(data: bytes) -> tuple[list[dict[str, str]], bytes]:
    """The reports in a spool file's bytes (one query string per line) and the rest after
    the last newline (a line still being written, or cut short)."""
    body, _, rest = data.rpartition(b"\n")
    reports = [
        dict(parse_qsl(line.decode("latin-1"), keep_blank_values=True))
        for line in body.split(b"\n")
        if line.strip()
    ]
    return reports, rest


class ReportSpool:
    """Takes the dialplan's end-of-call reports from a folder Asterisk appends them to
    (``VIP_END_FILE``: ``Set(FILE(<folder>/ended,,,al,u)=...)``, docs/design.md "Call
    history"): no connection per call for Asterisk, one rename and a read per tick for the
    app. Every :attr:`interval` the file is renamed to ``ended.<ns>.taken`` (Asterisk's
    next report starts a new one) and each taken file is read at the next
    :data:`READS_PER_FILE` ticks, then removed. Files left by an app that stopped or was
    killed are taken at start, so reports written while the app was away are not lost."""

    def __init__(self, folder: Path, call_ended: CallEnded, interval: float = 0.5) -> None:
        self.folder = folder
        self.call_ended = call_ended
        self.interval = interval
        #: taken file -> (bytes read so far, reads done)
        self._taken: dict[Path, tuple[int, int]] = {}

    def start(self) -> None:
        """Create the folder (Asterisk writes into it) and pick up an earlier app's files."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.folder.glob(f"{SPOOL_FILE}.*{TAKEN_SUFFIX}")):
            self._taken.setdefault(path, (0, 0))

    def tick(self) -> int:
        """Read what the taken files hold now, then take the current file; how many reports
        were handed on."""
        handed = 0
        for path, (offset, reads) in list(self._taken.items()):
            handed += self._read(path, offset, reads + 1)
        target = self.folder / f"{SPOOL_FILE}.{time.time_ns()}{TAKEN_SUFFIX}"
        try:
            os.rename(self.folder / SPOOL_FILE, target)
        except FileNotFoundError:
            pass  # no call ended since the last tick
        else:
            self._taken[target] = (0, 0)
        return handed

    def _read(self, path: Path, offset: int, reads: int) -> int:
        try:
            with path.open("rb") as fh:
                fh.seek(offset)
                data = fh.read()
        except FileNotFoundError:
            self._taken.pop(path, None)
            return 0
        reports, rest = reports_in(data)
        last = reads >= READS_PER_FILE
        if last:
            if rest.strip():
                log.warning("end-of-call report cut short in %s: %r", path.name, rest[:200])
            path.unlink(missing_ok=True)
            del self._taken[path]
        else:
            self._taken[path] = (offset + len(data) - len(rest), reads)
        handed = 0
        for report in reports:
            try:
                taken = self.call_ended(report)
            except Exception:  # noqa: BLE001 - a bad report must not stop the others
                log.exception("end-of-call report failed")
                continue
            if taken:
                handed += 1
            else:
                log.warning("end-of-call report without a channel id: %r", report)
        log.debug("%d end-of-call reports from %s (read %d)", handed, path.name, reads)
        return handed

    async def run(self) -> None:
        """Take reports every :attr:`interval` until cancelled (after :meth:`start`)."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.tick()
            except OSError as exc:  # the folder gone or unreadable: said, tried again
                log.warning("end-of-call spool %s: %s", self.folder, exc)
