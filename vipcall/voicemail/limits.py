"""The mailbox's limits, as the operator's own voicemail sets them (per organisation).
Pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
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


@dataclass
class MailboxSlots:
    """Messages being left right now, per mailbox (user id), counted against the limit
    together with the stored ones: a mailbox one message short of full takes one more
    caller, not every caller who arrives while the first is still speaking.

    Bookkeeping only (no I/O); the deposit flow holds one for the app process."""

    held: Counter[int] = field(default_factory=Counter)

    def take(self, user_id: int, stored: int, limits: MailboxLimits) -> bool:
        """Hold a slot for one more message; False (nothing held) when the stored messages
        and those being left fill the mailbox."""
        if mailbox_full(stored + self.held[user_id], limits):
            return False
        self.held[user_id] += 1
        return True

    def give_back(self, user_id: int) -> None:
        """The message was stored, discarded or never left."""
        if self.held[user_id] <= 1:
            del self.held[user_id]
        else:
            self.held[user_id] -= 1


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
