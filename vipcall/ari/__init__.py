"""vipcall's own ARI client.

* ``transport.py``: :class:`AriTransport`, how a request travels (HTTP session, REST over
  the events websocket with HTTP fallback, request/response correlation) and how its
  answer becomes a result or an error (``errors.py``);
* ``client.py``: :class:`AriClient`, the transport plus one method per ARI endpoint;
* ``events.py``: :class:`EventStream`, the supervised event websocket (handler contract
  there);
* ``codec.py``: JSON decoding/encoding; ``models.py``: typed shapes of ARI JSON.
"""

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
from .transport import AriTransport

__all__ = [
    "AriClient",
    "AriConflict",
    "AriError",
    "AriNotFound",
    "AriTransport",
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
