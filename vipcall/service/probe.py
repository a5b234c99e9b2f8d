"""Answers the SIP proxy's OPTIONS probe for this node: ``200 OK`` while the app is
connected to its Asterisk and ready for calls, ``503`` while it is not, nothing once it is
gone. So Kamailio sends new calls to a node only while its app can route them, not merely
while its Asterisk answers (which it does with the app away, failing calls open).

Kamailio's dispatcher sends each node's probe here through the destination's ``obproxy``
attribute, with the node's Asterisk as the Request-URI (vipcall.cluster renders both and
sets ``VIPCALL_PROBE_PORT``). Off unless that is set: one node on its own has no proxy.

Only OPTIONS is answered; the reply carries the request's Via, From, To (with a tag),
Call-ID and CSeq, as RFC 3261 8.2.6 asks. Anything else is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

log = logging.getLogger("vipcall.probe")

#: Headers a response copies from its request, by every name they go by (compact forms).
_COPIED = {"via": "via", "v": "via", "from": "from", "f": "from", "to": "to", "t": "to",
           "call-id": "call-id", "i": "call-id", "cseq": "cseq"}  # fmt: skip
_NEEDED = frozenset(_COPIED.values())
_TAG = "vipcall-probe"


def probe_reply(data: bytes, healthy: bool) -> bytes | None:
    """The answer to one datagram: for a SIP OPTIONS ``200 OK`` (healthy) or ``503``, else
    ``None``."""
    try:
        head = data.decode("utf-8").split("\r\n\r\n", 1)[0]
    except UnicodeDecodeError:
        return None
    lines = head.split("\r\n")
    if not (lines[0].startswith("OPTIONS ") and lines[0].endswith(" SIP/2.0")):
        return None
    kept: list[str] = []
    names: set[str] = set()
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        key = name.strip().lower()
        if not sep or key not in _COPIED:
            continue
        if _COPIED[key] == "to" and ";tag=" not in value:
            line = f"{line};tag={_TAG}"
        kept.append(line)
        names.add(_COPIED[key])
    if names != _NEEDED:
        return None
    status = "200 OK" if healthy else "503 Service Unavailable"
    headers = "".join(f"{line}\r\n" for line in kept)
    return f"SIP/2.0 {status}\r\n{headers}Content-Length: 0\r\n\r\n".encode()


class ProbeResponder(asyncio.DatagramProtocol):
    """UDP: answers each probe with :func:`probe_reply` by ``healthy()`` now."""

    def __init__(self, healthy: Callable[[], bool]) -> None:
        self.healthy = healthy
        self.transport: asyncio.DatagramTransport | None = None
        self._last: bool | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        healthy = self.healthy()
        reply = probe_reply(data, healthy)
        if reply is None or self.transport is None:
            return
        if healthy != self._last:
            log.info("proxy probe from %s:%d: %s", *addr, "ready" if healthy else "not ready")
            self._last = healthy
        self.transport.sendto(reply, addr)


async def serve_probe(
    host: str, port: int, healthy: Callable[[], bool]
) -> asyncio.DatagramTransport:
    """Listen for the proxy's probes on ``host:port`` (udp)."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: ProbeResponder(healthy), local_addr=(host, port)
    )
    log.info("answering the proxy's probes on udp %s:%d", host, port)
    return transport
