"""The absence notice ("Tiedote loma ja poissa") and who gets past it. Pure.

* Role 5 and a red activity: every call to the user's numbers hears the notice for the
  activity instead of ringing. With the user's setting *notice on scheduled red*, a red
  scheduled activity alone switches the notice on (without role 5), off again at its end.
* VIP contacts bypass the notice (and only the notice): a caller whose number is on the
  user's VIP list, colleagues and personal contacts alike, matched by normalised number.
* Repeat callers (setting, off by default): a caller who calls the same user N times within
  M minutes (defaults 3 and 10) rings through on the Nth call — past the notice and past the
  red-landline rule.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from vipcall.presence.model import Role


@dataclass(frozen=True, slots=True)
class AbsenceSettings:
    notice_on_scheduled_red: bool = False
    customer_service: str | None = None
    """The number key 1 of the notice connects to, when the user offers it."""
    repeat_calls: int | None = None
    """N of "repeat caller breaks through"; ``None`` when the setting is off."""
    repeat_minutes: int = 10


def absence_notice_on(
    role: Role, is_red: bool, activity_scheduled: bool, settings: AbsenceSettings
) -> bool:
    """Whether calls to the user hear the absence notice now."""
    if not is_red:
        return False
    return role == Role.ABSENCE_NOTICE or (settings.notice_on_scheduled_red and activity_scheduled)


def is_vip(caller: str | None, vip_numbers: Collection[str]) -> bool:
    """The caller (E.164; ``None`` for anonymous) is on the VIP list. Numbers are compared
    normalised, so a colleague saved also as a personal contact, in any spelling, matches."""
    return caller is not None and caller in vip_numbers


def recent_calls(stopped_at: Iterable[datetime], now: datetime, settings: AbsenceSettings) -> int:
    """How many earlier calls from this caller were stopped (by the notice or the red
    landline) within the repeat window before ``now``."""
    since = now - timedelta(minutes=settings.repeat_minutes)
    return sum(1 for at in stopped_at if since < at <= now)


def breaks_through(earlier_stopped_calls: int, settings: AbsenceSettings) -> bool:
    """The Nth call within the window rings through (N-1 were stopped before it)."""
    return settings.repeat_calls is not None and earlier_stopped_calls >= settings.repeat_calls - 1
