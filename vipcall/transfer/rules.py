"""Mid-call blind transfer rules. Pure.

After ``*#*`` the user's channel collects keys until ``#`` or a timeout
(``dialplan/extensions.conf`` ``[vipcall-xfer]``) and asks :func:`check` what they mean.
``1`` + number + ``#`` transfers the other party to that number, refused like a forwarding
target (:func:`vipcall.presence.forwarding.forward_refusal`: premium or shared cost, the
user's own number, a loop) or when it is no valid number. Anything else is an error: the
user hears a prompt and both parties are back in the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vipcall.numbers import try_normalize
from vipcall.presence.forwarding import Refusal, forward_refusal
from vipcall.routing.decisions import Decision, Handset, Ring, Softphone, Target
from vipcall.routing.rules import Policy, route_outgoing
from vipcall.routing.snapshot import Subscriber

#: The key after ``*#*`` that starts a blind transfer (others are left for later features).
TRANSFER_KEY = "1"
END_KEY = "#"


class Problem(StrEnum):
    """Why the keys after ``*#*`` transfer nothing (logged; the user hears one prompt)."""

    NOT_A_TRANSFER = "not-a-transfer"  # another key than 1 after *#*
    NO_END_KEY = "no-end-key"  # no '#' before the timeout
    NOT_A_USER = "not-a-user"  # the channel is nobody's (should not happen)


@dataclass(frozen=True, slots=True)
class Who:
    """Whose channel pressed ``*#*``: ``u<user id>`` (a leg ringing the user),
    ``n<number>`` (the user's handset calling through the mobile core) or
    ``e<endpoint>`` (the user's softphone calling)."""

    user_id: int | None = None
    number: str | None = None
    endpoint: str | None = None


def parse_who(text: str) -> Who | None:
    kind, value = text[:1], text[1:]
    if not value:
        return None
    if kind == "u" and value.isdigit():
        return Who(user_id=int(value))
    if kind == "n":
        return Who(number=value)
    if kind == "e":
        return Who(endpoint=value)
    return None


def dialled_number(keys: str) -> str | Problem:
    """The number keyed as ``1`` number ``#``, or why the keys are no transfer."""
    if not keys.startswith(TRANSFER_KEY):
        return Problem.NOT_A_TRANSFER
    if not keys.endswith(END_KEY) or len(keys) < 2:
        return Problem.NO_END_KEY
    return keys[len(TRANSFER_KEY) : -len(END_KEY)]


@dataclass(frozen=True, slots=True)
class Accepted:
    target: str
    """E.164."""


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal | Problem


Verdict = Accepted | Refused


def check(user: Subscriber | None, keys: str, region: str) -> Verdict:
    """May ``user`` transfer the other party to what ``keys`` (after ``*#*``) name?"""
    if user is None:
        return Refused(Problem.NOT_A_USER)
    number = dialled_number(keys)
    if isinstance(number, Problem):
        return Refused(number)
    target = try_normalize(number, region) if number.isdigit() else None
    if target is None:
        return Refused(Refusal.INVALID_NUMBER)
    refusal = forward_refusal(user.numbers, target, user.forward_hops, user.org.dial_policy)
    return Refused(refusal) if refusal is not None else Accepted(target)


def extension(user_id: int, target: str) -> str:
    """The transferred party's extension in ``[vipcall-transfer]``: ``<user id>+<digits>``
    (the dialplan gives the app ``transfer,+<digits>,<user id>``)."""
    return f"{user_id}+{target.removeprefix('+')}"


def answer(verdict: Verdict, user_id: int | None, language: str) -> str:
    """The check's reply the dialplan reads: ``ok|<extension>|<language>`` or
    ``no|<language>``."""
    if isinstance(verdict, Accepted) and user_id is not None:
        return f"ok|{extension(user_id, verdict.target)}|{language}"
    return f"no|{language}"


@dataclass(frozen=True, slots=True)
class TransferRing:
    """Ring the transfer target; nobody answering an outside number rings the transferring
    user's own phones (``back``) and then says that nobody answered."""

    ring: Ring
    back: Ring


def transfer_decision(
    user: Subscriber, target: str, callee: Subscriber | None, policy: Policy
) -> Decision | TransferRing:
    """The transferred party's new call: as if the user called ``target`` (a colleague rings
    as an inbound call, so their voicemail takes it when they do not answer; any other number
    goes out through the PSTN with the user's caller ID). An outside number that does not
    answer within the ring timeout comes back to the user."""
    decision = route_outgoing(user, target, callee, policy)
    if isinstance(decision, Ring) and decision.user_id is None:
        # An outside number rings as long as a user's phones do, then comes back.
        ring = Ring(decision.targets, policy.ring_timeout, None, decision.caller_id)
        back: tuple[Target, ...] = (Handset(user.mobile), *(Softphone(e) for e in user.softphones))
        return TransferRing(ring, Ring(back, policy.ring_timeout))
    return decision
