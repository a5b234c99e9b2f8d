"""Typed, immutable snapshots of the state a routing decision depends on."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Activity(IntEnum):
    """The eight activities (presence) of the service, numbered as on the phone."""

    AVAILABLE = 1
    BUSY = 2
    LUNCH = 3
    IN_MEETING = 4
    AWAY = 5
    ON_HOLIDAY = 6
    REMOTE_WORK = 7
    AT_OFFICE = 8


DEFAULT_RED_ACTIVITIES: frozenset[Activity] = frozenset(
    {Activity.BUSY, Activity.LUNCH, Activity.IN_MEETING, Activity.AWAY, Activity.ON_HOLIDAY}
)


class Role(IntEnum):
    """Roles choose the caller ID of the user's outgoing calls."""

    MOBILE = 1
    LANDLINE = 2
    SWITCHBOARD = 3
    HIDDEN = 4
    ABSENCE_NOTICE = 5


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


@dataclass(frozen=True, slots=True)
class User:
    """One user as routing sees them. Numbers are E.164."""

    id: int
    org: Organization
    mobile: str
    landline: str | None = None
    activity: Activity = Activity.AVAILABLE
    role: Role = Role.MOBILE
    immediate_forward: str | None = None
    activity_forwards: dict[Activity, str] = field(default_factory=dict)
    softphones: tuple[str, ...] = ()
    """Asterisk endpoint ids of the user's softphones."""
    voicemail_enabled: bool = True
    forward_hops: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Forwardings in effect now of the users reachable from this user's forwarding targets
    (number -> where its owner forwards), for the loop check when a call is forwarded."""

    @property
    def numbers(self) -> frozenset[str]:
        return frozenset(n for n in (self.mobile, self.landline) if n)

    @property
    def is_red(self) -> bool:
        return self.activity in self.org.red_activities

    def owns(self, number: str) -> bool:
        return number == self.mobile or (self.landline is not None and number == self.landline)
