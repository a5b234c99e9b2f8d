"""Audio kept in PostgreSQL (recorded greetings and names, voicemail messages) is played by
Asterisk from the app's own HTTP endpoint (``sound:http://...``; Asterisk's media cache keeps
it by URL). Each URL names one immutable version, so a cached copy is never stale."""

from __future__ import annotations

from enum import StrEnum


class MediaKind(StrEnum):
    GREETING = "greeting"
    NAME = "name"
    MESSAGE = "message"


#: Asterisk copies the cached file's path into a buffer as long as the URL (asterisk/asterisk
#: issue 444): a URL shorter than the path in its media cache fails to play. URLs are padded
#: to this length with a query Asterisk passes on and the app ignores.
MIN_URL_LENGTH = 200


def media_uri(base_url: str, kind: MediaKind, owner: int, version: int) -> str:
    """``sound:http://127.0.0.1:9108/media/greeting/7-1764150000.wav?pad=...``: the
    ``owner`` is the user (greeting, name) or the message id; ``version`` changes whenever
    the audio does."""
    url = f"{base_url.rstrip('/')}/media/{kind.value}/{owner}-{version}.wav"
    pad = MIN_URL_LENGTH - len(url) - len("?pad=")
    return f"sound:{url}?pad={'0' * max(pad, 1)}"


def parse_media_key(key: str) -> tuple[int, int] | None:
    """``7-1764150000`` -> (7, 1764150000); ``None`` for anything else."""
    owner, sep, version = key.partition("-")
    if not sep or not owner.isdigit() or not version.isdigit():
        return None
    return int(owner), int(version)
