"""vipcall's own ARI client: REST wrappers (:class:`AriClient`) and the supervised
event websocket (:class:`EventStream`). See ``events.py`` for the handler contract."""

from .client import AriClient
from .errors import AriConflict, AriError, AriNotFound, AriUnavailable
from .events import EventStream, Handler, OnConnect
from .models import (
    AsteriskInfo,
    Bridge,
    CallerId,
    Channel,
    ConfigTuple,
    DialplanCEP,
    Event,
    LiveRecording,
    Playback,
    StoredRecording,
)

__all__ = [
    "AriClient",
    "AriConflict",
    "AriError",
    "AriNotFound",
    "AriUnavailable",
    "AsteriskInfo",
    "Bridge",
    "CallerId",
    "Channel",
    "ConfigTuple",
    "DialplanCEP",
    "Event",
    "EventStream",
    "Handler",
    "LiveRecording",
    "OnConnect",
    "Playback",
    "StoredRecording",
]
