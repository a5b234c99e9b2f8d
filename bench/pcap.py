"""Signalling latency from a packet capture of the loopback (``dumpcap -P``).

SIPp's own response-time timers tick in the resolution of its main loop (4 ms steps on
this kernel), too coarse for a 5 ms target; the capture has the kernel's microsecond
timestamps. Two legs are captured:

* caller <-> Asterisk (the caller's SIP port): INVITE sent -> first 180 received;
* Asterisk <-> handset (127.0.0.3:5060): when the INVITE reached the handset.

* feature path: caller <-> Asterisk only: INVITE -> 200 OK, Asterisk's BYE, and the RTP
  Asterisk sends to the caller's media port (first packet of a stream per source port, the
  port the 200 OK's SDP announced): INVITE -> first RTP packet of the prompt.

The handset leg has its own Call-ID; calls are matched on (dialled number, caller number),
unique within a step (the injection file has more distinct pairs than calls in a step).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

_CALL_ID = re.compile(rb"^(?:Call-ID|i)\s*:\s*(\S+)", re.I | re.M)
_FROM_USER = re.compile(rb"^(?:From|f)\s*:[^\r\n]*?sips?:([^@;>\s]+)@", re.I | re.M)
_CSEQ = re.compile(rb"^CSeq\s*:\s*\d+\s+(\w+)", re.I | re.M)
_RURI_USER = re.compile(rb"^INVITE sips?:([^@;>\s]+)@")
_SDP_AUDIO = re.compile(rb"^m=audio (\d+) ", re.M)


@dataclass
class Legs:
    invite: dict[str, float] = field(default_factory=dict)  # caller Call-ID -> t
    ringing: dict[str, float] = field(default_factory=dict)  # caller Call-ID -> t of first 180
    caller_pair: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    handset: dict[tuple[bytes, bytes], list[float]] = field(default_factory=dict)
    packets: int = 0
    # feature path: the caller is answered by Asterisk itself and hears a prompt
    answered: dict[str, float] = field(default_factory=dict)  # Call-ID -> t of first 200 (INVITE)
    answer_port: dict[str, int] = field(default_factory=dict)  # Call-ID -> Asterisk's RTP port
    bye: dict[str, float] = field(default_factory=dict)  # Call-ID -> t of Asterisk's BYE
    rtp_starts: dict[int, list[float]] = field(default_factory=dict)  # src port -> stream starts
    rtp_packets: int = 0

    def answer_ms(self) -> list[float]:
        """INVITE sent -> 200 OK received at the caller."""
        return [(self.answered[c] - t) * 1000 for c, t in self.invite.items() if c in self.answered]

    def first_rtp_ms(self) -> list[float]:
        """INVITE sent -> the first RTP packet Asterisk sent to the caller from the port its
        200 OK announced (the prompt's first packet: nothing else plays on these calls)."""
        out = []
        for cid, t in self.invite.items():
            port = self.answer_port.get(cid)
            starts = self.rtp_starts.get(port) if port is not None else None
            if starts:
                later = [x for x in starts if x >= t]
                if later:
                    out.append((min(later) - t) * 1000)
        return out

    def answer_to_bye_ms(self) -> list[float]:
        """200 OK -> Asterisk's BYE: how long the caller was connected (the prompt)."""
        return [
            (self.bye[c] - t) * 1000 for c, t in self.answered.items() if c in self.bye
        ]  # fmt: skip

    def ring_ms(self) -> list[float]:
        return [(self.ringing[c] - t) * 1000 for c, t in self.invite.items() if c in self.ringing]

    def to_handset_ms(self) -> list[float]:
        """INVITE from the caller -> the INVITE reached the handset (Asterisk [+ app])."""
        out = []
        for cid, t in self.invite.items():
            times = self.handset.get(self.caller_pair.get(cid, (b"", b"")))
            if times:
                later = [x for x in times if x >= t]
                if later:
                    out.append((min(later) - t) * 1000)
        return out


def _packets(path: Path):  # type: ignore[no-untyped-def]
    with open(path, "rb") as fh:
        head = fh.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        else:
            endian = ">"
            magic = struct.unpack(">I", head[:4])[0]
        nano = magic == 0xA1B23C4D
        linktype = struct.unpack(endian + "I", head[20:24])[0]
        link_len = {1: 14, 113: 16, 276: 20, 0: 4, 101: 0}.get(linktype)
        if link_len is None:
            raise ValueError(f"unsupported pcap link type {linktype}")
        rec = struct.Struct(endian + "IIII")
        while True:
            hdr = fh.read(16)
            if len(hdr) < 16:
                return
            sec, frac, incl, _orig = rec.unpack(hdr)
            data = fh.read(incl)
            ts = sec + frac / (1e9 if nano else 1e6)
            ip = data[link_len:]
            if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
                continue
            ihl = (ip[0] & 0x0F) * 4
            src = ip[12:16]
            dst = ip[16:20]
            sport, dport = struct.unpack(">HH", ip[ihl : ihl + 4])
            yield ts, src, sport, dst, dport, ip[ihl + 8 :]


def analyse(
    path: Path,
    caller_port: int,
    handset_ip: str,
    handset_port: int,
    media: tuple[str, int] | None = None,
) -> Legs:
    """``media``: the caller's (ip, RTP port); RTP sent there is timed per source port (the
    capture filter must include it)."""
    legs = Legs()
    hs_ip = bytes(int(x) for x in handset_ip.split("."))
    media_ip = bytes(int(x) for x in media[0].split(".")) if media else None
    media_port = media[1] if media else -1
    last_rtp: dict[int, float] = {}
    for ts, _src, sport, dst, dport, payload in _packets(path):
        legs.packets += 1
        if dport == media_port and dst == media_ip:
            legs.rtp_packets += 1
            prev = last_rtp.get(sport)
            if prev is None or ts - prev > 0.5:  # a new stream from this port
                legs.rtp_starts.setdefault(sport, []).append(ts)
            last_rtp[sport] = ts
            continue
        if payload.startswith(b"INVITE "):
            m = _CALL_ID.search(payload)
            if not m:
                continue
            if sport == caller_port:
                cid = m.group(1).decode(errors="replace")
                if cid not in legs.invite:  # first transmission only
                    legs.invite[cid] = ts
                    r, f = _RURI_USER.search(payload), _FROM_USER.search(payload)
                    if r and f:
                        legs.caller_pair[cid] = (r.group(1), f.group(1))
            elif dst == hs_ip and dport == handset_port:
                r, f = _RURI_USER.search(payload), _FROM_USER.search(payload)
                if r and f:
                    legs.handset.setdefault((r.group(1), f.group(1)), []).append(ts)
        elif payload.startswith(b"SIP/2.0 180") and dport == caller_port:
            m = _CALL_ID.search(payload)
            c = _CSEQ.search(payload)
            if m and c and c.group(1) == b"INVITE":
                cid = m.group(1).decode(errors="replace")
                legs.ringing.setdefault(cid, ts)
        elif payload.startswith(b"SIP/2.0 200") and dport == caller_port:
            m = _CALL_ID.search(payload)
            c = _CSEQ.search(payload)
            if m and c and c.group(1) == b"INVITE":
                cid = m.group(1).decode(errors="replace")
                if cid not in legs.answered:
                    legs.answered[cid] = ts
                    a = _SDP_AUDIO.search(payload)
                    if a:
                        legs.answer_port[cid] = int(a.group(1))
        elif payload.startswith(b"BYE ") and dport == caller_port:
            m = _CALL_ID.search(payload)
            if m:
                legs.bye.setdefault(m.group(1).decode(errors="replace"), ts)
    return legs
