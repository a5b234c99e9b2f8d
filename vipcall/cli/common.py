"""What every command module shares: the error type, the runtime (database URL and
sessions), output helpers and the argument parsers of a user and a timestamp."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from vipcall import directory as d
from vipcall.db.engine import create_engine, session_factory
from vipcall.db.models import Organization, User
from vipcall.prompts import activity_name, role_name

PROG = "vipcall"

#: ``add_subparsers()`` of the top-level parser: each command module adds its noun to it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CliError(Exception):
    """An expected error with a one-line message."""


class Runtime:
    """What a handler runs against: the database URL and (made on first use) sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._engine is None:
            self._engine = create_engine(self.url)
        return session_factory(self._engine)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


Handler = Callable[[argparse.Namespace, Runtime], Awaitable[int]]


# --- output ---------------------------------------------------------------------------------


def out(text: str = "") -> None:
    print(text)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces; ``None`` shows as ``-``."""
    cells = [[str(h) for h in headers]] + [
        ["-" if c is None else str(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def print_fields(fields: Sequence[tuple[str, str]]) -> None:
    """``key:  value`` lines, the values aligned (the style of the ``show`` commands)."""
    width = max(len(k) for k, _ in fields) + 2
    for key, value in fields:
        out(f"{key + ':':<{width}}{value}")


def activity_label(n: int) -> str:
    """``3 Lounaalla / Lunch``."""
    return f"{n} {activity_name(n, 'fi')} / {activity_name(n, 'en')}"


def role_label(n: int) -> str:
    """``2 Lanka / Landline``."""
    return f"{n} {role_name(n, 'fi')} / {role_name(n, 'en')}"


def user_field(user: User, org: Organization) -> tuple[str, str]:
    """The ``user:`` line of the ``show`` commands."""
    return ("user", f"{user.username} ({user.display_name}), {org.domain}")


def immediate_field(immediate: str | None) -> tuple[str, str]:
    """The ``forwarding:`` line of the ``show`` commands."""
    return ("forwarding", f"{immediate} (immediate)" if immediate else "-")


def print_activity_forwards(by_activity: Mapping[int, str]) -> None:
    """``activity forwardings:`` and one line per activity (or `` -``)."""
    out("activity forwardings:" + ("" if by_activity else " -"))
    for n in sorted(by_activity):
        out(f"  {activity_label(n)} -> {by_activity[n]}")


# --- arguments ------------------------------------------------------------------------------

USER_HELP = "username, user id or any spelling of one of the user's numbers"
TIME_HELP = (
    "ISO 8601 timestamp, e.g. 2026-11-27T16:00 or 2026-11-27T14:00:00Z; "
    f"without a UTC offset it is {d.LOCAL_TZ.key} local time"
)


def add_user(parser: argparse.ArgumentParser) -> None:
    """The positional USER argument."""
    parser.add_argument("user", metavar="USER", help=USER_HELP)


def parse_timestamp(option: str, raw: str) -> datetime:
    """``raw`` given for ``option`` (see :func:`vipcall.directory.parse_local_timestamp`);
    errors name the option: ``--start: 'tomorrow' is not an ISO 8601 timestamp``."""
    try:
        return d.parse_local_timestamp(raw, field=option)
    except d.InvalidField as exc:
        raise CliError(f"{option}: {exc.message}") from None
