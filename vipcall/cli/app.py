"""The ``vipcall`` parser (one module per noun adds its commands) and :func:`main`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

import asyncpg
from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from vipcall import directory as d
from vipcall.cli import (
    activity,
    contact,
    db,
    demo,
    forward,
    org,
    passthrough,
    role,
    service_number,
    softphone,
    user,
    voicemail,
)
from vipcall.cli.common import PROG, CliError, Handler, Runtime
from vipcall.config import Settings

#: In the order ``vipcall --help`` lists them.
NOUNS = (
    db, org, user, demo, softphone, activity, role, forward, contact, voicemail, service_number,
    passthrough,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="vipcall administration")
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: $VIPCALL_DATABASE_URL or the built-in default)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for noun in NOUNS:
        noun.register(commands)
    return parser


def _describe_db_error(exc: BaseException, url: str) -> str:
    from sqlalchemy.engine import make_url

    safe = make_url(url).render_as_string(hide_password=True)
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    return f"database {safe}: {text}"


async def _run(args: argparse.Namespace, url: str) -> int:
    rt = Runtime(url)
    try:
        handler: Handler = args.handler
        return await handler(args, rt)
    finally:
        await rt.close()


def main(argv: Sequence[str] | None = None, *, stderr: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 error, 2 usage error)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    err = stderr or sys.stderr
    try:
        external = passthrough.split(args_list)
        if external is not None:
            return passthrough.run(*external)
        parser = build_parser()
        try:
            args = parser.parse_args(args_list)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 2
        url = args.database_url or Settings.from_env().database_url
        try:
            return asyncio.run(_run(args, url))
        except (DBAPIError, asyncpg.PostgresError, OSError) as exc:
            raise CliError(_describe_db_error(exc, url)) from exc
        except AlembicCommandError as exc:
            raise CliError(f"migration: {' '.join(str(exc).split())}") from exc
        except SQLAlchemyError as exc:
            raise CliError(f"database error: {' '.join(str(exc).split())}") from exc
    except (d.DirectoryError, CliError) as exc:
        print(f"{PROG}: error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=err)
        return 130
