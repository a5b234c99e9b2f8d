"""Who of a service number's members is offered a waiting call, and what happens when
nobody answers in time. Pure: facts in, decisions out.

- Only logged-in members are offered calls, and only members not already in a queue call
  vipcall knows of (ringing for another waiting caller, or connected through a service
  number). Direct calls to a member are not affected (they are routed as usual).
- ``ring_all``: every free member rings at once, for the member ring time; then again
  while the caller may still wait.
- ``longest_idle``: one member at a time, each for the member ring time, the member idle
  the longest first (idle since the end of their last service-number call, or since they
  logged in, whichever is later; never had a call and logged in earliest = longest idle).
  When every free member has been tried, the round starts again.
- Past the maximum wait the caller overflows: to another number, a user's voicemail, or an
  announcement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from vipcall.presence.forwarding import OPEN, DialPolicy, destination_refusal
from vipcall.routing.decisions import Announce, Cause, Decision, Pstn, Ring, Voicemail


class Strategy(StrEnum):
    RING_ALL = "ring_all"
    LONGEST_IDLE = "longest_idle"


class OverflowKind(StrEnum):
    NUMBER = "number"
    VOICEMAIL = "voicemail"
    ANNOUNCEMENT = "announcement"


#: The prompt an announcement overflow plays when the service number names none.
DEFAULT_OVERFLOW_PROMPT = "service-number-busy"
#: Voicemail reason of a caller who overflowed to a user's voicemail.
OVERFLOW_VOICEMAIL = "service-number-overflow"


@dataclass(frozen=True, slots=True)
class Overflow:
    kind: OverflowKind = OverflowKind.ANNOUNCEMENT
    target: str | None = None
    """E.164 number (``number``), user id (``voicemail``), prompt id (``announcement``,
    ``None``: :data:`DEFAULT_OVERFLOW_PROMPT`)."""


@dataclass(frozen=True, slots=True)
class QueueSettings:
    strategy: Strategy = Strategy.RING_ALL
    member_ring_seconds: int = 20
    max_wait_seconds: int = 120
    overflow: Overflow = Overflow()
    dial_policy: DialPolicy = OPEN
    announce_position: bool = False


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    logged_in: bool = True
    busy: bool = False
    """In a queue call vipcall knows of (ringing for one, or connected)."""
    last_call_end: datetime | None = None
    logged_in_at: datetime | None = None

    @property
    def idle_since(self) -> datetime | None:
        known = [t for t in (self.last_call_end, self.logged_in_at) if t is not None]
        return max(known) if known else None


def free_members(members: Iterable[Member]) -> list[Member]:
    """The members a queue call may be offered to now."""
    return [m for m in members if m.logged_in and not m.busy]


def idle_order(members: Iterable[Member]) -> list[Member]:
    """Longest idle first (no known idle time counts as idle forever); ties by user id."""
    return sorted(
        members,
        key=lambda m: (m.idle_since is not None, m.idle_since or datetime.min, m.user_id),
    )


@dataclass(frozen=True, slots=True)
class Offer:
    """Ring these members now; ``tried`` is the round's members so far (hunt)."""

    user_ids: tuple[int, ...]
    tried: frozenset[int]


def next_offer(
    settings: QueueSettings, members: Sequence[Member], tried: frozenset[int] = frozenset()
) -> Offer | None:
    """Whom to ring next for a waiting caller; ``None``: nobody free now (keep waiting)."""
    free = free_members(members)
    if not free:
        return None
    if settings.strategy == Strategy.RING_ALL:
        return Offer(tuple(m.user_id for m in idle_order(free)), frozenset())
    ordered = idle_order(free)
    fresh = [m for m in ordered if m.user_id not in tried]
    if not fresh:  # everyone free has had their turn: a new round
        tried = frozenset()
        fresh = ordered
    first = fresh[0].user_id
    return Offer((first,), tried | {first})


def waited_too_long(entered_at: datetime, now: datetime, settings: QueueSettings) -> bool:
    return now - entered_at >= timedelta(seconds=settings.max_wait_seconds)


def seconds_left(entered_at: datetime, now: datetime, settings: QueueSettings) -> float:
    """Seconds the caller may still wait (never below zero)."""
    left = timedelta(seconds=settings.max_wait_seconds) - (now - entered_at)
    return max(0.0, left.total_seconds())


def ring_seconds(entered_at: datetime, now: datetime, settings: QueueSettings) -> int:
    """How long the next offer rings: the member ring time, cut to the wait left (at least
    one second)."""
    left = seconds_left(entered_at, now, settings)
    return max(1, min(settings.member_ring_seconds, int(left + 0.999)))


def overflow_decision(overflow: Overflow, policy: DialPolicy = OPEN) -> Decision:
    """Where a caller goes after the maximum wait. A number the organisation's ``policy``
    no longer lets the service call gets the default announcement instead."""
    match overflow.kind:
        case OverflowKind.NUMBER if overflow.target and (
            destination_refusal(overflow.target, policy) is None
        ):
            return Ring((Pstn(overflow.target),), 0)
        case OverflowKind.VOICEMAIL if overflow.target and overflow.target.isdigit():
            return Voicemail(int(overflow.target), reason=OVERFLOW_VOICEMAIL)
        case _:
            prompt = (
                overflow.target
                if overflow.kind == OverflowKind.ANNOUNCEMENT and overflow.target
                else DEFAULT_OVERFLOW_PROMPT
            )
            return Announce(prompt, Cause.NORMAL)


def queue_position(entered: Sequence[tuple[datetime, int]], me: int) -> int:
    """1-based position of call ``me`` among the waiting calls ``(entered_at, id)``."""
    order = sorted(entered)
    for i, (_, call_id) in enumerate(order, start=1):
        if call_id == me:
            return i
    return len(order) + 1


def first_in_line(waiting: Sequence[tuple[datetime, int]], me: int) -> bool:
    """Fairness: a free member is offered to the caller who has waited the longest of those
    not being offered now (``waiting``)."""
    return not waiting or min(waiting)[1] == me
