"""Which number a diverted call was diverted from, read from the SIP headers the network
sent (the dialplan passes them to the app: ``dialplan/extensions.conf`` ``[vipcall-inbound]``).

- ``Diversion`` (RFC 5806): each diverting hop adds its entry on top, so the first entry
  names the number that diverted the call last, e.g.
  ``<sip:+358401234567@core.example;user=phone>;reason=no-answer;counter=1``.
- ``History-Info`` (RFC 7044): entries in the order the call was retargeted; the last one
  is the current target (the voicemail number), so the last entry that is not the
  voicemail number names the number the call was diverted from, e.g.
  ``<sip:+358401234567@core>;index=1, <sip:+358401621485@core;cause=408>;index=1.1``.

Pure: header text in, an E.164 number (or ``None``) out.
"""

from __future__ import annotations

import re

from vipcall.numbers import try_normalize

_URI_USER = re.compile(r"(?:sips?|tel):([^@;>?\s,]+)", re.IGNORECASE)


def header_entries(header: str) -> list[str]:
    """The entries of a (possibly comma-joined) header value, outside quotes and ``<>``.

    The dialplan may hand commas over as ``|`` (Stasis arguments are split on commas)."""
    entries: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(depth - 1, 0)
        if ch in ",|" and not quoted and depth == 0:
            entries.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    entries.append("".join(current).strip())
    return [e for e in entries if e]


def entry_number(entry: str, region: str = "FI") -> str | None:
    """The number in one header entry's URI, E.164; ``None`` when it names no number."""
    m = _URI_USER.search(entry)
    if m is None:
        return None
    user = re.sub(r"%2[bB]", "+", m.group(1))
    return try_normalize(user, region)


def diverting_number(
    diversion: str | None,
    history_info: str | None = None,
    *,
    target: str | None = None,
    region: str = "FI",
) -> str | None:
    """The number (E.164) a call was diverted from, or ``None`` for a call not diverted (or
    whose headers name no number). ``Diversion`` wins over ``History-Info``; ``target`` is
    the number the call reached (the voicemail number), which is never its own diverter."""
    for entry in header_entries(diversion or ""):
        number = entry_number(entry, region)
        if number is not None and number != target:
            return number
    for entry in reversed(header_entries(history_info or "")):
        number = entry_number(entry, region)
        if number is not None and number != target:
            return number
    return None
