"""The presence vocabulary of the service guide: eight activities, five roles.

The single definition of both ranges: the database checks, the CLI, the feature codes and
the prompts all read them from here.
"""

from __future__ import annotations

from enum import IntEnum


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


class Role(IntEnum):
    """Roles choose the caller ID of the user's outgoing calls."""

    MOBILE = 1
    LANDLINE = 2
    SWITCHBOARD = 3
    HIDDEN = 4
    ABSENCE_NOTICE = 5


ACTIVITY_MIN, ACTIVITY_MAX = min(Activity), max(Activity)
ROLE_MIN, ROLE_MAX = min(Role), max(Role)

#: Red (not reachable on the landline) unless the organisation says otherwise: 2-6.
DEFAULT_RED_ACTIVITIES: frozenset[Activity] = frozenset(
    {Activity.BUSY, Activity.LUNCH, Activity.IN_MEETING, Activity.AWAY, Activity.ON_HOLIDAY}
)
