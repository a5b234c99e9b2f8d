"""Why a channel entered the Stasis app, parsed from its ``Stasis()`` arguments
(``dialplan/extensions.conf``) into a typed entry."""

from __future__ import annotations

from dataclasses import dataclass

from vipcall.routing.snapshot import Trunk


@dataclass(frozen=True, slots=True)
class NewCallEntry:
    """``in,<trunk>[,<softphone endpoint>[,<Diversion>,<History-Info>]]``: a call just
    entered the service. The headers are as the trunk sent them, commas written ``|``."""

    trunk: Trunk
    softphone: str | None = None
    diversion: str | None = None
    history_info: str | None = None


@dataclass(frozen=True, slots=True)
class UnansweredEntry:
    """``dialed,<DIALSTATUS>,<user id>,<called>``: the dialplan rang the targets and nobody
    answered; the channel is back with us."""

    dial_status: str
    user_id: int | None
    called: str | None


@dataclass(frozen=True, slots=True)
class TransferEntry:
    """``transfer,<E.164 target>,<user id>``: the user keyed ``*#*1`` number ``#`` and the
    other party of their call is sent here (``[vipcall-transfer]``) to be connected to the
    target as a new call from that user."""

    target: str
    user_id: int


@dataclass(frozen=True, slots=True)
class QueuedEntry:
    """``queued,<id>``: a service-number call (``service_number_calls`` row ``id``) a
    restarted app takes over (:func:`vipcall.servicenumbers.flow.take_over`)."""

    call_id: int

    TAG = "queued"


@dataclass(frozen=True, slots=True)
class UnknownEntry:
    args: tuple[str, ...]


Entry = NewCallEntry | UnansweredEntry | TransferEntry | QueuedEntry | UnknownEntry


def parse_entry(args: list[str]) -> Entry:
    match args:
        case ["in", trunk, *rest] if trunk in Trunk.__members__.values():
            softphone = rest[0] if rest and rest[0] and trunk == Trunk.SOFTPHONE else None
            diversion = rest[1] if len(rest) > 1 and rest[1] else None
            history = rest[2] if len(rest) > 2 and rest[2] else None
            return NewCallEntry(Trunk(trunk), softphone, diversion, history)
        case ["dialed", status, user, *rest]:
            called = rest[0] if rest and rest[0] else None
            user_id = int(user) if user.isdigit() else None
            return UnansweredEntry(status, user_id, called)
        case ["transfer", target, user] if target.startswith("+") and user.isdigit():
            return TransferEntry(target, int(user))
        case ["queued", call_id] if call_id.isdigit():
            return QueuedEntry(int(call_id))
        case _:
            return UnknownEntry(tuple(args))


def is_new_call(args: list[str]) -> bool:
    """True for a call nobody has decided on yet (it may fail open to the user's phone)."""
    return args[:1] == ["in"]


def is_ours(args: list[str]) -> bool:
    """True for the entries a restarted app takes over while they still ring."""
    return args[:1] in (["in"], ["dialed"])
