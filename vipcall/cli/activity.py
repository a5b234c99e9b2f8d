"""``vipcall activity set|schedule|list|unschedule|show``: presence activity.

Times are read and shown in local (Europe/Helsinki) time, :data:`vipcall.directory.LOCAL_TZ`.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from vipcall import directory as d
from vipcall.cli.common import (
    TIME_HELP,
    CliError,
    Commands,
    Runtime,
    activity_label,
    add_user,
    format_table,
    immediate_field,
    out,
    parse_timestamp,
    print_activity_forwards,
    print_fields,
    role_label,
    user_field,
)
from vipcall.db.engine import transaction
from vipcall.presence.model import ACTIVITY_MAX, ACTIVITY_MIN
from vipcall.prompts import activity_name

TZ = d.LOCAL_TZ.key


def register(commands: Commands) -> None:
    activity = commands.add_parser("activity", help="presence activity")
    actions = activity.add_subparsers(dest="activity_command", metavar="ACTION", required=True)

    set_ = actions.add_parser("set", help=f"set a user's activity ({ACTIVITY_MIN}..{ACTIVITY_MAX})")
    add_user(set_)
    set_.add_argument("value", metavar="N")
    set_.set_defaults(handler=set_activity)

    schedule = actions.add_parser(
        "schedule",
        help=f"schedule activity N ({ACTIVITY_MIN}..{ACTIVITY_MAX}) for a period; prints its id",
        description="Schedule activity N for [START, END): it takes effect at START and at END "
        "the user returns to the previous activity. Timestamps are ISO 8601; naive ones "
        f"(no UTC offset) are {TZ} local time.",
    )
    add_user(schedule)
    schedule.add_argument("value", metavar="N")
    schedule.add_argument("--start", required=True, metavar="ISO", help=TIME_HELP)
    schedule.add_argument("--end", required=True, metavar="ISO", help=TIME_HELP + "; after --start")
    schedule.set_defaults(handler=schedule_activity)

    listing = actions.add_parser("list", help=f"list a user's scheduled activities ({TZ} time)")
    add_user(listing)
    listing.add_argument("--all", action="store_true", help="include ended ones")
    listing.set_defaults(handler=list_scheduled)

    unschedule = actions.add_parser("unschedule", help="delete a scheduled activity")
    unschedule.add_argument("id", metavar="ID", type=int, help="id from 'activity list'")
    unschedule.set_defaults(handler=unschedule_activity)

    show = actions.add_parser(
        "show", help=f"a user's effective activity, role and forwardings ({TZ} time)"
    )
    add_user(show)
    show.add_argument("--at", metavar="ISO", help="at this moment instead of now; " + TIME_HELP)
    show.set_defaults(handler=show_presence)


async def set_activity(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        user = await d.set_activity(s, await d.resolve_user(s, args.user), args.value)
    out(f"{user.username}: activity {user.activity}")
    return 0


async def schedule_activity(args: argparse.Namespace, rt: Runtime) -> int:
    starts_at = parse_timestamp("--start", args.start)
    ends_at = parse_timestamp("--end", args.end)
    if ends_at <= starts_at:
        raise CliError(
            f"--end ({d.format_local(ends_at)}) must be after --start ({d.format_local(starts_at)})"
        )
    async with transaction(rt.sessions) as s:
        user = await d.resolve_user(s, args.user)
        row = await d.add_scheduled_activity(s, user, args.value, starts_at, ends_at)
        row_id = row.id
    out(str(row_id))
    return 0


async def list_scheduled(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
        user = await d.resolve_user(s, args.user)
        entries = await d.scheduled_view(s, user, include_ended=args.all)
    table = [
        (
            e.scheduled.id,
            e.scheduled.activity,
            f"{activity_name(e.scheduled.activity, 'fi')} / "
            f"{activity_name(e.scheduled.activity, 'en')}",
            e.colour,
            d.format_local(e.scheduled.starts_at),
            d.format_local(e.scheduled.ends_at),
            e.state,
        )
        for e in entries
    ]
    out(format_table(("ID", "ACT", "NAME", "COLOUR", "START", "END", "STATE"), table))
    return 0


async def unschedule_activity(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        deleted = args.id > 0 and await d.delete_scheduled_activity(s, args.id)
    if not deleted:
        raise CliError(f"no scheduled activity with id {args.id}")
    out(f"deleted scheduled activity {args.id}")
    return 0


async def show_presence(args: argparse.Namespace, rt: Runtime) -> int:
    at = parse_timestamp("--at", args.at) if args.at else datetime.now(UTC)
    async with rt.sessions() as s:
        view = await d.presence_view(s, await d.resolve_user(s, args.user), at)
    p, current = view.presence, view.in_effect
    colour = (
        view.colour(p.activity)
        if p.red_until is None
        else f"red until {d.format_local(p.red_until)}"
    )
    print_fields(
        [
            user_field(view.user, view.organization),
            ("at", d.format_local(view.at)),
            ("activity", f"{activity_label(p.activity)} ({colour})"),
            (
                "manual",
                f"{activity_label(p.manual_activity)} ({view.colour(p.manual_activity)})",
            ),
            (
                "scheduled",
                "-"
                if current is None
                else f"{activity_label(current.activity)}, {d.format_local(current.starts_at)}"
                f" - {d.format_local(current.ends_at)} (id {current.id})",
            ),
            ("role", role_label(p.role)),
            immediate_field(p.immediate_forward),
        ]
    )
    print_activity_forwards(p.activity_forwards)
    return 0
