"""Why a channel entered the Stasis app, parsed from its ``Stasis()`` arguments
(``dialplan/extensions.conf``) into a typed entry."""

from __future__ import annotations

from dataclasses import dataclass

from vipcall.routing.snapshot import Trunk


@dataclass(frozen=True, slots=True)
class NewCallEntry:
    """``in,<trunk>[,<softphone endpoint>]``: a call just entered the service."""

    trunk: Trunk
    softphone: str | None = None


@dataclass(frozen=True, slots=True)
class UnansweredEntry:
    """``dialed,<DIALSTATUS>,<user id>,<called>``: the dialplan rang the targets and nobody
    answered; the channel is back with us."""

    dial_status: str
    user_id: int | None
    called: str | None


@dataclass(frozen=True, slots=True)
class UnknownEntry:
    args: tuple[str, ...]


Entry = NewCallEntry | UnansweredEntry | UnknownEntry


def parse_entry(args: list[str]) -> Entry:
    match args:
        case ["in", trunk, *rest] if trunk in Trunk.__members__.values():
            softphone = rest[0] if rest and rest[0] and trunk == Trunk.SOFTPHONE else None
            return NewCallEntry(Trunk(trunk), softphone)
        case ["dialed", status, user, *rest]:
            called = rest[0] if rest and rest[0] else None
            user_id = int(user) if user.isdigit() else None
            return UnansweredEntry(status, user_id, called)
        case _:
            return UnknownEntry(tuple(args))


def is_new_call(args: list[str]) -> bool:
    """True for a call nobody has decided on yet (it may fail open to the user's phone)."""
    return args[:1] == ["in"]


def is_ours(args: list[str]) -> bool:
    """True for the entries a restarted app takes over while they still ring."""
    return args[:1] in (["in"], ["dialed"])
