"""``vipcall voicemail show|set|pin|greeting|name``: a user's voicemail settings, mailbox
PIN, recorded greeting and recorded name."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vipcall import directory as d
from vipcall.cli.common import CliError, Commands, Runtime, add_user, out, print_fields, user_field
from vipcall.cli.contact import parse_on_off
from vipcall.db.engine import transaction
from vipcall.db.models import NOTIFY_BY, Organization, User
from vipcall.directory.voicemail import AudioKind
from vipcall.voicemail.limits import MailboxLimits

#: ``voicemail set`` options that are on|off, and the setting each one changes.
ON_OFF_OPTIONS: Mapping[str, str] = {
    "--announce-activity": "announce_activity",
    "--announce-end-time": "announce_end_time",
    "--key2": "offer_bypass",
    "--absence-key1": "offer_customer_service",
    "--notice-on-scheduled-red": "notice_on_scheduled_red",
    "--repeat-callers": "repeat_breakthrough",
}
#: Which option a service-layer field error is about.
FIELD_OPTIONS: Mapping[str, str] = {
    "notify_by": "--notify",
    "transfer_target": "--key1",
    "offer_transfer": "--key1",
    "customer_service_number": "--customer-service",
    "offer_customer_service": "--absence-key1",
    "repeat_calls": "--repeat-calls",
    "repeat_minutes": "--repeat-minutes",
    **{setting: option for option, setting in ON_OFF_OPTIONS.items()},
}
NONE_WORDS = ("none", "off", "-", "")


def register(commands: Commands) -> None:
    vm = commands.add_parser("voicemail", help="voicemail settings, PIN, greeting and name")
    actions = vm.add_subparsers(dest="voicemail_command", metavar="ACTION", required=True)

    show = actions.add_parser("show", help="a user's voicemail settings")
    add_user(show)
    show.set_defaults(handler=show_settings)

    set_ = actions.add_parser(
        "set",
        help="change voicemail settings",
        description="Change any of a user's voicemail settings; the others stay. Numbers are "
        "refused like forwarding targets (invalid, premium-rate/shared-cost, own number).",
    )
    add_user(set_)
    set_.add_argument("--notify", metavar="|".join(NOTIFY_BY), help="new-message notices by")
    set_.add_argument(
        "--key1", metavar="NUMBER|none", help="greeting key 1: connect to this number"
    )
    set_.add_argument(
        "--customer-service",
        metavar="NUMBER|none",
        help="the customer-service number of the absence notice's key 1",
    )
    for option, setting in ON_OFF_OPTIONS.items():
        set_.add_argument(option, metavar="on|off", dest=setting)
    set_.add_argument("--repeat-calls", metavar="N", help="repeat caller: calls that break through")
    set_.add_argument("--repeat-minutes", metavar="M", help="repeat caller: within M minutes")
    set_.set_defaults(handler=set_settings)

    pin = actions.add_parser("pin", help="set (or with --clear remove) the mailbox PIN")
    add_user(pin)
    pin.add_argument("pin", metavar="PIN", nargs="?", help="4 to 8 digits")
    pin.add_argument("--clear", action="store_true", help="remove the PIN")
    pin.set_defaults(handler=set_pin)

    for kind, what in (("greeting", "the recorded greeting"), ("name", "the recorded name")):
        audio = actions.add_parser(
            kind,
            help=f"store {what} from FILE (WAV 8 kHz mono, else converted by sox) or --delete",
        )
        add_user(audio)
        audio.add_argument("file", metavar="FILE", nargs="?")
        audio.add_argument("--delete", action="store_true", help=f"delete {what}")
        audio.set_defaults(handler=set_audio, kind=kind)


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"


def _number_option(raw: str) -> str | None:
    return None if raw.strip().lower() in NONE_WORDS else raw


def limits_line(limits: MailboxLimits) -> str:
    return (
        f"message at most {limits.max_message_seconds} s, {limits.max_messages} messages, "
        f"unheard kept {limits.keep_unheard_days} days, heard {limits.keep_heard_days} days"
    )


def _notify_line(user: User, prefs: d.VoicemailPrefs) -> str:
    to = {
        "sms": f" (SMS to {user.mobile_number})",
        "email": f" (e-mail to {user.email})",
        "both": f" (SMS to {user.mobile_number}, e-mail to {user.email})",
    }
    return prefs.notify_by + to.get(prefs.notify_by, "")


def _offer(offered: bool, number: str | None) -> str:
    if offered and number:
        return number
    return f"off (number {number})" if number else "off"


def print_settings(
    user: User, org: Organization, prefs: d.VoicemailPrefs, limits: MailboxLimits
) -> None:
    repeat = (
        f"on ({prefs.repeat_calls} calls within {prefs.repeat_minutes} min)"
        if prefs.repeat_breakthrough
        else f"off ({prefs.repeat_calls} calls within {prefs.repeat_minutes} min when on)"
    )
    print_fields(
        [
            user_field(user, org),
            ("notify by", _notify_line(user, prefs)),
            ("announce activity", _on_off(prefs.announce_activity)),
            ("announce end time", _on_off(prefs.announce_end_time)),
            ("key 1 (work matters)", _offer(prefs.offer_transfer, prefs.transfer_target)),
            ("key 2 (ring the user)", _on_off(prefs.offer_bypass)),
            (
                "absence key 1",
                _offer(prefs.offer_customer_service, prefs.customer_service_number),
            ),
            ("notice on scheduled red", _on_off(prefs.notice_on_scheduled_red)),
            ("repeat callers", repeat),
            ("PIN", "set" if prefs.has_pin else "not set"),
            ("greeting", f"{prefs.greeting_mode}" + (" (recorded)" if prefs.has_greeting else "")),
            ("recorded name", "yes" if prefs.has_name else "no"),
            ("mailbox limits", limits_line(limits)),
        ]
    )


async def _show(rt: Runtime, ref: str) -> None:
    async with rt.sessions() as s:
        user = await d.resolve_user(s, ref)
        org = await d.get_organization(s, user.organization_id)
        prefs = await d.get_voicemail_settings(s, user)
    print_settings(user, org, prefs, d.limits_of(org))


async def show_settings(args: argparse.Namespace, rt: Runtime) -> int:
    await _show(rt, args.user)
    return 0


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if args.notify is not None:
        changes["notify_by"] = args.notify
    for option, setting in ON_OFF_OPTIONS.items():
        raw = getattr(args, setting)
        if raw is not None:
            changes[setting] = parse_on_off(option, raw)
    if args.key1 is not None:
        target = _number_option(args.key1)
        changes["transfer_target"] = target
        changes["offer_transfer"] = target is not None
    if args.customer_service is not None:
        changes["customer_service_number"] = _number_option(args.customer_service)
    if args.repeat_calls is not None:
        changes["repeat_calls"] = args.repeat_calls
    if args.repeat_minutes is not None:
        changes["repeat_minutes"] = args.repeat_minutes
    return changes


async def set_settings(args: argparse.Namespace, rt: Runtime) -> int:
    changes = _changes(args)
    if not changes:
        raise CliError("voicemail set: nothing to change (see vipcall voicemail set --help)")
    async with transaction(rt.sessions) as s:
        user = await d.resolve_user(s, args.user)
        try:
            await d.update_voicemail_settings(s, user, **changes)
        except d.ForwardRefused as exc:
            option = FIELD_OPTIONS.get(exc.field or "", exc.field)
            raise CliError(f"{option} refused ({exc.reason}): {exc.message}") from None
        except d.InvalidField as exc:
            option = FIELD_OPTIONS.get(exc.field or "", exc.field)
            raise CliError(f"{option}: {exc.message}") from None
    await _show(rt, args.user)
    return 0


async def set_pin(args: argparse.Namespace, rt: Runtime) -> int:
    if args.clear == (args.pin is not None):
        raise CliError("voicemail pin: give either a PIN or --clear")
    async with transaction(rt.sessions) as s:
        user = await d.resolve_user(s, args.user)
        if args.clear:
            await d.clear_pin(s, user)
        else:
            try:
                await d.set_pin(s, user, args.pin)
            except d.InvalidField as exc:
                raise CliError(f"PIN: {exc.message}") from None
    out(f"{user.username}: PIN {'removed' if args.clear else 'set'}")
    return 0


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None


async def set_audio(args: argparse.Namespace, rt: Runtime) -> int:
    kind: AudioKind = args.kind
    if args.delete == (args.file is not None):
        raise CliError(f"voicemail {kind}: give either FILE or --delete")
    data = None if args.delete else _read(args.file)
    async with transaction(rt.sessions) as s:
        user = await d.resolve_user(s, args.user)
        if data is None:
            deleted = await d.delete_audio(s, user, kind)
            result = f"{kind} deleted" if deleted else f"no {kind} to delete"
        else:
            try:
                stored = await d.set_audio(s, user, kind, data, filename=args.file)
            except d.InvalidField as exc:
                raise CliError(f"{args.file}: {exc.message}") from None
            how = f", converted from {stored.converted_from}" if stored.converted_from else ""
            result = f"{kind} stored ({stored.seconds:.1f} s, WAV 8 kHz mono{how})"
    out(f"{user.username}: {result}")
    return 0
