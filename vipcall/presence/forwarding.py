"""Which forwarding targets are refused, and why.

The same rule guards setting a forwarding (feature code, CLI, home page) and placing a
forwarded call, so a target that became a loop after it was set is still caught.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum

from vipcall import numbers

#: Forwarding hops followed when looking for a loop.
MAX_HOPS = 10


class Refusal(StrEnum):
    """Why a forwarding target is refused (the values are the prompt's reason ids)."""

    INVALID_NUMBER = "invalid-number"
    PREMIUM_OR_SHARED_COST = "premium-or-shared-cost"
    OWN_NUMBER = "own-number"
    LOOP = "loop"


def forward_refusal(
    own: Collection[str], target: str, next_hops: Mapping[str, Collection[str]]
) -> Refusal | None:
    """Why forwarding a user whose numbers are ``own`` to ``target`` (E.164) is refused, or
    ``None`` when it is allowed.

    ``next_hops`` maps a number to the targets its owner forwards to (immediately or bound to
    any activity: an activity can be switched on at any time). Reaching one of ``own`` by
    following them from the target is a loop (A -> B -> A, or longer).
    """
    if numbers.is_premium_or_shared_cost(target):
        return Refusal.PREMIUM_OR_SHARED_COST
    if target in own:
        return Refusal.OWN_NUMBER
    return Refusal.LOOP if _loops(own, target, next_hops, frozenset({target})) else None


def _loops(
    own: Collection[str],
    number: str,
    next_hops: Mapping[str, Collection[str]],
    path: frozenset[str],
) -> bool:
    """True when following forwardings from ``number`` comes back to the user, goes round a
    cycle of other users (the call would circle forever) or runs longer than MAX_HOPS."""
    if len(path) > MAX_HOPS:
        return True
    for nxt in next_hops.get(number, ()):
        if nxt in own or nxt in path or _loops(own, nxt, next_hops, path | {nxt}):
            return True
    return False
