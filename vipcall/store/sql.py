"""SQLAlchemy Core statements run on the call path's asyncpg pool.

A rule of the service layer that writes (say :func:`vipcall.directory.apply_activity`) is
one Core statement with named bind parameters. The CLI and the web run it in their
session's transaction; a call runs it here: compiled once for asyncpg (``$1``...), then one
round trip per use, in its own implicit transaction (one statement is atomic), with no
session, pre-ping, BEGIN or COMMIT around it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.sql.expression import Executable

_DIALECT = pg_asyncpg.dialect()  # type: ignore[no-untyped-call]


class Compiled:
    """One statement compiled for asyncpg: its SQL and its parameters' order."""

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        converted = compiled._bind_processors  # noqa: SLF001 - values go to asyncpg as they are
        if converted:
            raise ValueError(f"parameters that need conversion: {sorted(converted)}")
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


class PoolStatements:
    """:class:`vipcall.directory.presence.Statements` on an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._compiled: dict[Executable, Compiled] = {}

    async def run(self, statement: Executable, params: Mapping[str, Any]) -> int:
        """Run ``statement`` (a module-level constant: compiled once) and return the number
        of rows its main part changed."""
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = Compiled(statement)
        status: str = await self.pool.execute(compiled.sql, *compiled.args(params))
        return int(status.rsplit(" ", 1)[-1])
