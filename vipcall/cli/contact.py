"""``vipcall contact add|edit|delete|list|vip|vips|search``: a user's personal contacts, the
VIP list (colleagues and personal contacts whose calls bypass the absence notice) and the
organisation directory search."""

from __future__ import annotations

import argparse

from vipcall import directory as d
from vipcall.cli.common import USER_HELP, CliError, Commands, Runtime, add_user, format_table, out
from vipcall.db.engine import transaction
from vipcall.db.models import Contact


def parse_on_off(option: str, raw: str) -> bool:
    """``on`` -> True, ``off`` -> False; anything else is a one-line error naming ``option``."""
    value = raw.strip().lower()
    if value in ("on", "off"):
        return value == "on"
    raise CliError(f"{option}: {raw!r} is not on or off")


def register(commands: Commands) -> None:
    contact = commands.add_parser("contact", help="personal contacts and VIP lists")
    actions = contact.add_subparsers(dest="contact_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="save a personal external contact of a user")
    add_user(add)
    add.add_argument("--name", required=True)
    add.add_argument("--number", required=True, help="any spelling, stored as E.164")
    add.add_argument("--vip", action="store_true", help="mark the contact VIP")
    add.set_defaults(handler=add_contact)

    edit = actions.add_parser("edit", help="change a contact's name or number")
    edit.add_argument("contact_id", metavar="ID")
    edit.add_argument("--name")
    edit.add_argument("--number")
    edit.set_defaults(handler=edit_contact)

    delete = actions.add_parser("delete", help="delete a contact")
    delete.add_argument("contact_id", metavar="ID")
    delete.set_defaults(handler=delete_contact)

    listing = actions.add_parser("list", help="a user's personal contacts")
    add_user(listing)
    listing.set_defaults(handler=list_contacts)

    vip = actions.add_parser(
        "vip",
        help="mark or unmark a personal contact (ID) or a colleague (--colleague) VIP",
        description="vip USER ID on|off  (a personal contact of USER)  or  "
        "vip USER --colleague USER2 on|off  (a user of the same organisation)",
    )
    add_user(vip)
    vip.add_argument("contact_id", metavar="ID", nargs="?", help="a personal contact's id")
    vip.add_argument("state", metavar="on|off")
    vip.add_argument("--colleague", metavar="USER2", help=USER_HELP)
    vip.set_defaults(handler=set_vip)

    vips = actions.add_parser("vips", help="a user's VIP list with the numbers that match")
    add_user(vips)
    vips.set_defaults(handler=list_vips)

    search = actions.add_parser(
        "search", help="search the organisation directory (users) by name or number"
    )
    search.add_argument("--org", required=True, metavar="DOMAIN")
    search.add_argument("query", metavar="TEXT")
    search.set_defaults(handler=search_directory)


def _describe(c: Contact) -> str:
    return f"{c.name} {c.number}" + (" (VIP)" if c.is_vip else "")


async def add_contact(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        user = await d.resolve_user(s, args.user)
        c = await d.add_contact(s, user, name=args.name, number=args.number, vip=args.vip)
    out(f"{user.username}: added contact {c.id}: {_describe(c)}")
    return 0


async def edit_contact(args: argparse.Namespace, rt: Runtime) -> int:
    if args.name is None and args.number is None:
        raise CliError("contact edit: give --name and/or --number")
    async with transaction(rt.sessions) as s:
        c = await d.edit_contact(s, args.contact_id, name=args.name, number=args.number)
    out(f"contact {c.id}: {_describe(c)}")
    return 0


async def delete_contact(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        c = await d.delete_contact(s, args.contact_id)
    out(f"deleted contact {c.id}: {c.name} {c.number}")
    return 0


async def list_contacts(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
        user = await d.resolve_user(s, args.user)
        contacts = await d.list_contacts(s, user)
    rows = [(c.id, c.name, c.number, "yes" if c.is_vip else "no") for c in contacts]
    out(format_table(("ID", "NAME", "NUMBER", "VIP"), rows))
    return 0


async def set_vip(args: argparse.Namespace, rt: Runtime) -> int:
    on = parse_on_off("vip", args.state)
    if (args.contact_id is None) == (args.colleague is None):
        raise CliError("contact vip: give either a contact ID or --colleague USER2")
    async with transaction(rt.sessions) as s:
        user = await d.resolve_user(s, args.user)
        if args.colleague is not None:
            other = await d.set_colleague_vip(s, user, args.colleague, on)
            what = f"colleague {other.username} ({other.display_name})"
        else:
            c = await d.set_contact_vip(s, user, args.contact_id, on)
            what = f"contact {c.id} ({c.name} {c.number})"
    out(f"{user.username}: {what} {'is' if on else 'is no longer'} VIP")
    return 0


async def list_vips(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
        user = await d.resolve_user(s, args.user)
        entries = await d.vip_list(s, user)
    rows = [
        (
            e.kind,
            e.ref,
            e.name if e.username is None else f"{e.name} ({e.username})",
            ", ".join(e.numbers),
        )
        for e in entries
    ]
    out(format_table(("KIND", "ID", "NAME", "NUMBERS"), rows))
    return 0


async def search_directory(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
        users = await d.search_directory(s, args.org, args.query)
    rows = [(u.id, u.username, u.display_name, u.mobile_number, u.landline_number) for u in users]
    out(format_table(("ID", "USERNAME", "NAME", "MOBILE", "LANDLINE"), rows))
    return 0
