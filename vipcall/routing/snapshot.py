"""Typed, immutable snapshots of what a routing decision depends on.

The store (:mod:`vipcall.store`) builds them; the rules in :mod:`vipcall.routing.rules`
read them and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from vipcall.presence.absence import AbsenceSettings, absence_notice_on, breaks_through
from vipcall.presence.forwarding import OPEN, DialPolicy, forwarding_candidates
from vipcall.presence.model import DEFAULT_RED_ACTIVITIES, Activity, Role


class Trunk(StrEnum):
    """Where a call entered Asterisk."""

    PSTN = "pstn"
    MOBILE = "mobile"
    SOFTPHONE = "softphone"


@dataclass(frozen=True, slots=True)
class Organization:
    id: int
    switchboard: str | None = None
    red_activities: frozenset[Activity] = DEFAULT_RED_ACTIVITIES
    language: str = "fi"
    dial_policy: DialPolicy = OPEN


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One user of the service as routing sees them at one moment. Numbers are E.164."""

    id: int
    org: Organization
    mobile: str
    landline: str | None = None
    activity: Activity = Activity.AVAILABLE
    """The activity in effect now (:func:`vipcall.presence.activity.activity_in_effect`)."""
    role: Role = Role.MOBILE
    immediate_forward: str | None = None
    activity_forwards: dict[Activity, str] = field(default_factory=dict)
    softphones: tuple[str, ...] = ()
    """Asterisk endpoint ids of the user's softphones that can be rung now."""
    voicemail_enabled: bool = True
    forward_hops: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Forwardings in effect now of the users reachable from this user's forwarding targets
    (number -> where its owner forwards), for the loop check when a call is forwarded."""
    activity_scheduled: bool = False
    """The activity in effect comes from a scheduled activity (not the manual one)."""
    red_until: datetime | None = None
    """End of the chain of red scheduled activities in effect (the greeting's "until")."""
    absence: AbsenceSettings = AbsenceSettings()
    # As seen from this call's caller:
    caller_is_vip: bool = False
    """The caller's number is on this user's VIP list."""
    earlier_stopped_calls: int = 0
    """Calls from this caller stopped by the notice or the red landline within the
    repeat window (:func:`vipcall.presence.absence.recent_calls`)."""

    @property
    def absence_notice_on(self) -> bool:
        return absence_notice_on(self.role, self.is_red, self.activity_scheduled, self.absence)

    @property
    def caller_breaks_through(self) -> bool:
        """A repeat caller rings through the notice and the red-landline rule."""
        return breaks_through(self.earlier_stopped_calls, self.absence)

    @property
    def numbers(self) -> frozenset[str]:
        return frozenset(n for n in (self.mobile, self.landline) if n)

    @property
    def is_red(self) -> bool:
        return self.activity in self.org.red_activities

    @property
    def forwardings_now(self) -> tuple[str, ...]:
        """The forwardings that apply now, in precedence order."""
        return forwarding_candidates(self.immediate_forward, self.activity_forwards, self.activity)

    def owns(self, number: str) -> bool:
        return number == self.mobile or (self.landline is not None and number == self.landline)


@dataclass(frozen=True, slots=True)
class NewCall:
    """A call as it entered the service."""

    trunk: Trunk
    caller: str | None
    """Caller's number in E.164, or ``None`` when absent or not a number."""
    dialled: str | None
    """Dialled number in E.164, or ``None`` when it is not a phone number."""
    raw: str = ""
    """The digits as dialled (feature codes are not phone numbers)."""
    short: str | None = None
    """A short or emergency number (112, 116117) as dialled: not E.164, still callable."""
    caller_sent: str | None = None
    """The caller ID as it arrived, before normalising; ``None``: it arrived as ``caller``."""
    diverted_from: str | None = None
    """The number the network diverted this call from (SIP Diversion / History-Info, see
    :func:`vipcall.routing.diversion.diverting_number`), E.164; ``None``: not diverted."""
    caller_name: str = ""
    """The display name the caller sent (From), as it arrived."""
