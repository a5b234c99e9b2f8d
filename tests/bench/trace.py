"""SIPp message traces written the way SIPp writes them (``-trace_msg``), for the bench's
trace readers."""

from __future__ import annotations

from datetime import datetime


def block(at: float, direction: str, first_line: str, **headers: str) -> str:
    """One traced message; header names with ``_`` for ``-`` (``Call_ID``)."""
    stamp = datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S.%f")
    if direction == "received":
        how = "UDP message received [300] bytes :"
    else:
        how = "UDP message sent (300 bytes):"
    head = "\n".join(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())
    return (
        f"----------------------------------------------- {stamp}\n{how}\n\n"
        f"{first_line}\n{head}\nContent-Length: 0\n\n"
    )
