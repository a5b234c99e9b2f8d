"""The node's answer to the proxy's OPTIONS probe (vipcall.service.probe): 200 while the
app is ready, 503 while not, a well-formed response either way, nothing for anything else.
The real path (Kamailio's dispatcher taking a node out when its app goes) is
tests/scenarios/two_nodes/test_failover.py."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from vipcall.service.probe import probe_reply, serve_probe

PROBE = (
    b"OPTIONS sip:127.0.0.21:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.12:5060;branch=z9hG4bK1234\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK5678\r\n"
    b"From: <sip:proxy@vipcall.invalid>;tag=abc\r\n"
    b"To: <sip:127.0.0.21:5060>\r\n"
    b"Call-ID: 42@127.0.0.12\r\n"
    b"CSeq: 10 OPTIONS\r\n"
    b"Max-Forwards: 70\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def test_a_ready_node_answers_200_with_the_requests_headers() -> None:
    reply = probe_reply(PROBE, healthy=True)
    assert reply is not None
    lines = reply.decode().split("\r\n")
    assert lines[0] == "SIP/2.0 200 OK"
    assert lines[1:3] == [
        "Via: SIP/2.0/UDP 127.0.0.12:5060;branch=z9hG4bK1234",
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK5678",
    ], "every Via, in order"
    assert "To: <sip:127.0.0.21:5060>;tag=vipcall-probe" in lines
    assert "Call-ID: 42@127.0.0.12" in lines and "CSeq: 10 OPTIONS" in lines
    assert "Max-Forwards: 70" not in lines
    assert reply.endswith(b"Content-Length: 0\r\n\r\n")


def test_a_node_whose_app_is_not_ready_answers_503() -> None:
    reply = probe_reply(PROBE, healthy=False)
    assert reply is not None and reply.startswith(b"SIP/2.0 503 Service Unavailable\r\n")


def test_anything_but_a_whole_options_gets_no_answer() -> None:
    assert probe_reply(PROBE.replace(b"OPTIONS sip", b"INVITE sip"), True) is None
    assert probe_reply(PROBE.replace(b"Call-ID: 42@127.0.0.12\r\n", b""), True) is None
    assert probe_reply(b"\xff\xfe garbage", True) is None
    assert probe_reply(b"SIP/2.0 200 OK\r\n\r\n", True) is None


@given(st.binary(max_size=600))
def test_no_datagram_makes_it_fail(data: bytes) -> None:
    reply = probe_reply(data, True)
    assert reply is None or reply.startswith(b"SIP/2.0 200 OK\r\n")


async def test_it_answers_over_udp_by_the_state_now() -> None:
    ready = [True]
    transport = await serve_probe("127.0.0.1", 0, lambda: ready[0])
    port = transport.get_extra_info("sockname")[1]
    loop = asyncio.get_running_loop()
    answers: asyncio.Queue[bytes] = asyncio.Queue()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            answers.put_nowait(data)

    client, _ = await loop.create_datagram_endpoint(Client, remote_addr=("127.0.0.1", port))
    try:
        client.sendto(PROBE)
        assert (await asyncio.wait_for(answers.get(), 2)).startswith(b"SIP/2.0 200 OK")
        ready[0] = False
        client.sendto(PROBE)
        assert (await asyncio.wait_for(answers.get(), 2)).startswith(b"SIP/2.0 503")
    finally:
        client.close()
        transport.close()
