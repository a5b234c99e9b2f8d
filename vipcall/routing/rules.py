"""The service's routing rules, each one pure function of state.

Read top to bottom, this module is the answer to "where does this call go?".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from vipcall.presence.codes import parse_feature_code
from vipcall.presence.forwarding import DialPolicy, destination_refusal, forward_refusal
from vipcall.presence.model import Role
from vipcall.routing.decisions import (
    AbsenceNotice,
    ActivityMenu,
    Announce,
    Cause,
    Decision,
    Feature,
    Handset,
    Hangup,
    ListenMailbox,
    Presentation,
    Pstn,
    Ring,
    ServiceNumberCall,
    Softphone,
    Target,
    Voicemail,
)
from vipcall.routing.snapshot import NewCall, Subscriber, Trunk


@dataclass(frozen=True, slots=True)
class Policy:
    """Service-wide settings the rules need."""

    ring_timeout: int = 30
    """Seconds a user's phones ring before the call goes to voicemail."""
    outbound_timeout: int | None = None
    """Seconds an outgoing call may ring at the far end; ``None`` means no limit of ours."""
    activity_number: str = "+358401621486"
    """Service number for changing the activity by phone."""
    voicemail_number: str = "+358401621485"
    """Service number for listening to voicemail."""


def route_call(
    call: NewCall,
    caller: Subscriber | None,
    callee: Subscriber | None,
    policy: Policy,
    service_number: int | None = None,
) -> Decision:
    """Where a new call goes.

    A call to a service number (``service_number``: the id of the service number whose
    number was dialled) queues for its members (:mod:`vipcall.servicenumbers`).
    A call from a user's own phone (the handset through the mobile core, or a softphone) is
    that user's own call: a feature code (``98``...) or the activity number is self-service,
    anything else an outgoing call (:func:`route_outgoing`). Any other call is for the user
    whose number was dialled (:func:`route_inbound`); a number no user has is not in use,
    and the activity number tells a caller who is not a user so.
    """
    own = caller is not None and call.trunk in (Trunk.MOBILE, Trunk.SOFTPHONE)
    # Whatever was dialled (digits, letters, nothing callable) is decided here: a user's own
    # call to something that is not a number is an invalid number (cause 28), a call from
    # outside to anything no user has is a number not in use (cause 1).
    if call.dialled == policy.activity_number:
        if caller is not None and own:
            return ActivityMenu(caller.id)
        return Announce("not-service-user", Cause.NORMAL)
    if call.dialled == policy.voicemail_number:
        return route_voicemail_number(call, caller if own else None, callee)
    if service_number is not None and callee is None:
        # A service number's number (no user's): the caller queues for its members,
        # whoever calls (a user's own call too).
        return ServiceNumberCall(service_number)
    if caller is not None and own:
        request = parse_feature_code(call.raw)
        if request is not None:
            return Feature(caller.id, request)
        if call.dialled is None and call.short is not None:
            # Emergency and short service numbers go out as dialled, with the role's ID.
            return Ring((Pstn(call.short),), 0, None, outgoing_caller_id(caller))
        return route_outgoing(caller, call.dialled, callee, policy)
    if callee is None or call.dialled is None:
        return Announce("number-not-in-use", Cause.UNALLOCATED)
    return route_inbound(callee, call.dialled, policy, caller_id_change(call))


def route_inbound(
    callee: Subscriber, called: str, policy: Policy, caller_id: Presentation | None = None
) -> Decision:
    """Where a call to one of the callee's numbers goes.

    Precedence: immediate forwarding > activity forwarding > absence notice (VIP and repeat
    callers excepted) > landline while red -> voicemail (repeat callers excepted) > ring the
    handset and softphones.

    A forwarding whose target is refused now (it became a loop after it was set) is passed
    over. Every phone rung, the handset or a forwarding target, is shown ``caller_id``
    (``None``: the caller's own, see :func:`inbound_caller_id`). A user without voicemail
    ("No voicemail" group) whose landline is called while red: the caller hears that the
    user cannot be reached.
    """
    for target in callee.forwardings_now:
        if (
            forward_refusal(callee.numbers, target, callee.forward_hops, callee.org.dial_policy)
            is None
        ):
            return Ring((Pstn(target),), policy.ring_timeout, callee.id, caller_id)
    breaks_through = callee.caller_breaks_through
    if callee.absence_notice_on and not callee.caller_is_vip and not breaks_through:
        return AbsenceNotice(
            callee.id,
            int(callee.activity),
            _dialable(callee.absence.customer_service, callee.org.dial_policy),
            callee.voicemail_enabled,
        )
    if called == callee.landline and callee.is_red and not breaks_through:
        if callee.voicemail_enabled:
            return Voicemail(callee.id, reason=LANDLINE_RED)
        return Announce("user-cannot-be-reached", Cause.UNREACHABLE)
    return ring_user(callee, policy, caller_id)


def _dialable(number: str | None, policy: DialPolicy) -> str | None:
    """``number`` if the service may call it for the organisation (else no key offers it)."""
    return number if number is not None and destination_refusal(number, policy) is None else None


def voicemail_number_lookup(call: NewCall, policy: Policy) -> str | None:
    """Whose state a call to the voicemail number needs besides the caller's: the user the
    call was diverted from, else (a call from outside) the user whose number is the caller
    ID. Other calls: the user of the dialled number."""
    if call.dialled != policy.voicemail_number:
        return call.dialled
    return call.diverted_from or call.caller


def route_voicemail_number(
    call: NewCall, caller: Subscriber | None, mailbox_user: Subscriber | None
) -> Decision:
    """A call to the voicemail number (+358 40 1621485).

    - Diverted to it from a user's number (the mobile core's own forwarding on no reply or
      unreachable, named in a Diversion or History-Info header): the caller leaves a
      message in that user's mailbox (a user without voicemail: "cannot be reached"). A
      diverted call for a number that is no user's is not in use (cause 1).
    - Else the caller ID picks the mailbox: the user's own call (handset or softphone), or
      a call from outside whose caller ID is a user's landline (a desk phone calls in
      through the PSTN). A mobile number from outside is not trusted as the user.
    - Anyone else is asked for a mailbox number and its PIN (``ListenMailbox(None)``).

    ``caller`` is the calling user on their own phone (``None`` otherwise);
    ``mailbox_user`` the user :func:`voicemail_number_lookup` named.
    """
    if call.diverted_from is not None:
        if mailbox_user is None or not mailbox_user.owns(call.diverted_from):
            return Announce("number-not-in-use", Cause.UNALLOCATED)
        if not mailbox_user.voicemail_enabled:
            return Announce("user-cannot-be-reached", Cause.UNREACHABLE)
        return Voicemail(mailbox_user.id, reason=DIVERTED)
    if caller is not None:
        return ListenMailbox(caller.id)
    if (
        mailbox_user is not None
        and call.trunk == Trunk.PSTN
        and call.caller is not None
        and call.caller == mailbox_user.landline
    ):
        return ListenMailbox(mailbox_user.id)
    return ListenMailbox(None)


#: A call the network diverted to the voicemail number from a user's number (the user's
#: phone did not answer or could not be reached): a message, no key 2.
DIVERTED = "diverted"

#: The reasons a routing rule (not an unanswered call) sent a caller to voicemail: key 2
#: ("reach the person anyway") is offered only after these.
LANDLINE_RED = "landline-red"
ABSENCE_NOTICE = "absence-notice"
ROUTED_TO_VOICEMAIL = frozenset({LANDLINE_RED, ABSENCE_NOTICE})


ANONYMOUS = Presentation("anonymous", restricted=True)
"""The caller ID of a caller whose number cannot be shown: number ``anonymous``,
presentation restricted (RFC 3323 ``anonymous``; Asterisk sends ``From: "Anonymous"
<sip:anonymous@anonymous.invalid>`` and ``Privacy: id``)."""


def inbound_caller_id(call: NewCall) -> Presentation:
    """What a rung party is shown for a caller ID that came in with a call.

    A caller ID that is a valid phone number is shown as that number in E.164 (``050 111
    0001`` and ``00358501110001`` both show ``+358501110001``). Anything else — empty,
    letters, a thousand digits, digits no numbering plan has — is shown as **anonymous**,
    presentation restricted, on every leg (the handset, softphones, a forwarding to the
    PSTN), and the app logs the caller as ``anonymous`` too.

    Why anonymous rather than "as received, cut to what SIP carries": a string that is not
    a number cannot be called back, matched to a contact or shown the same way by every
    phone. Passing it on means each hop applies its own length limit and character rules
    (a 1,000-digit caller ID reached the handset cut to 78 digits), so the user would see a
    number nobody sent, and the service's log and the handset would disagree. Anonymous is
    the one presentation every network and phone already handles ("unknown caller"), it
    cannot be mistaken for a real number, and it leaves no caller-supplied junk in the
    headers towards the mobile core.
    """
    return Presentation(call.caller) if call.caller is not None else ANONYMOUS


def showable_name(name: str) -> bool:
    """May a caller's display name be passed on to the phones rung? Not when it holds
    control or format characters (escape sequences, NUL, bidi overrides that reverse the
    text a user reads): those are dropped, and the number alone is shown. Any letters,
    Finnish or not, pass."""
    return not any(unicodedata.category(c) in ("Cc", "Cf") for c in name)


def caller_id_change(call: NewCall) -> Presentation | None:
    """:func:`inbound_caller_id` as a change to the call: ``None`` when the caller already
    sent exactly that number and a name that may be shown (nothing to rewrite; a caller's
    own restriction is kept). Any change presents a number, which also drops the name."""
    shown = inbound_caller_id(call)
    sent = call.caller if call.caller_sent is None else call.caller_sent
    unchanged = not shown.restricted and shown.number == sent
    return None if unchanged and showable_name(call.caller_name) else shown


def ring_user(user: Subscriber, policy: Policy, caller_id: Presentation | None = None) -> Ring:
    """Ring the user's handset and every softphone at once."""
    targets: tuple[Target, ...] = (Handset(user.mobile), *(Softphone(e) for e in user.softphones))
    return Ring(targets, policy.ring_timeout, user.id, caller_id)


def route_outgoing(
    caller: Subscriber, dialled: str | None, callee: Subscriber | None, policy: Policy
) -> Decision:
    """A user's own call: to a colleague it rings them as an inbound call, any other valid
    number goes out through the PSTN; both show the caller ID of the caller's role."""
    if dialled is None:
        return Announce("number-not-in-use", Cause.INVALID_NUMBER)
    caller_id = outgoing_caller_id(caller)
    if callee is not None:
        decision = route_inbound(callee, dialled, policy)
        if isinstance(decision, Ring):
            return Ring(decision.targets, decision.timeout, decision.user_id, caller_id)
        return decision
    timeout = policy.outbound_timeout or 0
    return Ring((Pstn(dialled),), timeout, None, caller_id)


def outgoing_caller_id(caller: Subscriber) -> Presentation:
    """The caller ID the caller's role shows; a role whose number is not defined shows the
    mobile number."""
    match caller.role:
        case Role.LANDLINE if caller.landline is not None:
            return Presentation(caller.landline)
        case Role.SWITCHBOARD if caller.org.switchboard is not None:
            return Presentation(caller.org.switchboard)
        case Role.HIDDEN:
            return Presentation(caller.mobile, restricted=True)
        case _:
            return Presentation(caller.mobile)


def role_falls_back(user: Subscriber, role: Role) -> bool:
    """True when the role's number is not defined, so calls show the mobile number."""
    return (role == Role.LANDLINE and user.landline is None) or (
        role == Role.SWITCHBOARD and user.org.switchboard is None
    )


UNANSWERED_CAUSE = {
    "NOANSWER": Cause.NO_ANSWER,
    "BUSY": Cause.USER_BUSY,
    "CHANUNAVAIL": Cause.UNREACHABLE,
    "CONGESTION": Cause.CONGESTION,
}
UNANSWERED = frozenset(UNANSWERED_CAUSE)


def after_ringing(callee: Subscriber | None, dial_status: str) -> Decision:
    """What happens when nobody answered a call that rang the callee's phones.

    No answer, busy or unreachable: the callee's voicemail, when they have one. A caller who
    gave up (CANCEL) is simply hung up.
    """
    if dial_status not in UNANSWERED:
        return Hangup(Cause.NORMAL)
    if callee is not None and callee.voicemail_enabled:
        return Voicemail(callee.id, reason=dial_status.lower())
    return Hangup(UNANSWERED_CAUSE[dial_status])


def after_ringing_without_state(user_id: int | None, dial_status: str) -> Decision:
    """:func:`after_ringing` when the callee's state cannot be read (database away): the
    caller can still leave a message; it is kept on Asterisk and stored once the database
    is back (see :mod:`vipcall.voicemail.deposit`)."""
    if user_id is not None and dial_status in UNANSWERED:
        return Voicemail(user_id, reason=dial_status.lower())
    return after_ringing(None, dial_status)
