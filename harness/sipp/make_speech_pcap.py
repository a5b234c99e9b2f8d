"""Writes ``speech_20s_pcma.pcap``: 20 s of RTP (PCMA, 20 ms packets, one SSRC) carrying a
400 Hz tone, for SIPp's ``play_pcap_audio`` — a caller who keeps talking. SIPp's own
g711a.pcap lasts 7 s; replaying it restarts the RTP sequence and timestamps, and in a
measured run the voicemail recording then ended at the restart.

Run: ``python harness/sipp/make_speech_pcap.py``."""

from __future__ import annotations

import audioop
import math
import struct
from pathlib import Path

SECONDS = 20
RATE = 8000
PTIME = 0.02
SRC, DST = (10, 0, 0, 1), (10, 0, 0, 2)
SPORT, DPORT = 6000, 6002


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def packet(seq: int, payload: bytes) -> bytes:
    rtp = struct.pack("!BBHII", 0x80, 8, seq & 0xFFFF, seq * 160, 0x5EED5EED) + payload
    udp = struct.pack("!HHHH", SPORT, DPORT, 8 + len(rtp), 0) + rtp
    ip = struct.pack(
        "!BBHHHBBH4B4B", 0x45, 0, 20 + len(udp), seq & 0xFFFF, 0, 64, 17, 0, *SRC, *DST
    )
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    eth = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb" + b"\x08\x00"
    return eth + ip + udp


def main() -> None:
    samples = 160
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for seq in range(int(SECONDS / PTIME)):
        pcm = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 400 * (seq * samples + i) / RATE)))
            for i in range(samples)
        )
        frame = packet(seq, audioop.lin2alaw(pcm, 2))
        t = seq * PTIME
        out += struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame
    Path(__file__).with_name("speech_20s_pcma.pcap").write_bytes(bytes(out))


if __name__ == "__main__":
    main()
