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
    vipcall activity schedule USER N --start ISO --end ISO   (naive = Europe/Helsinki time)
    vipcall activity list USER [--all]
    vipcall activity unschedule ID
    vipcall activity show USER [--at ISO]
    vipcall role set USER N
    vipcall forward set USER [TARGET] [--activity N]      (no TARGET = clear)
    vipcall forward clear USER [--activity N]
    vipcall org set-red DOMAIN 2,3,4,5,6                   ('' or none = no red activities)
    vipcall serve ...      -> vipcall.service.main.main(argv)
    vipcall sandbox ...    -> vipcall.sandbox.__main__.main(argv)

USER is a username (``fi0401234567@taipalsaari.fi``), a user id or one of the user's numbers.
Times are shown in Europe/Helsinki local time.
Expected errors print ONE line ``vipcall: error: ...`` on stderr and exit 1 (usage errors 2).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import asyncpg
from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vipcall import directory as d
from vipcall.config import Settings
from vipcall.db.engine import create_engine, session_factory, transaction
from vipcall.db.models import (
    Organization,
    ScheduledActivity,
    User,
)
from vipcall.presence.activity import scheduled_in_effect
from vipcall.presence.model import ACTIVITY_MAX, ACTIVITY_MIN, ROLE_MAX
from vipcall.prompts import activity_name, role_name

PROG = "vipcall"
PASSTHROUGH = {
    "serve": ("vipcall.service.main", "main"),
    "sandbox": ("vipcall.sandbox.__main__", "main"),
}

LOCAL_TZ = ZoneInfo("Europe/Helsinki")

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


def format_local(when: datetime) -> str:
    """``when`` in Europe/Helsinki local time: ``2026-11-27 16:00`` (seconds only if set)."""
    local = when.astimezone(LOCAL_TZ)
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def _activity_label(n: int) -> str:
    """``3 Lounaalla / Lunch``."""
    return f"{n} {activity_name(n, 'fi')} / {activity_name(n, 'en')}"


def _role_label(n: int) -> str:
    return f"{n} {role_name(n, 'fi')} / {role_name(n, 'en')}"


def _colour(n: int, red: Sequence[int]) -> str:
    return "red" if n in red else "green"


# --- argument parsing helpers ---------------------------------------------------------------


def parse_timestamp(option: str, raw: str) -> datetime:
    """An ISO 8601 timestamp; a naive one is Europe/Helsinki local time. A local time that
    does not exist (skipped by the spring DST change) is refused; an ambiguous one (repeated
    by the autumn change) is the first (summer-time) occurrence."""
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option}: {raw!r} is not an ISO 8601 timestamp") from None
    if value.tzinfo is not None:
        return value
    local = value.replace(tzinfo=LOCAL_TZ)
    if local.astimezone(UTC).astimezone(LOCAL_TZ).replace(tzinfo=None) != value:
        raise CliError(f"{option}: {raw!r} does not exist in Europe/Helsinki (DST change)")
    return local


def parse_activity_list(raw: str) -> list[int]:
    """``2,3,4,5,6`` -> [2, 3, 4, 5, 6]; each 1..8, no duplicates; ``''``/``none`` -> []."""
    text = raw.strip()
    if text.lower() in ("", "none", "-"):
        return []
    result: list[int] = []
    for item in text.split(","):
        part = item.strip()
        try:
            n = int(part)
        except ValueError:
            raise CliError(f"red activities: {part!r} is not an activity number") from None
        if not ACTIVITY_MIN <= n <= ACTIVITY_MAX:
            raise CliError(
                f"red activities: activity must be between {ACTIVITY_MIN} and {ACTIVITY_MAX},"
                f" not {n}"
            )
        if n in result:
            raise CliError(f"red activities: activity {n} is listed twice")
        result.append(n)
    return sorted(result)


async def _user(session: AsyncSession, ref: str) -> User:
    """A user by username, number (any spelling) or id (``get_user`` for the first two; an
    all-digit USER that is no one's number is tried as an id)."""
    try:
        return await d.get_user(session, ref)
    except d.UnknownUser:
        text = ref.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            raise
        try:
            return await d.get_user(session, int(text))
        except d.UnknownUser:
            raise d.UnknownUser(ref) from None


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
        user = await _user(s, args.user)
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
        user = await d.set_activity(s, await _user(s, args.user), args.value)
    _out(f"{user.username}: activity {user.activity}")
    return 0


async def _role_set(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    async with transaction(sessions) as s:
        user = await d.set_role(s, await _user(s, args.user), args.value)
    _out(f"{user.username}: role {user.role}")
    return 0


async def _forward_set(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    target = getattr(args, "target", None)
    async with transaction(sessions) as s:
        user = await _user(s, args.user)
        try:
            row = await d.set_forwarding(s, user, target, activity=args.activity)
        except d.ForwardRefused as exc:
            raise CliError(f"forwarding refused ({exc.reason}): {exc.message}") from None
    what = (
        "immediate forwarding" if args.activity is None else f"activity {args.activity} forwarding"
    )
    _out(f"{user.username}: {what} " + (f"to {row.target}" if row else "cleared"))
    return 0


async def _org_red(session: AsyncSession, user: User) -> tuple[Organization, list[int]]:
    org = await d.get_organization(session, user.organization_id)
    return org, list(org.red_activities or ())


async def _activity_schedule(
    args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]
) -> int:
    starts_at = parse_timestamp("--start", args.start)
    ends_at = parse_timestamp("--end", args.end)
    if ends_at <= starts_at:
        raise CliError(
            f"--end ({format_local(ends_at)}) must be after --start ({format_local(starts_at)})"
        )
    async with transaction(sessions) as s:
        user = await _user(s, args.user)
        row = await d.add_scheduled_activity(s, user, args.value, starts_at, ends_at)
        row_id = row.id
    _out(str(row_id))
    return 0


def _state(row: ScheduledActivity, now: datetime, in_effect: ScheduledActivity | None) -> str:
    if in_effect is not None and row.id == in_effect.id:
        return "in effect"
    if row.ends_at <= now:
        return "ended"
    if row.starts_at <= now:
        return "overridden"  # started, but a later-starting one is in effect
    return "upcoming"


async def _activity_list(
    args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]
) -> int:
    now = datetime.now(UTC)
    async with sessions() as s:
        user = await _user(s, args.user)
        _, red = await _org_red(s, user)
        cutoff = datetime.min.replace(tzinfo=UTC) if args.all else now
        rows = await d.list_scheduled_activities(s, user.id, ending_after=cutoff)
    current = scheduled_in_effect(rows, now)
    table = [
        (
            r.id,
            r.activity,
            f"{activity_name(r.activity, 'fi')} / {activity_name(r.activity, 'en')}",
            _colour(r.activity, red),
            format_local(r.starts_at),
            format_local(r.ends_at),
            _state(r, now, current),
        )
        for r in rows
    ]
    _out(format_table(("ID", "ACT", "NAME", "COLOUR", "START", "END", "STATE"), table))
    return 0


async def _activity_unschedule(
    args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]
) -> int:
    async with transaction(sessions) as s:
        deleted = args.id > 0 and await d.delete_scheduled_activity(s, args.id)
    if not deleted:
        raise CliError(f"no scheduled activity with id {args.id}")
    _out(f"deleted scheduled activity {args.id}")
    return 0


async def _activity_show(
    args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]
) -> int:
    now = parse_timestamp("--at", args.at) if args.at else datetime.now(UTC)
    async with sessions() as s:
        user = await _user(s, args.user)
        org, red = await _org_red(s, user)
        presence = await d.get_presence(s, user, now)
        scheduled = await d.list_scheduled_activities(s, user.id, ending_after=now)
    current = scheduled_in_effect(scheduled, now)
    colour = _colour(presence.activity, red)
    if presence.red_until is not None:
        colour = f"red until {format_local(presence.red_until)}"
    lines = [
        ("user", f"{user.username} ({user.display_name}), {org.domain}"),
        ("at", format_local(now)),
        ("activity", f"{_activity_label(presence.activity)} ({colour})"),
        (
            "manual",
            f"{_activity_label(presence.manual_activity)}"
            f" ({_colour(presence.manual_activity, red)})",
        ),
        (
            "scheduled",
            "-"
            if current is None
            else f"{_activity_label(current.activity)}, {format_local(current.starts_at)}"
            f" - {format_local(current.ends_at)} (id {current.id})",
        ),
        ("role", _role_label(presence.role)),
        (
            "forwarding",
            f"{presence.immediate_forward} (immediate)" if presence.immediate_forward else "-",
        ),
    ]
    width = max(len(k) for k, _ in lines) + 2
    for key, value in lines:
        _out(f"{key + ':':<{width}}{value}")
    _out("activity forwardings:" + ("" if presence.activity_forwards else " -"))
    for n in sorted(presence.activity_forwards):
        _out(f"  {_activity_label(n)} -> {presence.activity_forwards[n]}")
    return 0


async def _org_set_red(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession]) -> int:
    wanted = parse_activity_list(args.activities)
    async with transaction(sessions) as s:
        org = await d.get_organization(s, args.domain)
        await d.set_red_activities(s, org, wanted)
        red = list(org.red_activities)
        domain = org.domain
    green = [n for n in range(ACTIVITY_MIN, ACTIVITY_MAX + 1) if n not in red]
    _out(
        f"{domain}: red {','.join(map(str, red)) or '-'}; green {','.join(map(str, green)) or '-'}"
    )
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
    ored = org_sub.add_parser(
        "set-red",
        help="set which activities are red (not reachable) in the organisation",
        description="Set which activities (1..8) are red in the organisation, e.g. 2,3,4,5,6 "
        "(the default). Numbers are comma-separated, no duplicates; '' or 'none' makes every "
        "activity green.",
    )
    ored.add_argument("domain", metavar="DOMAIN")
    ored.add_argument("activities", metavar="LIST", help="comma-separated, e.g. 2,3,4,5,6")
    ored.set_defaults(handler=_org_set_red)

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
    time_help = (
        "ISO 8601 timestamp, e.g. 2026-11-27T16:00 or 2026-11-27T14:00:00Z; "
        "without a UTC offset it is Europe/Helsinki local time"
    )
    asch = act_sub.add_parser(
        "schedule",
        help=f"schedule activity N (1..{ACTIVITY_MAX}) for a period; prints its id",
        description="Schedule activity N for [START, END): it takes effect at START and at END "
        "the user returns to the previous activity. Timestamps are ISO 8601; naive ones "
        "(no UTC offset) are Europe/Helsinki local time.",
    )
    asch.add_argument("user", metavar="USER")
    asch.add_argument("value", metavar="N")
    asch.add_argument("--start", required=True, metavar="ISO", help=time_help)
    asch.add_argument("--end", required=True, metavar="ISO", help=time_help + "; after --start")
    asch.set_defaults(handler=_activity_schedule)
    alist = act_sub.add_parser(
        "list", help="list a user's scheduled activities (Europe/Helsinki time)"
    )
    alist.add_argument("user", metavar="USER")
    alist.add_argument("--all", action="store_true", help="include ended ones")
    alist.set_defaults(handler=_activity_list)
    aun = act_sub.add_parser("unschedule", help="delete a scheduled activity")
    aun.add_argument("id", metavar="ID", type=int, help="id from 'activity list'")
    aun.set_defaults(handler=_activity_unschedule)
    ashow = act_sub.add_parser(
        "show", help="a user's effective activity, role and forwardings (Europe/Helsinki time)"
    )
    ashow.add_argument("user", metavar="USER")
    ashow.add_argument("--at", metavar="ISO", help="at this moment instead of now; " + time_help)
    ashow.set_defaults(handler=_activity_show)

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
    fclr = fwd_sub.add_parser("clear", help="clear the immediate (or an activity's) forwarding")
    fclr.add_argument("user", metavar="USER")
    fclr.add_argument("--activity", type=int, metavar="N", help="the forwarding of activity N")
    fclr.set_defaults(handler=_forward_set)

    sub.add_parser("serve", help="run the ARI application (vipcall.service)", add_help=False)
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
