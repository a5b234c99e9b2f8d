"""``vipcall db upgrade|downgrade``: the database schema (alembic)."""

from __future__ import annotations

import argparse

from vipcall.cli.common import Commands, Runtime, out


def register(commands: Commands) -> None:
    db = commands.add_parser("db", help="database schema")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)

    up = actions.add_parser("upgrade", help="create the database if missing; migrate to head")
    up.add_argument("--revision", default="head")
    up.set_defaults(handler=upgrade)

    down = actions.add_parser("downgrade", help="migrate down to REVISION (e.g. base)")
    down.add_argument("revision")
    down.set_defaults(handler=downgrade)


async def upgrade(args: argparse.Namespace, rt: Runtime) -> int:
    from vipcall.db import migrate

    created = await migrate.create_database_if_missing_async(rt.url)
    await migrate.upgrade_async(rt.url, args.revision)
    rev = await migrate.current_revision_async(rt.url)
    out(("created database; " if created else "") + f"schema at revision {rev}")
    return 0


async def downgrade(args: argparse.Namespace, rt: Runtime) -> int:
    from vipcall.db import migrate

    await migrate.downgrade_async(rt.url, args.revision)
    rev = await migrate.current_revision_async(rt.url)
    out(f"schema at revision {rev or 'base'}")
    return 0
