"""``vipcall org create|list|set-red|set-voicemail-limits``: organisations."""

from __future__ import annotations

import argparse

from vipcall import directory as d
from vipcall.cli.common import CliError, Commands, Runtime, format_table, out
from vipcall.db.engine import transaction
from vipcall.presence.model import ACTIVITY_MAX, ACTIVITY_MIN


def parse_activity_list(raw: str) -> list[int]:
    """``2,3,4,5,6`` -> [2, 3, 4, 5, 6] (see :func:`vipcall.directory.parse_red_activities`);
    errors start ``red activities: ...``."""
    try:
        return d.parse_red_activities(raw)
    except d.InvalidField as exc:
        raise CliError(f"red activities: {exc.message}") from None


def register(commands: Commands) -> None:
    org = commands.add_parser("org", help="organisations")
    actions = org.add_subparsers(dest="org_command", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create an organisation")
    create.add_argument("--name", required=True)
    create.add_argument("--domain", required=True)
    create.add_argument("--switchboard", help="switchboard number")
    create.add_argument("--customer-service", help="customer service number")
    create.add_argument("--language", default="fi", choices=("fi", "en"))
    create.set_defaults(handler=create_org)

    actions.add_parser("list", help="list organisations").set_defaults(handler=list_orgs)

    red = actions.add_parser(
        "set-red",
        help="set which activities are red (not reachable) in the organisation",
        description=f"Set which activities ({ACTIVITY_MIN}..{ACTIVITY_MAX}) are red in the "
        "organisation, e.g. 2,3,4,5,6 (the default). Numbers are comma-separated, no "
        "duplicates; '' or 'none' makes every activity green.",
    )
    red.add_argument("domain", metavar="DOMAIN")
    red.add_argument("activities", metavar="LIST", help="comma-separated, e.g. 2,3,4,5,6")
    red.set_defaults(handler=set_red)

    fraud = actions.add_parser(
        "set-dial-policy",
        help="limit where the service may call on users' behalf (toll-fraud guard)",
        description="Limit the destinations of forwarding, transfer, the greeting's and the "
        "absence notice's key 1 and service-number overflow (premium-rate and shared-cost "
        "numbers are always refused). --allow: ISO country codes, e.g. FI,SE,EE, or 'any' "
        "(the default); --deny: number prefixes never called, e.g. +3587001,00882, or 'none'.",
    )
    fraud.add_argument("domain", metavar="DOMAIN")
    fraud.add_argument("--allow", metavar="COUNTRIES", default="any")
    fraud.add_argument("--deny", metavar="PREFIXES", default="none")
    fraud.set_defaults(handler=set_dial_policy)

    limits = actions.add_parser(
        "set-voicemail-limits",
        help="set the organisation's mailbox limits",
        description="Set any of the organisation's voicemail limits (positive whole numbers); "
        "the others stay. Defaults: 180 s a message, 100 messages a mailbox, unheard messages "
        "kept 28 days, heard ones 29 days.",
    )
    limits.add_argument("domain", metavar="DOMAIN")
    limits.add_argument("--max-seconds", metavar="S", help="longest message, in seconds")
    limits.add_argument("--max-messages", metavar="N", help="messages a mailbox holds")
    limits.add_argument("--keep-unheard-days", metavar="D", help="days unheard messages are kept")
    limits.add_argument("--keep-heard-days", metavar="D", help="days heard messages are kept")
    limits.set_defaults(handler=set_voicemail_limits)


async def create_org(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        org = await d.create_organization(
            s,
            name=args.name,
            domain=args.domain,
            switchboard_number=args.switchboard,
            customer_service_number=args.customer_service,
            language=args.language,
        )
    out(f"created organisation {org.domain} ({org.name}), id {org.id}")
    return 0


async def list_orgs(args: argparse.Namespace, rt: Runtime) -> int:
    async with rt.sessions() as s:
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
    out(format_table(("ID", "DOMAIN", "NAME", "SWITCHBOARD", "LANG", "RED", "USERS"), rows))
    return 0


async def set_red(args: argparse.Namespace, rt: Runtime) -> int:
    wanted = parse_activity_list(args.activities)
    async with transaction(rt.sessions) as s:
        org = await d.get_organization(s, args.domain)
        await d.set_red_activities(s, org, wanted)
        red = list(org.red_activities)
        domain = org.domain
    green = d.green_activities(red)
    out(f"{domain}: red {','.join(map(str, red)) or '-'}; green {','.join(map(str, green)) or '-'}")
    return 0


async def set_dial_policy(args: argparse.Namespace, rt: Runtime) -> int:
    countries = d.parse_countries(args.allow)
    prefixes = d.parse_prefixes(args.deny)
    async with transaction(rt.sessions) as s:
        org = await d.get_organization(s, args.domain)
        await d.set_dial_policy(s, org, allowed_countries=countries, denied_prefixes=prefixes)
        domain = org.domain
    allowed = ",".join(countries) if countries is not None else "any country"
    out(f"{domain}: calls allowed to {allowed}; denied prefixes {','.join(prefixes) or '-'}")
    return 0


#: Which option a service-layer field error of ``set-voicemail-limits`` is about.
LIMIT_OPTIONS = {
    "max_message_seconds": "--max-seconds",
    "max_messages": "--max-messages",
    "keep_unheard_days": "--keep-unheard-days",
    "keep_heard_days": "--keep-heard-days",
}


async def set_voicemail_limits(args: argparse.Namespace, rt: Runtime) -> int:
    given = (args.max_seconds, args.max_messages, args.keep_unheard_days, args.keep_heard_days)
    if all(value is None for value in given):
        raise CliError(
            "org set-voicemail-limits: nothing to change (give --max-seconds, --max-messages, "
            "--keep-unheard-days or --keep-heard-days)"
        )
    async with transaction(rt.sessions) as s:
        org = await d.get_organization(s, args.domain)
        try:
            limits = await d.set_voicemail_limits(
                s,
                org,
                max_message_seconds=args.max_seconds,
                max_messages=args.max_messages,
                keep_unheard_days=args.keep_unheard_days,
                keep_heard_days=args.keep_heard_days,
            )
        except d.InvalidField as exc:
            option = LIMIT_OPTIONS.get(exc.field or "", exc.field)
            raise CliError(f"{option}: {exc.message}") from None
        domain = org.domain
    out(
        f"{domain}: voicemail limits: message at most {limits.max_message_seconds} s, "
        f"{limits.max_messages} messages, unheard kept {limits.keep_unheard_days} days, "
        f"heard {limits.keep_heard_days} days"
    )
    return 0
