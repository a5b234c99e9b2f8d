"""The mailbox's limits, as the operator's own voicemail sets them (per organisation).
Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: A recording shorter than this is not a message (a caller who hung up at the tone).
MIN_MESSAGE_MS = 1000


@dataclass(frozen=True, slots=True)
class MailboxLimits:
    max_message_seconds: int = 180
    max_messages: int = 100
    keep_unheard_days: int = 28
    keep_heard_days: int = 29


def is_a_message(duration_ms: int) -> bool:
    """Recordings shorter than a second are discarded."""
    return duration_ms >= MIN_MESSAGE_MS


def mailbox_full(messages: int, limits: MailboxLimits) -> bool:
    """A full mailbox tells the caller so and takes no message."""
    return messages >= limits.max_messages


def expires_at(
    created_at: datetime,
    heard_at: datetime | None,
    saved: bool,
    limits: MailboxLimits,
) -> datetime | None:
    """When a message is removed by itself: unheard ones 28 days after they arrived, heard
    ones 29 days after they were heard, saved ones never (until deleted)."""
    if saved:
        return None
    if heard_at is None:
        return created_at + timedelta(days=limits.keep_unheard_days)
    return heard_at + timedelta(days=limits.keep_heard_days)
