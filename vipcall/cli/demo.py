"""``vipcall demo``: the demo organisation (idempotent)."""

from __future__ import annotations

import argparse

from vipcall import directory as d
from vipcall.cli.common import Commands, Runtime, format_table, out
from vipcall.db.engine import transaction


def register(commands: Commands) -> None:
    demo = commands.add_parser("demo", help="create the demo organisation (idempotent)")
    demo.set_defaults(handler=ensure_demo)


async def ensure_demo(args: argparse.Namespace, rt: Runtime) -> int:
    async with transaction(rt.sessions) as s:
        demo = await d.ensure_demo(s)
    org = demo.organization
    state = "created" if demo.created else "already present"
    out(f"demo organisation {org.domain} ({org.name}): {state}")
    out(
        format_table(
            ("USERNAME", "NAME", "MOBILE", "LANDLINE"),
            [(u.username, u.display_name, u.mobile_number, u.landline_number) for u in demo.users],
        )
    )
    for phone in demo.softphones:
        out(f"softphone {phone.sip_username} password {phone.sip_password}")
    return 0
