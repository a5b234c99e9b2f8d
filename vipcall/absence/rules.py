"""What a caller hears at the absence notice and what each key does. Pure.

The notice is the same whatever the user's other voicemail settings (greeting, activity
announcement, voicemail keys): only the activity and the customer-service offer shape it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from vipcall.prompts.media import sound
from vipcall.routing.decisions import (
    AbsenceNotice,
    Announce,
    Cause,
    Presentation,
    Pstn,
    Ring,
    Voicemail,
)
from vipcall.routing.rules import (
    ABSENCE_NOTICE,
    Policy,
    caller_id_change,
    outgoing_caller_id,
    ring_user,
)
from vipcall.routing.snapshot import NewCall, Subscriber, Trunk

#: Key 2: the call rings the user after all.
KEY_RING_USER: Final = "2"
#: Key 1: connect to the customer-service number (only when the user offers it).
KEY_CUSTOMER_SERVICE: Final = "1"
#: How many times the notice is played before the caller may leave a message.
ANNOUNCEMENTS: Final = 2


def notice_media(decision: AbsenceNotice, lang: str) -> list[str]:
    """The notice for the activity, e.g. "Tavoittelemasi henkilö on lomalla. Jos haluat
    puhelun siirtyvän tavoittelemallesi henkilölle, valitse 2." and, when the user offers
    customer service, "Asiakaspalveluun pääset valitsemalla 1."."""
    ids = ["person-you-called", f"activity-is-{decision.activity}", "voicemail-press-2-reach"]
    if decision.customer_service is not None:
        ids.append("absence-press-1-customer-service")
    return [sound(pid, lang) for pid in ids]


@dataclass(frozen=True, slots=True)
class RingUser:
    """Key 2: ring the user's handset and softphones, past the notice."""


@dataclass(frozen=True, slots=True)
class CustomerService:
    """Key 1: "connecting", then the customer-service number."""

    number: str


Choice = RingUser | CustomerService


def choice(decision: AbsenceNotice, digit: str | None) -> Choice | None:
    """What the key pressed during (or right after) the notice asks for; ``None`` for no
    key or a key the notice does not offer (key 1 without customer service is such a key)."""
    if digit == KEY_RING_USER:
        return RingUser()
    if digit == KEY_CUSTOMER_SERVICE and decision.customer_service is not None:
        return CustomerService(decision.customer_service)
    return None


def after_notice(decision: AbsenceNotice) -> Voicemail | Announce:
    """No key after the notice was played :data:`ANNOUNCEMENTS` times: the caller may leave
    a message (the deposit flow for :data:`~vipcall.routing.rules.ABSENCE_NOTICE`); a user
    in a "No voicemail" group: the caller hears that the user cannot be reached (cause 20)."""
    if decision.voicemail:
        return Voicemail(decision.user_id, reason=ABSENCE_NOTICE)
    return Announce("user-cannot-be-reached", Cause.UNREACHABLE)


def shown_caller_id(call: NewCall, party: Subscriber | None, user_id: int) -> Presentation | None:
    """The caller ID the phones rung past the notice are shown, as if the call had rung
    them in the first place: a colleague's own call (``party`` is the caller) shows their
    role's number (:func:`~vipcall.routing.rules.outgoing_caller_id`), a call from outside
    the caller's number or anonymous (:func:`~vipcall.routing.rules.caller_id_change`)."""
    own = call.trunk in (Trunk.MOBILE, Trunk.SOFTPHONE)
    if own and party is not None and party.id != user_id:
        return outgoing_caller_id(party)
    return caller_id_change(call)


def ring_past_notice(user: Subscriber, policy: Policy, caller_id: Presentation | None) -> Ring:
    """Key 2: the user's handset and softphones ring (unanswered: their voicemail)."""
    return ring_user(user, policy, caller_id)


def customer_service_ring(number: str, policy: Policy, caller_id: Presentation | None) -> Ring:
    """Key 1: the customer-service number, out through the PSTN like a user's outgoing call
    (no ring limit of ours unless the service sets one; nobody's voicemail after it)."""
    return Ring((Pstn(number),), policy.outbound_timeout or 0, None, caller_id)
