"""``vipcall`` admin CLI.

    vipcall [--database-url URL] db upgrade
    vipcall org create --name NAME --domain DOMAIN [--switchboard N] [--customer-service N]
                       [--language fi|en]
    vipcall org list
    vipcall user create --org DOMAIN --name NAME --mobile N [--landline N] [--email E]
                        [--admin] [--password P]
    vipcall user list [--org DOMAIN]
    vipcall user import --org DOMAIN FILE.csv
    vipcall demo
    vipcall softphone add --user USER [--label L]
    vipcall softphone list [--user USER]
    vipcall activity set USER N
    vipcall role set USER N
    vipcall forward set USER [TARGET] [--activity N]      (no TARGET = clear)
    vipcall serve ...      -> vipcall.app.main(argv)
    vipcall sandbox ...    -> vipcall.sandbox.__main__.main(argv)

USER is a username (``fi0401234567@taipalsaari.fi``) or one of the user's numbers.
Expected errors print ONE line ``vipcall: error: ...`` on stderr and exit 1 (usage errors 2).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TextIO

import asyncpg
from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall import directory as d
from vipcall.config import Settings
from vipcall.db.engine import create_engine, session_factory, transaction
from vipcall.db.models import ACTIVITY_MAX, ROLE_MAX

PROG = "vipcall"
PASSTHROUGH = {
    "serve": ("vipcall.app", "main"),
    "sandbox": ("vipcall.sandbox.__main__", "main"),
}

Handler = Callable[[argparse.Namespace, async_sessionmaker[AsyncSession]], Awaitable[int]]


class CliError(Exception):
    """An expected error with a one-line message."""


# --- output ---------------------------------------------------------------------------------


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces; ``None`` shows as ``-``."""
    cells = [[str(h) for h in headers]] + [
        ["-" if c is None else str(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _out(text: str = "") -> None:
    print(text)


# --- handlers -------------------------------------------------------------------------------


async def _org_create(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    async with transaction(sessions) as s:
        org = await d.create_organization(
            s,
            name=args.name,
            domain=args.domain,
            switchboard_number=args.switchboard,
            customer_service_number=args.customer_service,
            language=args.language,
        )
    _out(f"created organisation {org.domain} ({org.name}), id {org.id}")
    return 0


async def _org_list(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        orgs = await d.list_organizations(s)
        counts = await d.user_counts(s)
    rows = [
        (
            o.id,
            o.domain,
            o.name,
            o.switchboard_number,
            o.language,
            ",".join(map(str, o.red_activities)),
            counts.get(o.id, 0),
        )
        for o in orgs
    ]
    _out(format_table(("ID", "DOMAIN", "NAME", "SWITCHBOARD", "LANG", "RED", "USERS"), rows))
    return 0


async def _user_create(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    async with transaction(sessions) as s:
        user = await d.create_user(
            s,
            organization=args.org,
            display_name=args.name,
            mobile=args.mobile,
            landline=args.landline,
            email=args.email,
            is_admin=args.admin,
            password=args.password,
        )
    _out(f"created user {user.username} ({user.display_name}), id {user.id}")
    return 0


async def _user_list(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        users = await d.list_users(s, args.org)
    rows = [
        (
            u.id,
            u.username,
            u.display_name,
            u.mobile_number,
            u.landline_number,
            u.email,
            "yes" if u.is_admin else "no",
            u.activity,
            u.role,
        )
        for u in users
    ]
    headers = ("ID", "USERNAME", "NAME", "MOBILE", "LANDLINE", "EMAIL", "ADMIN", "ACT", "ROLE")
    _out(format_table(headers, rows))
    return 0


async def _user_import(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    async with transaction(sessions) as s:
        org = await d.get_organization(s, args.org)
        users = await d.import_users_csv(s, args.file, org)
    _out(f"imported {len(users)} user{'s' if len(users) != 1 else ''} into {org.domain}")
    return 0


async def _demo(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    async with transaction(sessions) as s:
        demo = await d.ensure_demo(s)
    org = demo.organization
    state = "created" if demo.created else "already present"
    _out(f"demo organisation {org.domain} ({org.name}): {state}")
    _out(
        format_table(
            ("USERNAME", "NAME", "MOBILE", "LANDLINE"),
            [(u.username, u.display_name, u.mobile_number, u.landline_number) for u in demo.users],
        )
    )
    for phone in demo.softphones:
        _out(f"softphone {phone.sip_username} password {phone.sip_password}")
    return 0


async def _softphone_add(
    args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]
) -> int:
    async with transaction(sessions) as s:
        user = await d.get_user(s, args.user)
        phone = await d.add_softphone(s, user, label=args.label)
    _out(f"user:     {user.username}")
    _out(f"endpoint: {phone.endpoint_id}")
    _out(f"username: {phone.sip_username}")
    _out(f"password: {phone.sip_password}")
    return 0


async def _softphone_list(
    args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]
) -> int:
    async with sessions() as s:
        phones = await d.list_softphones(s, args.user)
    rows = [(p.sip_username, p.user.username, p.label) for p in phones]
    _out(format_table(("ENDPOINT", "USER", "LABEL"), rows))
    return 0


async def _activity_set(
    args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]
) -> int:
    async with transaction(sessions) as s:
        user = await d.set_activity(s, args.user, args.value)
    _out(f"{user.username}: activity {user.activity}")
    return 0


async def _role_set(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    async with transaction(sessions) as s:
        user = await d.set_role(s, args.user, args.value)
    _out(f"{user.username}: role {user.role}")
    return 0


async def _forward_set(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    async with transaction(sessions) as s:
        user = await d.get_user(s, args.user)
        row = await d.set_forwarding(s, user, args.target, activity=args.activity)
    what = (
        "immediate forwarding" if args.activity is None else f"activity {args.activity} forwarding"
    )
    _out(f"{user.username}: {what} " + (f"to {row.target}" if row else "cleared"))
    return 0


# --- parser ---------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse parser whose errors are one line (plus usage) and exit 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="vipcall administration")
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: $VIPCALL_DATABASE_URL or the built-in default)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="create the database if missing; migrate to head")
    up.add_argument("--revision", default="head")
    down = db_sub.add_parser("downgrade", help="migrate down to REVISION (e.g. base)")
    down.add_argument("revision")

    org = sub.add_parser("org", help="organisations")
    org_sub = org.add_subparsers(dest="org_command", metavar="ACTION", required=True)
    oc = org_sub.add_parser("create", help="create an organisation")
    oc.add_argument("--name", required=True)
    oc.add_argument("--domain", required=True)
    oc.add_argument("--switchboard", help="switchboard number")
    oc.add_argument("--customer-service", help="customer service number")
    oc.add_argument("--language", default="fi", choices=("fi", "en"))
    oc.set_defaults(handler=_org_create)
    org_sub.add_parser("list", help="list organisations").set_defaults(handler=_org_list)

    user = sub.add_parser("user", help="users")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    uc = user_sub.add_parser("create", help="create a user")
    uc.add_argument("--org", required=True, metavar="DOMAIN")
    uc.add_argument("--name", required=True, help="display name")
    uc.add_argument("--mobile", required=True)
    uc.add_argument("--landline")
    uc.add_argument("--email")
    uc.add_argument("--admin", action="store_true", help="organisation admin")
    uc.add_argument("--password")
    uc.set_defaults(handler=_user_create)
    ul = user_sub.add_parser("list", help="list users")
    ul.add_argument("--org", metavar="DOMAIN")
    ul.set_defaults(handler=_user_list)
    ui = user_sub.add_parser(
        "import",
        help="import users from CSV (header display_name,mobile,landline,email; ',' or ';')",
    )
    ui.add_argument("--org", required=True, metavar="DOMAIN")
    ui.add_argument("file", metavar="FILE.csv")
    ui.set_defaults(handler=_user_import)

    sub.add_parser("demo", help="create the demo organisation (idempotent)").set_defaults(
        handler=_demo
    )

    sp = sub.add_parser("softphone", help="SIP softphones")
    sp_sub = sp.add_subparsers(dest="softphone_command", metavar="ACTION", required=True)
    sa = sp_sub.add_parser("add", help="add a softphone; prints its SIP credentials")
    sa.add_argument("--user", required=True, help="username or number")
    sa.add_argument("--label")
    sa.set_defaults(handler=_softphone_add)
    sl = sp_sub.add_parser("list", help="list softphones")
    sl.add_argument("--user", help="username or number")
    sl.set_defaults(handler=_softphone_list)

    act = sub.add_parser("activity", help="presence activity")
    act_sub = act.add_subparsers(dest="activity_command", metavar="ACTION", required=True)
    aset = act_sub.add_parser("set", help=f"set a user's activity (1..{ACTIVITY_MAX})")
    aset.add_argument("user", metavar="USER")
    aset.add_argument("value", metavar="N")
    aset.set_defaults(handler=_activity_set)

    role = sub.add_parser("role", help="caller-ID role")
    role_sub = role.add_subparsers(dest="role_command", metavar="ACTION", required=True)
    rset = role_sub.add_parser("set", help=f"set a user's role (1..{ROLE_MAX})")
    rset.add_argument("user", metavar="USER")
    rset.add_argument("value", metavar="N")
    rset.set_defaults(handler=_role_set)

    fwd = sub.add_parser("forward", help="call forwarding")
    fwd_sub = fwd.add_subparsers(dest="forward_command", metavar="ACTION", required=True)
    fset = fwd_sub.add_parser("set", help="set (or, without TARGET, clear) a forwarding")
    fset.add_argument("user", metavar="USER")
    fset.add_argument("target", metavar="TARGET", nargs="?")
    fset.add_argument("--activity", type=int, metavar="N", help="bind to activity N")
    fset.set_defaults(handler=_forward_set)

    sub.add_parser("serve", help="run the ARI application (vipcall.app)", add_help=False)
    sub.add_parser("sandbox", help="manage the Asterisk sandbox", add_help=False)
    return parser


# --- dispatch -------------------------------------------------------------------------------


def _passthrough(argv: list[str]) -> tuple[str, list[str], str | None] | None:
    """If the command is ``serve``/``sandbox``: (command, its argv, --database-url or None)."""
    i = 0
    url: str | None = None
    while i < len(argv):
        arg = argv[i]
        if arg == "--database-url" and i + 1 < len(argv):
            url = argv[i + 1]
            i += 2
        elif arg.startswith("--database-url="):
            url = arg.split("=", 1)[1]
            i += 1
        elif arg.startswith("-"):
            return None
        else:
            return (arg, argv[i + 1 :], url) if arg in PASSTHROUGH else None
    return None


def _dispatch_external(command: str, argv: list[str], url: str | None) -> int:
    module_name, attr = PASSTHROUGH[command]
    if url:
        os.environ["VIPCALL_DATABASE_URL"] = url
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise CliError(f"'{command}' is not available ({module_name} is missing)") from None
        raise
    result = getattr(module, attr)(argv)
    return int(result or 0)


def _describe_db_error(exc: BaseException, url: str) -> str:
    from sqlalchemy.engine import make_url

    safe = make_url(url).render_as_string(hide_password=True)
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split()) or type(orig).__name__
    return f"database {safe}: {text}"


async def _run(args: argparse.Namespace, url: str) -> int:
    if args.command == "db":
        from vipcall.db import migrate

        if args.db_command == "upgrade":
            created = await migrate.create_database_if_missing_async(url)
            await migrate.upgrade_async(url, args.revision)
            rev = await migrate.current_revision_async(url)
            _out(("created database; " if created else "") + f"schema at revision {rev}")
        else:
            await migrate.downgrade_async(url, args.revision)
            rev = await migrate.current_revision_async(url)
            _out(f"schema at revision {rev or 'base'}")
        return 0
    engine = create_engine(url)
    try:
        handler: Handler = args.handler
        return await handler(args, session_factory(engine))
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None, *, stderr: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 error, 2 usage error)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    err = stderr or sys.stderr
    try:
        passthrough = _passthrough(args_list)
        if passthrough is not None:
            return _dispatch_external(*passthrough)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
