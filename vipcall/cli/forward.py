"""``vipcall forward set|clear|show``: call forwarding (immediate or per activity)."""

from __future__ import annotations

import argparse

from vipcall import directory as d
from vipcall.cli.common import (
    CliError,
    Commands,
    Runtime,
    add_user,
    immediate_field,
    out,
    print_activity_forwards,
    print_fields,
    user_field,
)
from vipcall.db.engine import transaction


def register(commands: Commands) -> None:
    forward = commands.add_parser("forward", help="call forwarding")
    actions = forward.add_subparsers(dest="forward_command", metavar="ACTION", required=True)

    set_ = actions.add_parser("set", help="set (or, without TARGET, clear) a forwarding")
    add_user(set_)
    set_.add_argument("target", metavar="TARGET", nargs="?")
    set_.add_argument("--activity", type=int, metavar="N", help="bind to activity N")
    set_.set_defaults(handler=set_forwarding)

    clear = actions.add_parser("clear", help="clear the immediate (or an activity's) forwarding")
    add_user(clear)
    clear.add_argument("--activity", type=int, metavar="N", help="the forwarding of activity N")
    clear.set_defaults(handler=set_forwarding)

    show = actions.add_parser("show", help="a user's immediate and per-activity forwardings")
    add_user(show)
    show.set_defaults(handler=show_forwardings)


async def set_forwarding(args: argparse.Namespace, rt: Runtime) -> int:
    target = getattr(args, "target", None)
    async with transaction(rt.sessions) as s:
        user = await d.resolve_user(s, args.user)
        try:
            row = await d.set_forwarding(s, user, target, activity=args.activity)
        except d.ForwardRefused as exc:
            raise CliError(f"forwarding refused ({exc.reason}): {exc.message}") from None
    what = (
        "immediate forwarding" if args.activity is None else f"activity {args.activity} forwarding"
    )
    out(f"{user.username}: {what} " + (f"to {row.target}" if row else "cleared"))
    return 0


async def show_forwardings(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
        user = await d.resolve_user(s, args.user)
        org = await d.get_organization(s, user.organization_id)
        targets = await d.get_forwarding_targets(s, user)
    print_fields([user_field(user, org), immediate_field(targets.immediate)])
    print_activity_forwards(targets.by_activity)
    return 0
