"""The rules of new-message notices (pure): who gets which notice, what it says, and when a
failed one is tried again.

- **Channels** (:func:`notice_channels`): per user SMS, email or both, or none; a user who
  never chose gets SMS (:data:`DEFAULT_NOTIFY_BY`). Email needs an address: a user who chose
  email (or both) but has none gets the SMS instead, so a message is never left without a
  notice by a missing address. The store enqueues the notices in the same statement as the
  message from :func:`channel_table`, this rule spelled out row by row, so the SQL applies no
  rule of its own.
- **Text** (:func:`compose_notice`): Finnish first, English beside: the caller (or "unknown
  number"), the time in the organisation's time zone, the length, and the listening number.
- **Retries** (:class:`Backoff`): a failed notice is tried again after ``base`` seconds,
  doubling each time up to ``cap``; after ``max_attempts`` failed attempts it is given up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

Channel = Literal["sms", "email"]
NotifyBy = Literal["sms", "email", "both", "none"]

NOTIFY_BY: tuple[NotifyBy, ...] = ("sms", "email", "both", "none")
DEFAULT_NOTIFY_BY: NotifyBy = "sms"
DEFAULT_TIME_ZONE = "Europe/Helsinki"


def notice_channels(notify_by: str | None, has_email: bool) -> tuple[Channel, ...]:
    """The notices a new message sends: ``notify_by`` is the user's setting (None: never set,
    meaning :data:`DEFAULT_NOTIFY_BY`); ``has_email`` whether the user has an email address.
    Email without an address falls back to SMS; "none" sends nothing."""
    choice = DEFAULT_NOTIFY_BY if notify_by is None else notify_by
    if choice not in NOTIFY_BY:
        raise ValueError(f"unknown notify_by {choice!r} (one of {', '.join(NOTIFY_BY)})")
    if choice == "none":
        return ()
    if choice == "sms" or not has_email:
        return ("sms",)
    if choice == "email":
        return ("email",)
    return ("sms", "email")


@dataclass(frozen=True, slots=True)
class ChannelTable:
    """:func:`notice_channels` for every setting, one row per notice: three parallel
    columns the store passes to SQL (``unnest``) to enqueue the notices with the message."""

    notify_by: list[str]
    has_email: list[bool]
    channel: list[str]


def channel_table() -> ChannelTable:
    rows = [
        (setting, has_email, channel)
        for setting in NOTIFY_BY
        for has_email in (False, True)
        for channel in notice_channels(setting, has_email)
    ]
    return ChannelTable(
        notify_by=[r[0] for r in rows],
        has_email=[r[1] for r in rows],
        channel=[r[2] for r in rows],
    )


@dataclass(frozen=True, slots=True)
class NoticeText:
    subject: str  # the email's subject
    body: str  # the email's text: Finnish line, English line
    sms: str  # the SMS: the same two sentences on one line (no line break to split it)


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def zone(name: str | None) -> ZoneInfo:
    """The organisation's time zone; an unknown or empty name is Europe/Helsinki."""
    try:
        return ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def length_text(duration_ms: int | None) -> tuple[str, str]:
    """The message's length, (Finnish, English): "42 s", "1 min 5 s" (rounded to seconds)."""
    seconds = max(0, round((duration_ms or 0) / 1000))
    minutes, rest = divmod(seconds, 60)
    text = f"{minutes} min {rest} s" if minutes else f"{rest} s"
    return text, text


def listening_number_text(e164: str) -> str:
    """The listening number as people write it: +358401621485 -> "+358 40 1621485"."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def compose_notice(
    caller: str | None,
    received_at: datetime,
    duration_ms: int | None,
    time_zone: str | None,
    listening_number: str,
) -> NoticeText:
    """The notice of a new message, Finnish first and English beside, e.g. (the email's
    text; the SMS has the two on one line, " / " between)::

        Uusi vastaajaviesti numerosta +358401234567 12.3.2025 klo 14.05, kesto 42 s.
        Kuuntele: +358 40 1621485
        New voicemail from +358401234567 on 12 Mar 2025 at 14:05, length 42 s.
        Listen: +358 40 1621485

    ``received_at`` must be timezone-aware; it is shown in ``time_zone`` (the
    organisation's, Europe/Helsinki when unknown)."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    local = received_at.astimezone(zone(time_zone))
    who_fi = f"numerosta {caller}" if caller else "tuntemattomasta numerosta"
    who_en = f"from {caller}" if caller else "from an unknown number"
    when_fi = f"{local.day}.{local.month}.{local.year} klo {local.hour}.{local.minute:02d}"
    when_en = (
        f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year} at {local.hour}:{local.minute:02d}"
    )
    len_fi, len_en = length_text(duration_ms)
    number = listening_number_text(listening_number)
    body = (
        f"Uusi vastaajaviesti {who_fi} {when_fi}, kesto {len_fi}. Kuuntele: {number}\n"
        f"New voicemail {who_en} on {when_en}, length {len_en}. Listen: {number}"
    )
    subject = f"Vastaajaviesti / Voicemail: {caller or 'tuntematon / unknown'}, {when_fi}"
    return NoticeText(subject=subject, body=body, sms=body.replace("\n", " / "))


@dataclass(frozen=True, slots=True)
class Backoff:
    """When a failed notice is tried again: ``base`` seconds after the first failure,
    doubling after each further one, never more than ``cap``; after ``max_attempts``
    failed attempts the notice is given up (marked failed)."""

    base: float = 30.0
    cap: float = 3600.0
    max_attempts: int = 10

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap < self.base or self.max_attempts < 1:
            raise ValueError("backoff needs 0 < base <= cap and max_attempts >= 1")

    def after_failure(self, attempts: int) -> timedelta | None:
        """The wait before the next attempt, ``attempts`` being the failed attempts so far
        (this one included); None when the notice is given up."""
        if attempts >= self.max_attempts:
            return None
        return timedelta(seconds=min(self.cap, self.base * 2 ** max(0, attempts - 1)))

    def schedule(self) -> Iterable[timedelta]:
        """Every wait, in order, until the notice is given up."""
        attempts = 1
        while (wait := self.after_failure(attempts)) is not None:
            yield wait
            attempts += 1
