"""``vipcall user create|list|import``: users."""

from __future__ import annotations

import argparse

from vipcall import directory as d
from vipcall.cli.common import Commands, Runtime, format_table, out
from vipcall.db.engine import transaction


def register(commands: Commands) -> None:
    user = commands.add_parser("user", help="users")
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create a user")
    create.add_argument("--org", required=True, metavar="DOMAIN")
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--mobile", required=True)
    create.add_argument("--landline")
    create.add_argument("--email")
    create.add_argument("--admin", action="store_true", help="organisation admin")
    create.add_argument("--password")
    create.set_defaults(handler=create_user)

    listing = actions.add_parser("list", help="list users")
    listing.add_argument("--org", metavar="DOMAIN")
    listing.set_defaults(handler=list_users)

    imp = actions.add_parser(
        "import",
        help="import users from CSV (header display_name,mobile,landline,email; ',' or ';')",
    )
    imp.add_argument("--org", required=True, metavar="DOMAIN")
    imp.add_argument("file", metavar="FILE.csv")
    imp.set_defaults(handler=import_users)


async def create_user(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
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
    out(f"created user {user.username} ({user.display_name}), id {user.id}")
    return 0


async def list_users(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
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
    out(format_table(headers, rows))
    return 0


async def import_users(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        org = await d.get_organization(s, args.org)
        users = await d.import_users_csv(s, args.file, org)
    out(f"imported {len(users)} user{'s' if len(users) != 1 else ''} into {org.domain}")
    return 0
