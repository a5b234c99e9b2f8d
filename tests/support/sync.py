"""Run a coroutine to completion from synchronous code (a sync fixture, a helper).

``asyncio.run`` in the main thread ends with ``set_event_loop(None)``: every async test after
it that shares pytest-asyncio's session loop then fails with "attached to a different loop"
(or "no current event loop"). Running it in a worker thread leaves the main thread alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` on a fresh loop in a worker thread; its result or exception."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
