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
    own: Collection[str], target: str, next_hop: Mapping[str, str]
) -> Refusal | None:
    """Why forwarding a user whose numbers are ``own`` to ``target`` (E.164) is refused, or
    ``None`` when it is allowed.

    ``next_hop`` maps a number to where its owner forwards immediately; following it from
    the target back to one of ``own`` is a loop (A -> B -> A, or longer).
    """
    if numbers.is_premium_or_shared_cost(target):
        return Refusal.PREMIUM_OR_SHARED_COST
    if target in own:
        return Refusal.OWN_NUMBER
    current = target
    for _ in range(MAX_HOPS):
        nxt = next_hop.get(current)
        if nxt is None:
            return None
        if nxt in own:
            return Refusal.LOOP
        current = nxt
    return Refusal.LOOP  # a chain this long is as good as a loop
