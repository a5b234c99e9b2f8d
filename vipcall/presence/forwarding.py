"""Forwarding: which forwarding applies, which targets are refused, and why. Pure.

The same refusal rule guards setting a forwarding (feature code, CLI, home page) and placing
a forwarded call, so a target that became a loop after it was set is still caught.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from vipcall import numbers
from vipcall.presence.activity import Period, activity_in_effect

A = TypeVar("A", bound=int)

#: Forwarding hops followed when looking for a loop.
MAX_HOPS = 10


class Refusal(StrEnum):
    """Why a forwarding target is refused (the values are the prompt's reason ids)."""

    INVALID_NUMBER = "invalid-number"
    PREMIUM_OR_SHARED_COST = "premium-or-shared-cost"
    OWN_NUMBER = "own-number"
    LOOP = "loop"
    BLOCKED_DESTINATION = "blocked-destination"


#: Why, in words (CLI, home page, logs); the phone says the prompt named by the value.
REFUSAL_TEXT: Mapping[Refusal, str] = {
    Refusal.INVALID_NUMBER: "{target} is not a valid phone number",
    Refusal.PREMIUM_OR_SHARED_COST: "{target} is a premium-rate or shared-cost number",
    Refusal.OWN_NUMBER: "{target} is the user's own number",
    Refusal.LOOP: "forwarding to {target} would loop back",
    Refusal.BLOCKED_DESTINATION: "{target} is a destination the organisation does not allow",
}


def refusal_text(reason: Refusal, target: str) -> str:
    return REFUSAL_TEXT[reason].format(target=target)


@dataclass(frozen=True, slots=True)
class Forwarding:
    """One stored forwarding: immediate (``activity is None``) or bound to an activity."""

    target: str
    activity: int | None = None


def forwarding_candidates(
    immediate: str | None, by_activity: Mapping[A, str], activity: A
) -> tuple[str, ...]:
    """The forwardings that apply to a user whose activity in effect is ``activity``, in
    precedence order: the immediate forwarding before the one bound to the activity."""
    found = (immediate, by_activity.get(activity))
    return tuple(t for t in found if t is not None)


def split_forwardings(forwardings: Iterable[Forwarding]) -> tuple[str | None, dict[int, str]]:
    """(the immediate target, the targets by activity) of a user's stored forwardings."""
    immediate = None
    by_activity: dict[int, str] = {}
    for f in forwardings:
        if f.activity is None:
            immediate = f.target
        else:
            by_activity[f.activity] = f.target
    return immediate, by_activity


def forwarding_in_effect(forwardings: Iterable[Forwarding], activity: int) -> str | None:
    """Where a call to this user is forwarded now (first of :func:`forwarding_candidates`),
    or ``None``. The loop check of a call being placed follows only these."""
    immediate, by_activity = split_forwardings(forwardings)
    candidates = forwarding_candidates(immediate, by_activity, activity)
    return candidates[0] if candidates else None


@dataclass(frozen=True, slots=True)
class DialPolicy:
    """An organisation's limits on where the service may send a call on its users' behalf
    (forwarding, transfer, the greeting's and the absence notice's key 1, service-number
    overflow): the toll-fraud guard beside the premium/shared-cost refusal.

    ``allowed_countries``: ISO 3166 regions a target may be in (``None``: any country);
    ``denied_prefixes``: E.164 prefixes never called (e.g. ``+3587001``, ``+882``).
    """

    allowed_countries: frozenset[str] | None = None
    denied_prefixes: tuple[str, ...] = ()


#: No limits beyond premium-rate and shared-cost (the operator's default).
OPEN = DialPolicy()


def dial_policy(
    allowed_countries: Iterable[str] | None, denied_prefixes: Iterable[str]
) -> DialPolicy:
    """The policy of an organisation's stored columns (``None``: any country)."""
    allowed = None if allowed_countries is None else frozenset(c.upper() for c in allowed_countries)
    return DialPolicy(allowed, tuple(denied_prefixes))


def destination_refusal(target: str, policy: DialPolicy = OPEN) -> Refusal | None:
    """Why the service may not place a call to ``target`` (E.164) for an organisation with
    ``policy``, whoever asks: premium-rate or shared-cost, outside the allowed countries, or
    under a denied prefix. ``None``: it may."""
    if numbers.is_premium_or_shared_cost(target):
        return Refusal.PREMIUM_OR_SHARED_COST
    if any(target.startswith(prefix) for prefix in policy.denied_prefixes):
        return Refusal.BLOCKED_DESTINATION
    if policy.allowed_countries is not None:
        if numbers.region_of(target) not in policy.allowed_countries:
            return Refusal.BLOCKED_DESTINATION
    return None


def forward_refusal(
    own: Collection[str],
    target: str,
    next_hops: Mapping[str, Collection[str]],
    policy: DialPolicy = OPEN,
) -> Refusal | None:
    """Why forwarding a user whose numbers are ``own`` to ``target`` (E.164) is refused, or
    ``None`` when it is allowed.

    First :func:`destination_refusal` (premium, shared cost, the organisation's
    ``policy``); then the user's own number; then loops: ``next_hops`` maps a number to the
    targets its owner forwards to (immediately or bound to any activity: an activity can be
    switched on at any time), and reaching one of ``own`` by following them from the target
    is a loop (A -> B -> A, or longer).
    """
    refused = destination_refusal(target, policy)
    if refused is not None:
        return refused
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


# --- the forwarding graph beyond one user ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reached:
    """A user reached by following forwardings, with what decides where they forward."""

    numbers: tuple[str, ...]
    manual_activity: int
    scheduled: tuple[Period, ...]
    forwardings: tuple[Forwarding, ...]


def next_hops_any(reached: Iterable[Reached]) -> dict[str, tuple[str, ...]]:
    """Number -> every target its owner forwards to (immediate or bound to any activity).
    Setting a forwarding follows all of them: any activity can be switched on later."""
    hops: dict[str, tuple[str, ...]] = {}
    for user in reached:
        targets = tuple(f.target for f in user.forwardings)
        if targets:
            for number in user.numbers:
                hops[number] = targets
    return hops


def next_hops_now(reached: Iterable[Reached], now: datetime) -> dict[str, tuple[str, ...]]:
    """Number -> where its owner's calls are forwarded at ``now`` (at most one target).
    Placing a call follows only these."""
    hops: dict[str, tuple[str, ...]] = {}
    for user in reached:
        activity = activity_in_effect(user.manual_activity, user.scheduled, now)
        target = forwarding_in_effect(user.forwardings, activity)
        if target is not None:
            for number in user.numbers:
                hops[number] = (target,)
    return hops
