"""The service's local time: Europe/Helsinki.

People type and read times as Helsinki wall-clock times (the CLI, later the web pages); the
database stores timezone-aware instants. :data:`LOCAL_TZ` is the one definition of the zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from vipcall.directory.errors import InvalidField

LOCAL_TZ = ZoneInfo("Europe/Helsinki")


def format_local(when: datetime) -> str:
    """``when`` in local time: ``2026-11-27 16:00`` (seconds only if set)."""
    local = when.astimezone(LOCAL_TZ)
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def parse_local_timestamp(raw: str, *, field: str = "time") -> datetime:
    """An ISO 8601 timestamp; a naive one is local (Europe/Helsinki) time. A local time that
    does not exist (skipped by the spring DST change) is refused; an ambiguous one (repeated
    by the autumn change) is the first (summer-time) occurrence.

    Returns an aware datetime; raises :class:`InvalidField` naming ``field``."""
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidField(
            field,
            f"{raw!r} is not an ISO 8601 timestamp",
            fi=f"{raw!r} ei ole ISO 8601 -muotoinen aika",
        ) from None
    if value.tzinfo is not None:
        return value
    local = value.replace(tzinfo=LOCAL_TZ)
    if local.astimezone(UTC).astimezone(LOCAL_TZ).replace(tzinfo=None) != value:
        raise InvalidField(
            field,
            f"{raw!r} does not exist in {LOCAL_TZ.key} (DST change)",
            fi=f"aikaa {raw!r} ei ole aikavyöhykkeellä {LOCAL_TZ.key} (kesäaikaan siirtyminen)",
        )
    return local
