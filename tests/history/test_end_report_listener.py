"""The end-of-call report listener (vipcall.service.reports): the dialplan's one request,
answered over a real socket; anything else refused, nothing noted."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
import uvloop

from vipcall.service.reports import answer, serve_reports

REPORT = (
    b"GET /call-ended?id=1764.12&status=ANSWER&answered=1500&dialed=2100&user=7"
    b"&called=%2B358401234567&caller=%2B358501110001&dial=PJSIP%2F%2B358401234567%40mobile"
    b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n"
)


async def _ask(port: int, chunks: list[bytes]) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(0.01)
    reply = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return reply


@pytest.mark.asyncio(loop_scope="session")  # the session loop the other tests share
async def test_a_report_is_noted_and_answered_ok() -> None:
    noted: list[dict[str, str]] = []
    server = await serve_reports(lambda q: noted.append(q) is None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        # in two pieces, as TCP may deliver it
        reply = await _ask(port, [REPORT[:40], REPORT[40:]])
        assert reply.startswith(b"HTTP/1.1 200 OK\r\n") and reply.endswith(b"\r\n\r\nok")
        assert noted == [
            {
                "id": "1764.12", "status": "ANSWER", "answered": "1500", "dialed": "2100",
                "user": "7", "called": "+358401234567", "caller": "+358501110001",
                "dial": "PJSIP/+358401234567@mobile",
            }
        ]  # fmt: skip
        assert (await _ask(port, [b"GET /metrics HTTP/1.1\r\n\r\n"])).startswith(b"HTTP/1.1 404")
        assert (await _ask(port, [b"junk\r\n"])).startswith(b"HTTP/1.1 400")
        assert (await _ask(port, [b"x" * 9000])).startswith(b"HTTP/1.1 400")
        assert len(noted) == 1
    finally:
        server.close()
        await server.wait_closed()


def test_the_listener_works_on_uvloop_the_apps_loop() -> None:
    async def run() -> bytes:
        server = await serve_reports(lambda q: True, "127.0.0.1", 0)
        try:
            return await _ask(server.sockets[0].getsockname()[1], [REPORT])
        finally:
            server.close()

    # In a worker thread: uvloop.run in the main thread would leave it without an event
    # loop and break the session-loop tests that follow.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(uvloop.run, run()).result().endswith(b"\r\n\r\nok")


def test_a_report_the_recorder_refuses_is_not_found() -> None:
    assert answer(b"GET /call-ended?status=ANSWER HTTP/1.1", lambda q: False).startswith(
        b"HTTP/1.1 404"
    )
    assert answer(b"POST /call-ended?id=1 HTTP/1.1", lambda q: True).startswith(b"HTTP/1.1 404")
