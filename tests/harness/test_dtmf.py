"""harness/dtmf.py: one RTP stream for a key script, rising sequence numbers and
timestamps (stock SIPp pcaps repeat one timestamp, so Asterisk takes only the first key)."""

from __future__ import annotations

import struct

import pytest

from harness.dtmf import EVENTS, Key, Pause, Tone, parse_script, pcap_bytes, script_ms


def rtp_of(pcap: bytes) -> list[tuple[float, int, int, int, bytes]]:
    """(time, payload type, seq, timestamp, payload) per packet."""
    out = []
    off = 24
    while off < len(pcap):
        sec, usec, incl, _ = struct.unpack("<IIII", pcap[off : off + 16])
        frame = pcap[off + 16 : off + 16 + incl]
        rtp = frame[14 + 20 + 8 :]
        _, pt, seq, ts, _ = struct.unpack("!BBHII", rtp[:12])
        out.append((sec + usec / 1e6, pt & 0x7F, seq, ts, rtp[12:]))
        off += 16 + incl
    return out


def test_script_tokens() -> None:
    assert parse_script("w1500 12# tone:1000") == [
        Pause(1500), Key("1"), Pause(250), Key("2"), Pause(250), Key("#"), Tone(1000),
    ]  # fmt: skip
    with pytest.raises(ValueError):
        parse_script("12x")


def test_keys_have_rising_timestamps_and_sequence_numbers() -> None:
    packets = rtp_of(pcap_bytes("w500 1234# w300 *"))
    events = [p for p in packets if p[1] == 101]
    seqs = [p[2] for p in packets]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    starts: list[tuple[int, int]] = []
    for _, _, _, ts, payload in events:
        if not starts or starts[-1][0] != ts:
            starts.append((ts, payload[0]))
    assert [e for _, e in starts] == [EVENTS[k] for k in "1234#*"]
    stamps = [ts for ts, _ in starts]
    assert stamps == sorted(set(stamps))
    ends = [p for p in events if p[4][1] & 0x80]
    assert len(ends) == 3 * 6  # each key's end packet three times


def test_leading_pause_and_tone_are_in_the_timeline() -> None:
    packets = rtp_of(pcap_bytes("w1000 tone:400 5"))
    first_key = next(p for p in packets if p[1] == 101)
    assert first_key[0] - packets[0][0] == pytest.approx(1.4, abs=0.01)
    assert sum(1 for p in packets if p[1] == 0) == 1 + 400 // 20
    assert script_ms("w1000 tone:400 5") == 1000 + 400 + 180
