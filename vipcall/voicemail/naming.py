"""How a message's recording is named on Asterisk: it carries whose message it is, so one
left behind (the app or the database away) can still be stored later. Pure."""

from __future__ import annotations

#: ``vm~<user id>~<caller>~<called>~<channel id>``.
PREFIX = "vm~"


def recording_name(user_id: int, caller: str | None, called: str | None, call_id: str) -> str:
    return f"{PREFIX}{user_id}~{caller or ''}~{called or ''}~{call_id}"


def parse_recording_name(name: str) -> tuple[int, str | None, str | None] | None:
    """(user id, caller, called) of a message recording, ``None`` for any other name."""
    if not name.startswith(PREFIX):
        return None
    parts = name[len(PREFIX) :].split("~")
    if len(parts) != 4 or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1] or None, parts[2] or None
