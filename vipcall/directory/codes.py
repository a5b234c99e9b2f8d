"""The rules of one-time password codes (pure): their format, how long one lives, how many
wrong tries it survives, where it is sent and what the message says.

- **Format**: six digits (``042917``); spaces and dashes a person types in between are
  ignored (``042 917``). Anything else is not a code.
- **Life**: a code is good for :data:`CODE_TTL` (10 minutes) from when it was made, once;
  :data:`MAX_WRONG_TRIES` wrong entries use it up; requesting a new code ends the older one
  (the store keeps one live code per user).
- **Where** (:func:`code_channels`): as the user's voicemail notices go (SMS, email or both;
  never chosen: SMS); email without an address, or notices switched off, fall back to SMS:
  every user has a mobile number, so a code always goes somewhere.
- **Text** (:func:`code_text`): Finnish first, English alongside; the code and how long it
  lasts; no username (a lost phone's SMS should not say where the code opens).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from vipcall.notices.rules import Channel, notice_channels

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_WRONG_TRIES = 5
#: Characters a person may type between the digits.
_SEPARATORS = str.maketrans("", "", " -\u00a0")


def new_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A fresh code: :data:`CODE_DIGITS` digits, leading zeros kept."""
    return f"{randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalize_code(text: str) -> str | None:
    """The code as typed -> its digits, or None when it is not a code at all."""
    digits = text.translate(_SEPARATORS)
    if len(digits) != CODE_DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return digits


def expires_at(created: datetime) -> datetime:
    return created + CODE_TTL


class CodeState(Enum):
    LIVE = "live"
    EXPIRED = "expired"
    USED = "used"
    EXHAUSTED = "exhausted"  # too many wrong tries


def code_state(
    *, expires: datetime, used: datetime | None, wrong_tries: int, now: datetime
) -> CodeState:
    """Whether a stored code may still be tried at ``now``."""
    if used is not None:
        return CodeState.USED
    if wrong_tries >= MAX_WRONG_TRIES:
        return CodeState.EXHAUSTED
    if now >= expires:
        return CodeState.EXPIRED
    return CodeState.LIVE


def code_channels(notify_by: str | None, has_email: bool) -> tuple[Channel, ...]:
    """Where a code goes: the voicemail notice channels, SMS when those are none."""
    return notice_channels(notify_by, has_email) or ("sms",)


@dataclass(frozen=True, slots=True)
class CodeText:
    subject: str
    body: str  # the email: Finnish paragraph, English paragraph
    sms: str  # one short line (one SMS)


def code_text(code: str, ttl: timedelta = CODE_TTL) -> CodeText:
    minutes = int(ttl.total_seconds() // 60)
    fi = (
        f"vipcall-salasanan vaihtokoodisi on {code}. Koodi on voimassa {minutes} minuuttia "
        "ja käy kerran. Jos et pyytänyt koodia, voit jättää viestin huomiotta."
    )
    en = (
        f"Your vipcall password code is {code}. It is valid for {minutes} minutes, once. "
        "If you did not ask for it, ignore this message."
    )
    return CodeText(
        subject="vipcall: salasanan vaihtokoodi / password code",
        body=f"{fi}\n\n{en}\n",
        sms=(
            f"vipcall: salasanan vaihtokoodi {code}, voimassa {minutes} min. / "
            f"Password code {code}, valid {minutes} min."
        ),
    )
