"""``vipcall role set|show``: the caller-ID role."""

from __future__ import annotations

import argparse

from vipcall import directory as d
from vipcall.cli.common import (
    Commands,
    Runtime,
    add_user,
    out,
    print_fields,
    role_label,
    user_field,
)
from vipcall.db.engine import transaction
from vipcall.presence.model import ROLE_MAX, ROLE_MIN


def register(commands: Commands) -> None:
    role = commands.add_parser("role", help="caller-ID role")
    actions = role.add_subparsers(dest="role_command", metavar="ACTION", required=True)

    set_ = actions.add_parser("set", help=f"set a user's role ({ROLE_MIN}..{ROLE_MAX})")
    add_user(set_)
    set_.add_argument("value", metavar="N")
    set_.set_defaults(handler=set_role)

    show = actions.add_parser("show", help="a user's role")
    add_user(show)
    show.set_defaults(handler=show_role)


async def set_role(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        user = await d.set_role(s, await d.resolve_user(s, args.user), args.value)
    out(f"{user.username}: role {user.role}")
    return 0


async def show_role(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
        user = await d.resolve_user(s, args.user)
        org = await d.get_organization(s, user.organization_id)
    print_fields([user_field(user, org), ("role", role_label(user.role))])
    return 0
