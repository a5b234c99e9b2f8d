"""RFC 2833 / 4733 key sequences (and tones) as a pcap SIPp plays into a call.

SIPp's stock ``dtmf_2833_<d>.pcap`` files all carry the same RTP timestamp, and Asterisk
drops a DTMF event that is not newer than the last one it took, so playing them one after
another delivers only the first key. This module writes one RTP stream for a whole script
of keys, pauses and tones, with rising sequence numbers and timestamps, modelled on
``/usr/share/sip-tester/dtmf_2833_1.pcap`` (an event every 20 ms with a rising duration,
volume 10, the end packet sent three times; payload type 101; Ethernet/IPv4/UDP framing).
SIPp rewrites addresses and ports when it plays the file and keeps the RTP as it is.

A script is a string of tokens separated by spaces (see :func:`parse_script`)::

    "w2000 1 w1500 6 w800 7"        wait 2 s, key 1, wait 1.5 s, key 6, wait 0.8 s, key 7
    "w1500 0401234567# w1000 1234#" a mailbox number and a PIN, keys 250 ms apart
    "w1000 tone:3000 #"             a 3 s tone (something to record), then #

Keys in a token follow each other ``KEY_GAP_MS`` apart. Usage from the command line::

    python -m harness.dtmf OUT.pcap "w2000 1 w1500 6"
"""

from __future__ import annotations

import math
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}
PT_EVENT = 101  # telephone-event, as the SIPp scenarios offer it
PT_PCMU = 0
RATE = 8000
FRAME_MS = 20
FRAME = RATE * FRAME_MS // 1000  # 160 samples
KEY_MS = 160  # how long a key is held (8 packets, as the stock pcaps)
KEY_GAP_MS = 250  # between the keys of one token
VOLUME = 10
SSRC = 0x0E05384E
SRC = ("192.168.0.3", 49176)
DST = ("192.168.0.1", 10000)


@dataclass(frozen=True, slots=True)
class Pause:
    ms: int


@dataclass(frozen=True, slots=True)
class Key:
    key: str


@dataclass(frozen=True, slots=True)
class Tone:
    ms: int
    hz: float = 440.0


Step = Pause | Key | Tone


def parse_script(script: str) -> list[Step]:
    """Tokens: ``w<ms>`` a pause; ``tone:<ms>`` (or ``tone:<ms>:<hz>``) a tone; anything
    else a run of keys (0-9 * # A-D) pressed ``KEY_GAP_MS`` apart."""
    steps: list[Step] = []
    for token in script.split():
        if token[:1] in "wW" and token[1:].isdigit():
            steps.append(Pause(int(token[1:])))
        elif token.startswith("tone:"):
            parts = token.split(":")
            steps.append(Tone(int(parts[1]), float(parts[2]) if len(parts) > 2 else 440.0))
        else:
            for i, key in enumerate(token.upper()):
                if key not in EVENTS:
                    raise ValueError(f"not a key: {key!r} in {token!r}")
                if i:
                    steps.append(Pause(KEY_GAP_MS))
                steps.append(Key(key))
    return steps


def _ulaw(sample: int) -> int:
    """16-bit linear -> G.711 µ-law byte."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def rtp_packets(steps: list[Step]) -> list[tuple[float, bytes]]:
    """(seconds from the start, RTP packet) for the script: one stream, rising sequence
    numbers and timestamps (the timestamp follows the wall clock, pauses included)."""
    packets: list[tuple[float, bytes]] = []
    seq = 0x1F30
    clock_ms = 0  # where the script is, in ms

    def add(at_ms: float, pt: int, marker: bool, ts: int, payload: bytes) -> None:
        nonlocal seq
        header = struct.pack(
            "!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, SSRC
        )
        packets.append((at_ms / 1000.0, header + payload))
        seq += 1

    # One packet of silence at the start, so a leading pause is kept (SIPp plays the file
    # paced from its first packet).
    add(0, PT_PCMU, True, 0, b"\xff" * FRAME)
    for step in steps:
        if isinstance(step, Pause):
            clock_ms += step.ms
        elif isinstance(step, Key):
            event = EVENTS[step.key]
            ts = clock_ms * RATE // 1000
            frames = KEY_MS // FRAME_MS
            for i in range(frames):
                duration = (i + 1) * FRAME if i else 0
                add(clock_ms + i * FRAME_MS, PT_EVENT, i == 0, ts,
                    struct.pack("!BBH", event, VOLUME, duration))  # fmt: skip
            end = struct.pack("!BBH", event, 0x80 | VOLUME, frames * FRAME)
            for _ in range(3):
                add(clock_ms + frames * FRAME_MS, PT_EVENT, False, ts, end)
            clock_ms += KEY_MS + FRAME_MS
        else:
            for i in range(step.ms // FRAME_MS):
                start = (clock_ms + i * FRAME_MS) * RATE // 1000
                payload = bytes(
                    _ulaw(int(8000 * math.sin(2 * math.pi * step.hz * (start + n) / RATE)))
                    for n in range(FRAME)
                )
                add(clock_ms + i * FRAME_MS, PT_PCMU, i == 0, start, payload)
            clock_ms += step.ms
    return packets


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(rtp: bytes, ident: int) -> bytes:
    udp = struct.pack("!HHHH", SRC[1], DST[1], 8 + len(rtp), 0) + rtp
    src = bytes(int(x) for x in SRC[0].split("."))
    dst = bytes(int(x) for x in DST[0].split("."))
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0, 64, 17, 0, src, dst
    )
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    ether = bytes.fromhex("0050bf990336000d8714ac24") + b"\x08\x00"
    return ether + ip + udp


def pcap_bytes(script: str, start: float = 1_134_424_480.0) -> bytes:
    """The pcap file (libpcap, Ethernet) for a script."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 0xFFFF, 1)]
    for i, (at, rtp) in enumerate(rtp_packets(parse_script(script))):
        frame = _frame(rtp, 0xF699 + i)
        when = start + at
        sec = int(when)
        usec = int(round((when - sec) * 1_000_000))
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    return b"".join(out)


def write_pcap(path: Path | str, script: str) -> Path:
    """Write the script's pcap to ``path`` (for ``uac_keys.xml``: ``pcap=path``)."""
    path = Path(path)
    path.write_bytes(pcap_bytes(script))
    return path


def script_ms(script: str) -> int:
    """How long the script takes to play, in ms."""
    total = 0
    for step in parse_script(script):
        if isinstance(step, Pause):
            total += step.ms
        elif isinstance(step, Key):
            total += KEY_MS + FRAME_MS
        else:
            total += step.ms
    return total


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m harness.dtmf OUT.pcap SCRIPT")
    write_pcap(sys.argv[1], sys.argv[2])
