"""``vipcall softphone add|list``: SIP softphones."""

from __future__ import annotations

import argparse

from vipcall import directory as d
from vipcall.cli.common import USER_HELP, Commands, Runtime, format_table, out
from vipcall.db.engine import transaction


def register(commands: Commands) -> None:
    softphone = commands.add_parser("softphone", help="SIP softphones")
    actions = softphone.add_subparsers(dest="softphone_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a softphone; prints its SIP credentials")
    add.add_argument("--user", required=True, help=USER_HELP)
    add.add_argument("--label")
    add.set_defaults(handler=add_softphone)

    listing = actions.add_parser("list", help="list softphones")
    listing.add_argument("--user", help=USER_HELP)
    listing.set_defaults(handler=list_softphones)


async def add_softphone(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        user = await d.resolve_user(s, args.user)
        phone = await d.add_softphone(s, user, label=args.label)
    out(f"user:     {user.username}")
    out(f"endpoint: {phone.endpoint_id}")
    out(f"username: {phone.sip_username}")
    out(f"password: {phone.sip_password}")
    return 0


async def list_softphones(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
        user = None if args.user is None else await d.resolve_user(s, args.user)
        phones = await d.list_softphones(s, user)
    rows = [(p.sip_username, p.user.username, p.label) for p in phones]
    out(format_table(("ENDPOINT", "USER", "LABEL"), rows))
    return 0
