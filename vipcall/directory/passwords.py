"""Passwords: set by an organisation admin, or by the user with a one-time code sent by SMS
and/or email (the operator's guide, section 2). Shared by the web API and the CLI.

The rules (format, life, tries, channels, text) are :mod:`vipcall.directory.codes`; this
module stores codes (only their argon2 hash), checks them and hands the message to a
:class:`CodeSender` (the voicemail notices' SMS gateway and SMTP server, see
:mod:`vipcall.notices.codes`). A code is never logged. Whether a username exists is never
revealed by what these functions take time for: an unknown username hashes and verifies a
code like a known one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from vipcall.db.models import PasswordCode, User, VoicemailSettings, WebSession
from vipcall.directory.codes import (
    CodeState,
    CodeText,
    code_channels,
    code_state,
    code_text,
    expires_at,
    new_code,
    normalize_code,
)
from vipcall.directory.errors import InvalidField
from vipcall.directory.users import check_password, get_user, get_user_by_username, hash_password
from vipcall.notices.rules import Channel

log = logging.getLogger("vipcall.passwords")

#: Codes live minutes, once, five tries: a lighter argon2id than passwords' (OWASP's
#: minimum), so a wrong try costs the server little.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
#: Verified against when there is no live code (an unknown user): the same work either way.
_NO_CODE = _hasher.hash(secrets.token_hex(8))


class CodeSender(Protocol):
    async def send_sms(self, to: str, text: str) -> None: ...

    async def send_email(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True, slots=True)
class CodeDelivery:
    """A code to send: where, and the message (the code itself kept out of ``repr``)."""

    user_id: int
    channels: tuple[Channel, ...]
    mobile: str
    email: str | None
    code: str = field(repr=False)
    text: CodeText = field(repr=False)


def _verify(code_hash: str, code: str) -> bool:
    try:
        return _hasher.verify(code_hash, code)
    except (VerificationError, InvalidHashError):
        return False


async def issue_code(
    s: AsyncSession,
    username: str,
    *,
    now: datetime,
    randbelow: Callable[[int], int] = secrets.randbelow,
) -> CodeDelivery | None:
    """A new code for ``username`` (the user's older unused codes end); None for an unknown
    username, after the same hashing work."""
    user = await get_user_by_username(s, username)
    code = new_code(randbelow)
    code_hash = await asyncio.to_thread(_hasher.hash, code)
    if user is None:
        return None
    await s.execute(
        delete(PasswordCode).where(PasswordCode.user_id == user.id, PasswordCode.used_at.is_(None))
    )
    s.add(
        PasswordCode(
            user_id=user.id, code_hash=code_hash, created_at=now, expires_at=expires_at(now)
        )
    )
    notify_by = await s.scalar(
        select(VoicemailSettings.notify_by).where(VoicemailSettings.user_id == user.id)
    )
    await s.flush()
    return CodeDelivery(
        user_id=user.id,
        channels=code_channels(notify_by, bool(user.email)),
        mobile=user.mobile_number,
        email=user.email,
        code=code,
        text=code_text(code),
    )


async def deliver(sender: CodeSender, delivery: CodeDelivery) -> dict[Channel, str | None]:
    """Send the code on each of its channels: channel -> None (sent) or the error (logged,
    the code replaced by asterisks). A failed channel does not stop the others."""
    outcome: dict[Channel, str | None] = {}
    for channel in delivery.channels:
        try:
            if channel == "sms":
                await sender.send_sms(delivery.mobile, delivery.text.sms)
            else:
                assert delivery.email is not None
                await sender.send_email(delivery.email, delivery.text.subject, delivery.text.body)
        except Exception as exc:  # any adapter failure: logged, the other channel still tried
            error = f"{type(exc).__name__}: {exc}".replace(delivery.code, "******")
            outcome[channel] = error
            log.warning(
                "password code for user %d by %s failed: %s", delivery.user_id, channel, error
            )
        else:
            outcome[channel] = None
            log.info("password code for user %d sent by %s", delivery.user_id, channel)
    return outcome


class ResetOutcome(Enum):
    DONE = "done"
    WRONG_CODE = "wrong_code"


@dataclass(frozen=True, slots=True)
class ResetResult:
    outcome: ResetOutcome
    user_id: int | None


async def _close_sessions(s: AsyncSession, user_id: int) -> None:
    """A new password logs the user out of every browser."""
    await s.execute(delete(WebSession).where(WebSession.user_id == user_id))


async def reset_password(
    s: AsyncSession,
    username: str,
    code: str,
    password: str,
    password_again: str,
    *,
    now: datetime,
) -> ResetResult:
    """Set a new password with a code sent by :func:`issue_code`.

    A bad new password raises :class:`InvalidField` (``password_again``: the two differ;
    ``password``: too short; ``code``: not six digits) before anything is touched. A wrong,
    used, expired or used-up code, or an unknown username, gives ``WRONG_CODE`` (a live
    code's wrong tries counted: the caller commits that). ``DONE``: the password is set,
    the code used, the user's web sessions closed."""
    if password != password_again:
        raise InvalidField(
            "password_again",
            "the passwords differ (salasanat eivät täsmää)",
            fi="salasanat eivät täsmää",
        )
    check_password(password)
    digits = normalize_code(code)
    if digits is None:
        raise InvalidField(
            "code",
            "a code is six digits (koodissa on kuusi numeroa)",
            fi="koodissa on kuusi numeroa",
        )
    user = await get_user_by_username(s, username)
    row: PasswordCode | None = None
    if user is not None:
        row = await s.scalar(
            select(PasswordCode)
            .where(PasswordCode.user_id == user.id, PasswordCode.used_at.is_(None))
            .order_by(PasswordCode.id.desc())
            .limit(1)
            .with_for_update()
        )
    live = row is not None and (
        code_state(expires=row.expires_at, used=row.used_at, wrong_tries=row.wrong_tries, now=now)
        is CodeState.LIVE
    )
    matched = await asyncio.to_thread(_verify, row.code_hash if live and row else _NO_CODE, digits)
    if user is None or row is None or not (live and matched):
        if live and row is not None:
            row.wrong_tries += 1
            await s.flush()
        return ResetResult(ResetOutcome.WRONG_CODE, user.id if user else None)
    user.password_hash = await asyncio.to_thread(hash_password, password)
    row.used_at = now
    await _close_sessions(s, user.id)
    await s.flush()
    return ResetResult(ResetOutcome.DONE, user.id)


async def set_password(s: AsyncSession, user: User | str | int, password: str) -> User:
    """Set a user's password (an admin's doing); closes the user's web sessions.
    Raises :class:`InvalidField` (``password``) when it is too short."""
    owner = await get_user(s, user)
    owner.password_hash = await asyncio.to_thread(hash_password, password)
    await _close_sessions(s, owner.id)
    await s.flush()
    return owner
