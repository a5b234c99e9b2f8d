"""The closed set of things vipcall can decide to do with a call.

Each is a frozen dataclass; the call flows match on them and hold no rules of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from vipcall.presence.codes import FeatureRequest


class Cause(IntEnum):
    """Q.850 hangup causes vipcall gives (the dialplan's ``[vipcall-cause]`` applies them)."""

    UNALLOCATED = 1  # number not in use -> SIP 404
    NORMAL = 16
    USER_BUSY = 17  # -> 486
    NO_ANSWER = 19  # -> 480
    UNREACHABLE = 20  # subscriber absent -> 480
    INVALID_NUMBER = 28  # invalid number format -> 484
    CONGESTION = 34  # no circuit available -> 503
    FAILURE = 38  # network out of order -> 500


@dataclass(frozen=True, slots=True)
class Handset:
    """The user's own mobile phone, reached through the mobile core."""

    mobile: str


@dataclass(frozen=True, slots=True)
class Softphone:
    endpoint: str


@dataclass(frozen=True, slots=True)
class Pstn:
    """A number outside the service, reached through the PSTN trunk."""

    number: str


Target = Handset | Softphone | Pstn


@dataclass(frozen=True, slots=True)
class Presentation:
    """The caller ID a rung party is shown (``VIP_RING``'s caller-ID fields)."""

    number: str | None
    """Number to present: E.164, or ``anonymous`` for a caller whose number cannot be shown
    (:func:`vipcall.routing.rules.inbound_caller_id`); ``None`` keeps what the caller sent."""
    restricted: bool = False
    """Presentation restricted (``Privacy: id``, anonymous From). ``False`` never lifts a
    restriction the caller asked for: the dialplan only ever adds one."""


@dataclass(frozen=True, slots=True)
class Ring:
    """Ring all targets in parallel; the first to answer is bridged with the caller."""

    targets: tuple[Target, ...]
    timeout: int
    user_id: int | None = None
    """The user being called, so an unanswered call can reach their voicemail."""
    caller_id: Presentation | None = None


@dataclass(frozen=True, slots=True)
class Voicemail:
    user_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class AbsenceNotice:
    """The absence notice for the activity: key 2 rings the user, key 1 (when offered)
    connects to customer service; no key: the notice once more, then the caller may leave a
    message (or, without voicemail, hears that the user cannot be reached)."""

    user_id: int
    activity: int
    customer_service: str | None = None
    voicemail: bool = True


@dataclass(frozen=True, slots=True)
class Announce:
    """Play a prompt, then hang up with the cause."""

    prompt: str
    cause: Cause


@dataclass(frozen=True, slots=True)
class Hangup:
    cause: Cause


@dataclass(frozen=True, slots=True)
class Feature:
    """Carry out a feature code the user dialled, confirm with a prompt, hang up."""

    user_id: int
    request: FeatureRequest


@dataclass(frozen=True, slots=True)
class ActivityMenu:
    """The activity number's menu: hear the current activity, choose a new one by key."""

    user_id: int


@dataclass(frozen=True, slots=True)
class ListenMailbox:
    """The listening number's menu (:mod:`vipcall.voicemail.listen`) for the mailbox of
    ``user_id``; ``None``: the caller is not known as a user and is asked for a mailbox
    number and its PIN."""

    user_id: int | None


@dataclass(frozen=True, slots=True)
class ServiceNumberCall:
    """A call to a service number (switchboard, customer service, group): the caller waits
    for a logged-in member (:mod:`vipcall.servicenumbers`). ``waiting_call``: a waiting
    call taken over after an app restart (its row in ``service_number_calls``)."""

    service_number_id: int
    waiting_call: int | None = None


Decision = (
    Ring
    | Voicemail
    | AbsenceNotice
    | Announce
    | Hangup
    | Feature
    | ActivityMenu
    | ListenMailbox
    | ServiceNumberCall
)
