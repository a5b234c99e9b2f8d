"""The load of harness/load.py with the end-to-end stack's addresses (tests/scenarios/
conftest.py): callers from the carrier's address, every handset at the mobile core's."""

from __future__ import annotations

from pathlib import Path

from harness import load as _load
from harness.load import LoadResult, bridges, channels, drained, in_stasis, national, provisioned
from tests.scenarios.conftest import ASTERISK, MOBILE_CORE, PSTN

__all__ = [
    "Load", "LoadResult", "bridges", "channels", "drained", "in_stasis", "national",
    "provisioned",
]  # fmt: skip


def Load(  # noqa: N802 - reads like the class it builds
    workdir: Path, calls: list[tuple[str, str]], rate: float, count: int, **kw: object
) -> _load.Load:
    return _load.Load(
        workdir, calls, rate, count, asterisk=ASTERISK, caller_ip=PSTN, handset_ip=MOBILE_CORE,
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip
