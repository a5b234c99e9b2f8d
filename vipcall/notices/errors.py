"""What a notice adapter raises when the message could not be handed over."""

from __future__ import annotations


class SendError(Exception):
    """The SMS gateway or the SMTP server did not take the notice (retried later)."""
