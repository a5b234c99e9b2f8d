"""What a call's record says, as pure rules: how the call was routed (the history's label,
Finnish first, English alongside), whether it was in, out or missed for the user looking at
it, its length, and calls per day.

A record has two sources (docs/design.md "Call history"): the app notes the decision when it
has carried it out, and the end of the call comes either from the app (a call it kept:
voicemail, absence notice, announcement, service number) or from the dialplan's report
(``[vipcall-ended]``) for a call it handed to the dialplan to ring.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from vipcall.routing.decisions import (
    AbsenceNotice,
    Announce,
    Hangup,
    Pstn,
    Ring,
    ServiceNumberCall,
    Voicemail,
)
from vipcall.transfer.rules import TransferRing


class Route(StrEnum):
    """How a call was routed, as the history shows it."""

    RANG = "rang"
    """The called phones rang (a user's handset and softphones, or an outside number)."""
    FORWARDED = "forwarded"
    """The user's forwarding sent the call on to another number."""
    VOICEMAIL = "voicemail"
    """The caller reached the user's voicemail (routed there, or nobody answered)."""
    ABSENCE_NOTICE = "absence_notice"
    """The caller heard the user's absence notice."""
    SERVICE_NUMBER = "service_number"
    """A call to a service number, queued for its members."""
    NOT_CONNECTED = "not_connected"
    """Turned away with an announcement or a cause (not in use, cannot be reached)."""


class Direction(StrEnum):
    IN = "in"
    OUT = "out"
    MISSED = "missed"


#: What the history shows for each route: (Finnish, English).
ROUTE_LABELS: dict[Route, tuple[str, str]] = {
    Route.RANG: ("soi", "rang"),
    Route.FORWARDED: ("ohjattu", "forwarded"),
    Route.VOICEMAIL: ("vastaaja", "voicemail"),
    Route.ABSENCE_NOTICE: ("poissaolotiedote", "absence notice"),
    Route.SERVICE_NUMBER: ("palvelunumero", "service number"),
    Route.NOT_CONNECTED: ("ei yhdistetty", "not connected"),
}

DIRECTION_LABELS: dict[Direction, tuple[str, str]] = {
    Direction.IN: ("saapuva", "incoming"),
    Direction.OUT: ("lähtevä", "outgoing"),
    Direction.MISSED: ("vastaamaton", "missed"),
}


def route_of(decision: object) -> Route | None:
    """The route a new call's decision gives it; ``None`` for calls that are not calls with
    another party (feature codes, the activity number's menu, the listening number): those
    are self-service and leave no record."""
    match decision:
        case Ring(targets=targets, user_id=user) if user is not None and any(
            isinstance(t, Pstn) for t in targets
        ):
            return Route.FORWARDED
        case Ring():
            return Route.RANG
        case TransferRing():
            return Route.RANG
        case Voicemail():
            return Route.VOICEMAIL
        case AbsenceNotice():
            return Route.ABSENCE_NOTICE
        case ServiceNumberCall():
            return Route.SERVICE_NUMBER
        case Announce() | Hangup():
            return Route.NOT_CONNECTED
        case _:
            return None


def route_after_ringing(decision: object) -> Route | None:
    """The route once nobody answered the ringing: the voicemail, when the caller is sent
    there; otherwise (the caller gave up, no voicemail) it stays what it was (``None``)."""
    return Route.VOICEMAIL if isinstance(decision, Voicemail) else None


def route_from_dial(user: str, dial: str) -> Route:
    """The route of a handed-off call as the dialplan's end report shows it (used only when
    the app's own note of the call is missing, e.g. the app was restarted while it rang): a
    user's call rung on an outside number was forwarded, anything else rang."""
    forwarded = user.isdigit() and "@pstn" in dial
    return Route.FORWARDED if forwarded else Route.RANG


def direction(
    viewer: int, caller_user_id: int | None, callee_user_id: int | None, answered: bool
) -> Direction:
    """In, out or missed for the user ``viewer``: their own call is out (answered or not);
    a call to them is in when it was answered (by them, or by whoever their forwarding or
    the service number reached), else missed (voicemail and the absence notice are missed
    calls: the user did not talk with the caller). A call to oneself is out."""
    if viewer == caller_user_id:
        return Direction.OUT
    if viewer == callee_user_id and answered:
        return Direction.IN
    return Direction.MISSED


def length_seconds(
    started_at: datetime, answered_at: datetime | None, ended_at: datetime | None
) -> int | None:
    """A call's length as the history shows it: the talk time of an answered call, else how
    long it lasted (ringing, the notice, leaving a message); ``None`` when its end is not
    known (the app was away when it ended)."""
    if ended_at is None:
        return None
    begin = answered_at if answered_at is not None else started_at
    return max(0, round((ended_at - begin).total_seconds()))


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    incoming: int = 0
    outgoing: int = 0
    missed: int = 0

    @property
    def total(self) -> int:
        return self.incoming + self.outgoing + self.missed


def per_day(
    counts: Iterable[tuple[date, Direction, int]], today: date, days: int
) -> list[DayCount]:
    """Calls per local day for the ``days`` days ending ``today``, oldest first, every day
    present (zero when there were no calls); ``counts`` are (local day, direction, calls),
    several rows of one day and direction add up; days outside the range are left out."""
    if days < 1:
        raise ValueError("days must be at least 1")
    first = today - timedelta(days=days - 1)
    table: dict[date, dict[Direction, int]] = {
        first + timedelta(days=i): dict.fromkeys(Direction, 0) for i in range(days)
    }
    for day, way, n in counts:
        if day in table:
            table[day][way] += n
    return [
        DayCount(d, c[Direction.IN], c[Direction.OUT], c[Direction.MISSED])
        for d, c in table.items()
    ]


@dataclass(frozen=True, slots=True)
class RecordStart:
    """The app's note of a call it has decided (written after the decision was carried out,
    e.g. after the hand-off that makes the phones ring)."""

    channel_id: str
    started_at: datetime
    route: Route | None
    """``None``: keep the route already recorded (a call back from ringing)."""
    caller_number: str | None = None
    called_number: str | None = None
    caller_user_id: int | None = None
    callee_user_id: int | None = None
    service_number_id: int | None = None


@dataclass(frozen=True, slots=True)
class RecordEnd:
    """A call's end: from the app for a call it kept, from the dialplan's report for a call
    it handed off (then with the Dial's status and answered time)."""

    channel_id: str
    ended_at: datetime
    answered_at: datetime | None = None
    dial_status: str | None = None
    # What the dialplan knows, for a call the app's note of which is missing:
    started_at: datetime | None = None
    route: Route | None = None
    caller_number: str | None = None
    called_number: str | None = None
    callee_user_id: int | None = None
    caller_user_id: int | None = None
    """The calling user, for a call the app did not decide (a direct route)."""


@dataclass(frozen=True, slots=True)
class RecordAnswer:
    """A person answered a call the app keeps (a service number's member took a queued
    call): the talk starts now, and the call is theirs in the history (an incoming call of
    the member; the caller's side is the same row)."""

    channel_id: str
    answered_at: datetime
    callee_user_id: int
    route: Route = Route.SERVICE_NUMBER
    """The route of a new row (the app's note of the call missing)."""


#: A note of a call, in the order the app makes them.
Note = RecordStart | RecordEnd | RecordAnswer


def end_from_report(
    channel_id: str,
    now: datetime,
    *,
    dial_status: str,
    answered_ms: int,
    dialed_ms: int,
    user: str,
    called: str,
    caller: str,
    dial: str,
    caller_user_id: int | None = None,
) -> RecordEnd:
    """The end of a handed-off call from the dialplan's report: ``ANSWEREDTIME`` (talk) and
    ``DIALEDTIME`` (ringing + talk) in milliseconds, counted back from ``now``."""
    answered_ms = max(0, answered_ms)
    dialed_ms = max(answered_ms, dialed_ms)
    answered = status_answered(dial_status) and answered_ms > 0
    return RecordEnd(
        channel_id=channel_id,
        ended_at=now,
        answered_at=now - timedelta(milliseconds=answered_ms) if answered else None,
        dial_status=dial_status or None,
        started_at=now - timedelta(milliseconds=dialed_ms),
        route=route_from_dial(user, dial),
        caller_number=caller if caller.startswith("+") else None,
        called_number=called if called.startswith("+") else None,
        callee_user_id=int(user) if user.isdigit() else None,
        caller_user_id=caller_user_id,
    )


def status_answered(dial_status: str) -> bool:
    return dial_status == "ANSWER"
