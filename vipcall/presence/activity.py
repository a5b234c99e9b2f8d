"""Which activity is in effect, and until when a user stays red. Pure.

* The activity a user sets by hand (983n, the activity number, the CLI, the home page) is
  the *manual* activity.
* A scheduled activity overrides it while ``starts_at <= now < ends_at``; when several
  overlap, the latest-starting one wins. After it ends the user is back at the manual one.

These functions are the one home of that rule: the call path (the routing snapshot), the
service layer's presence view and the CLI all call them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar


class Scheduled(Protocol):
    """A scheduled activity: a database row or a :class:`Period` alike."""

    @property
    def activity(self) -> int: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


S = TypeVar("S", bound=Scheduled)


@dataclass(frozen=True, slots=True)
class Period:
    """A scheduled activity as the call path carries it."""

    activity: int
    starts_at: datetime
    ends_at: datetime


def scheduled_in_effect(scheduled: Iterable[S], now: datetime) -> S | None:
    """The scheduled activity in effect at ``now`` (the latest start wins), or ``None``.

    Ties on the start go to the one listed last (rows come ordered by id: the newest)."""
    best: S | None = None
    for s in scheduled:
        if s.starts_at <= now < s.ends_at and (best is None or s.starts_at >= best.starts_at):
            best = s
    return best


def activity_in_effect(manual: int, scheduled: Iterable[Scheduled], now: datetime) -> int:
    """The activity in effect at ``now``: a scheduled one if any, else the manual one."""
    current = scheduled_in_effect(scheduled, now)
    return current.activity if current is not None else manual


def red_chain_end(
    scheduled: Sequence[Scheduled], red: Collection[int], now: datetime
) -> datetime | None:
    """If a red scheduled activity is in effect at ``now``, the end of the chain of
    consecutive (touching or overlapping) red scheduled activities starting with it: the
    time the greeting says the user is away "until"."""
    current = scheduled_in_effect(scheduled, now)
    if current is None or current.activity not in red:
        return None
    end = current.ends_at
    extended = True
    while extended:
        extended = False
        for s in scheduled:
            if s.activity in red and s.starts_at <= end < s.ends_at:
                end = s.ends_at
                extended = True
    return end


def schedule_state(row: Scheduled, now: datetime, in_effect: Scheduled | None) -> str:
    """How a scheduled activity stands at ``now``: ``in effect``, ``upcoming``, ``ended`` or
    ``overridden`` (started, but a later-starting one is in effect)."""
    if in_effect is not None and row is in_effect:
        return "in effect"
    if row.ends_at <= now:
        return "ended"
    if row.starts_at <= now:
        return "overridden"
    return "upcoming"
