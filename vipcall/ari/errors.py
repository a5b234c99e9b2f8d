"""ARI errors, split by what a call flow does about them.

Call flows race with hangups all the time, so "the channel/bridge/recording is gone"
(:class:`AriNotFound`) must be told apart from "Asterisk is not reachable"
(:class:`AriUnavailable`) and from a real protocol error (plain :class:`AriError`).
"""

from __future__ import annotations


class AriError(Exception):
    """An ARI request failed; ``status`` is the HTTP status (0 when no response came)."""

    __slots__ = ("status", "method", "path", "message")

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status
        self.method = method
        self.path = path
        self.message = message

    def __reduce__(self) -> tuple[type[AriError], tuple[int, str, str, str]]:
        return (type(self), (self.status, self.method, self.path, self.message))


class AriNotFound(AriError):
    """404: the object (usually a channel that just hung up) does not exist."""


class AriConflict(AriError):
    """409: the object is in the wrong state (e.g. channel not in Stasis, bridge busy)."""


class AriUnavailable(AriError):
    """No usable answer: connection refused/reset, timeout, or 503 from Asterisk."""


def error_for_status(status: int, method: str, path: str, message: str) -> AriError:
    """Build the most specific :class:`AriError` subclass for an HTTP status."""
    if status == 404:
        return AriNotFound(status, method, path, message)
    if status == 409:
        return AriConflict(status, method, path, message)
    if status == 503:
        return AriUnavailable(status, method, path, message)
    return AriError(status, method, path, message)
