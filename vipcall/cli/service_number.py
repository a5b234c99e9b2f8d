"""``vipcall service-number create|list|show|add-member|remove-member|login|logout``:
service numbers (switchboard, customer service, group), their members and who is logged in.

SERVICE is a service number's id or its number in any spelling."""

from __future__ import annotations

import argparse

from vipcall.cli.common import USER_HELP, Commands, Runtime, format_table, out, print_fields
from vipcall.db.engine import transaction
from vipcall.db.models import (
    SERVICE_NUMBER_KINDS,
    SERVICE_NUMBER_OVERFLOWS,
    SERVICE_NUMBER_STRATEGIES,
    ServiceNumber,
)
from vipcall.directory import servicenumbers as sn

SERVICE_HELP = "the service number's id or its number"


def register(commands: Commands) -> None:
    noun = commands.add_parser("service-number", help="switchboard, customer service, groups")
    actions = noun.add_subparsers(dest="sn_command", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create a service number")
    create.add_argument("--org", required=True, metavar="DOMAIN")
    create.add_argument("--number", required=True, help="any spelling, stored as E.164")
    create.add_argument("--kind", required=True, help=" | ".join(SERVICE_NUMBER_KINDS))
    create.add_argument("--name", required=True)
    create.add_argument(
        "--strategy", default="ring_all", help=" | ".join(SERVICE_NUMBER_STRATEGIES)
    )
    create.add_argument("--ring-seconds", default="20", help="each member rings this long")
    create.add_argument("--max-wait", default="120", help="seconds before the overflow")
    create.add_argument(
        "--overflow", default="announcement", help=" | ".join(SERVICE_NUMBER_OVERFLOWS)
    )
    create.add_argument(
        "--overflow-target",
        help="number (overflow number), USER (voicemail) or a prompt id (announcement)",
    )
    create.add_argument(
        "--announce-position", action="store_true", help="tell callers their place in line"
    )
    create.set_defaults(handler=create_service_number)

    listing = actions.add_parser("list", help="service numbers")
    listing.add_argument("--org", metavar="DOMAIN")
    listing.set_defaults(handler=list_service_numbers)

    show = actions.add_parser("show", help="a service number's settings and members")
    show.add_argument("service", metavar="SERVICE", help=SERVICE_HELP)
    show.set_defaults(handler=show_service_number)

    for name, handler, what in (
        ("add-member", add_member, "make a user a member (logged in)"),
        ("remove-member", remove_member, "remove a member"),
        ("login", login, "log a member in (offered calls)"),
        ("logout", logout, "log a member out (no calls offered)"),
    ):
        p = actions.add_parser(name, help=what)
        p.add_argument("service", metavar="SERVICE", help=SERVICE_HELP)
        p.add_argument("user", metavar="USER", help=USER_HELP)
        p.set_defaults(handler=handler)


def _describe(s: ServiceNumber) -> str:
    return f"service number {s.id}: {s.number} {s.kind} {s.name!r}"


def _overflow(s: ServiceNumber) -> str:
    return s.overflow_kind + (f" {s.overflow_target}" if s.overflow_target else "")


async def create_service_number(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        created = await sn.create_service_number(
            s,
            args.org,
            number=args.number,
            kind=args.kind,
            name=args.name,
            strategy=args.strategy,
            member_ring_seconds=args.ring_seconds,
            max_wait_seconds=args.max_wait,
            overflow=args.overflow,
            overflow_target=args.overflow_target,
            announce_position=args.announce_position,
        )
        codes = f"log in by phone: 9851{created.id}, out: 9850{created.id}"
        out(f"created {_describe(created)} ({codes})")
    return 0


async def list_service_numbers(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
        found = await sn.list_service_numbers(s, args.org)
        rows = [
            (
                x.id, x.number, x.kind, x.name, x.strategy, x.member_ring_seconds,
                x.max_wait_seconds, _overflow(x),
                f"{sum(m.logged_in for m in x.members)}/{len(x.members)}",
            )
            for x in found
        ]  # fmt: skip
    headers = ("ID", "NUMBER", "KIND", "NAME", "STRATEGY", "RING", "MAX WAIT", "OVERFLOW", "IN")
    out(format_table(headers, rows))
    return 0


async def show_service_number(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
        x = await sn.get_service_number(s, args.service)
        members = await sn.members_of(s, x)
    print_fields(
        [
            ("service number", f"{x.id} {x.number}"),
            ("kind", x.kind),
            ("name", x.name),
            ("strategy", x.strategy),
            ("member rings", f"{x.member_ring_seconds} s"),
            ("maximum wait", f"{x.max_wait_seconds} s"),
            ("overflow", _overflow(x)),
            ("announce position", "yes" if x.announce_position else "no"),
            ("feature codes", f"log in 9851{x.id}, log out 9850{x.id}"),
        ]
    )
    rows = [(u.id, u.username, u.display_name, "in" if li else "out") for u, li in members]
    out(format_table(("USER", "USERNAME", "NAME", "LOGGED"), rows))
    return 0


async def add_member(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        member = await sn.add_member(s, args.service, args.user)
        x = await sn.get_service_number(s, member.service_number_id)
    out(f"user {member.user_id} is a member of {_describe(x)} (logged in)")
    return 0


async def remove_member(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        await sn.remove_member(s, args.service, args.user)
    out(f"{args.user} is no longer a member of service number {args.service}")
    return 0


async def _log(args: argparse.Namespace, rt: Runtime, logged_in: bool) -> int:
    async with transaction(rt.sessions) as s:
        changed = await sn.set_logged_in(s, args.service, args.user, logged_in)
    state = "logged in to" if logged_in else "logged out of"
    already = "" if changed else "already "
    out(f"{args.user} {already}{state} service number {args.service}")
    return 0


async def login(args: argparse.Namespace, rt: Runtime) -> int:
    return await _log(args, rt, True)


async def logout(args: argparse.Namespace, rt: Runtime) -> int:
    return await _log(args, rt, False)
