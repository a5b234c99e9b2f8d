"""Mailbox limits (vipcall.voicemail.limits)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vipcall.voicemail.limits import MailboxLimits, expires_at, is_a_message, mailbox_full

T = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LIMITS = MailboxLimits()


def test_recordings_shorter_than_a_second_are_discarded() -> None:
    assert not is_a_message(999)
    assert is_a_message(1000)


def test_a_mailbox_with_100_messages_is_full() -> None:
    assert not mailbox_full(99, LIMITS)
    assert mailbox_full(100, LIMITS)
    assert mailbox_full(3, MailboxLimits(max_messages=3))


def test_unheard_messages_are_kept_28_days() -> None:
    assert expires_at(T, None, False, LIMITS) == T + timedelta(days=28)


def test_heard_messages_are_kept_29_days_after_hearing() -> None:
    heard = T + timedelta(days=5)
    assert expires_at(T, heard, False, LIMITS) == heard + timedelta(days=29)


def test_saved_messages_are_kept_until_deleted() -> None:
    assert expires_at(T, T, True, LIMITS) is None
