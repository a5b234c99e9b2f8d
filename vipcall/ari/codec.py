"""JSON for ARI: one home for decoding and encoding, used by the transport (REST
bodies, ``RESTRequest``/``RESTResponse`` frames) and the event stream (events).

orjson (a declared dependency) is ~5x faster than :mod:`json` for ARI's small
documents. The functions are orjson's own, re-exported without a Python wrapper: one
call less per request and per event.

* :func:`loads` takes ``bytes`` or ``str``; raises :class:`ValueError` (orjson's
  ``JSONDecodeError`` is a subclass) on malformed input.
* :func:`dumps` returns compact UTF-8 ``bytes`` (no spaces, non-ASCII kept as is).
"""

from __future__ import annotations

from orjson import dumps, loads

__all__ = ["dumps", "loads"]
