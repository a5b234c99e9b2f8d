"""A user's voicemail messages in the service layer (the home page's mailbox).

The call app's listening number reads and marks the same rows (:mod:`vipcall.store.listening`)
with the same meaning: a deleted message is marked ``deleted`` and is no longer listed;
saving a message also marks it heard. Every function takes the owner, so a message id of
another user's mailbox is :class:`UnknownMessage`, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from vipcall.db.models import Mailbox, User, VoicemailMessage
from vipcall.directory.errors import DirectoryError, InvalidField
from vipcall.directory.users import get_user


class UnknownMessage(DirectoryError):
    """No such message in the user's mailbox (or it was deleted)."""

    def __init__(self, ref: int | str) -> None:
        self.ref = ref
        super().__init__(f"unknown message {ref!r}", fi=f"tuntematon viesti {ref!r}")


def _owned(user_id: int) -> Select[tuple[VoicemailMessage]]:
    return (
        select(VoicemailMessage)
        .join(Mailbox, Mailbox.id == VoicemailMessage.mailbox_id)
        .where(Mailbox.user_id == user_id, VoicemailMessage.deleted.is_(False))
    )


async def list_messages(
    session: AsyncSession, user: User | int | str
) -> Sequence[VoicemailMessage]:
    """The user's messages (not deleted), newest first; the audio is not loaded."""
    owner = await get_user(session, user)
    result = await session.scalars(
        _owned(owner.id).order_by(VoicemailMessage.created_at.desc(), VoicemailMessage.id.desc())
    )
    return result.all()


async def count_new_messages(session: AsyncSession, user: User | int | str) -> int:
    """Messages neither heard nor saved (what the phone calls new)."""
    owner = await get_user(session, user)
    count = await session.scalar(
        select(func.count())
        .select_from(VoicemailMessage)
        .join(Mailbox, Mailbox.id == VoicemailMessage.mailbox_id)
        .where(
            Mailbox.user_id == owner.id,
            VoicemailMessage.deleted.is_(False),
            VoicemailMessage.heard.is_(False),
            VoicemailMessage.saved.is_(False),
        )
    )
    return int(count or 0)


async def get_message(
    session: AsyncSession, user: User | int | str, message_id: int, *, with_audio: bool = False
) -> VoicemailMessage:
    """One of the user's messages; raises :class:`UnknownMessage`."""
    owner = await get_user(session, user)
    query = _owned(owner.id).where(VoicemailMessage.id == message_id)
    if with_audio:
        query = query.options(undefer(VoicemailMessage.audio))
    found: VoicemailMessage | None = await session.scalar(query)
    if found is None:
        raise UnknownMessage(message_id)
    return found


async def message_audio(session: AsyncSession, user: User | int | str, message_id: int) -> bytes:
    """The message's recording (``audio_format``, WAV as stored by the call app)."""
    message = await get_message(session, user, message_id, with_audio=True)
    if not message.audio:
        raise UnknownMessage(message_id)
    return message.audio


async def mark_message(
    session: AsyncSession,
    user: User | int | str,
    message_id: int,
    *,
    heard: bool | None = None,
    saved: bool | None = None,
) -> VoicemailMessage:
    """Mark a message heard / unheard and/or saved / not saved (``None`` = unchanged).
    Saving marks it heard too (as key 9 on the phone); a saved message cannot be marked
    unheard in the same change."""
    if heard is None and saved is None:
        raise InvalidField(
            "message",
            "nothing to change (give heard or saved)",
            fi="ei mitään muutettavaa (anna heard tai saved)",
        )
    if saved and heard is False:
        raise InvalidField(
            "heard", "a saved message is heard", fi="tallennettu viesti on aina kuunneltu"
        )
    message = await get_message(session, user, message_id)
    now = datetime.now(UTC)
    if saved is not None:
        message.saved = saved
        if saved:
            heard = True
    if heard is not None:
        message.heard = heard
        message.heard_at = (message.heard_at or now) if heard else None
    await session.flush()
    return message


async def delete_message(session: AsyncSession, user: User | int | str, message_id: int) -> None:
    """Delete a message (marked deleted, as key 7 on the phone does)."""
    message = await get_message(session, user, message_id)
    message.deleted = True
    await session.flush()
