"""SIP softphones of users. Credentials are generated; the endpoint id and SIP username are
``sp-<user_id>-<n>`` (design contract), n = 1, 2, ... per user."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from vipcall.db.models import Softphone, User
from vipcall.directory.errors import DirectoryError
from vipcall.directory.users import get_user

PASSWORD_BYTES = 18  # 24 URL-safe characters


class UnknownSoftphone(DirectoryError):
    """No such softphone (or not one of the given user's)."""

    def __init__(self, ref: int | str) -> None:
        self.ref = ref
        super().__init__(f"unknown softphone {ref!r}", fi=f"tuntematon sovellus {ref!r}")


def generate_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def endpoint_id_for(user_id: int, seq: int) -> str:
    return f"sp-{user_id}-{seq}"


async def add_softphone(
    session: AsyncSession, user: User | str | int, *, label: str | None = None
) -> Softphone:
    """Create a softphone with generated credentials for ``user``."""
    owner = await get_user(session, user)
    last = await session.scalar(
        select(func.max(Softphone.seq)).where(Softphone.user_id == owner.id)
    )
    seq = (last or 0) + 1
    phone = Softphone(
        user_id=owner.id,
        seq=seq,
        sip_username=endpoint_id_for(owner.id, seq),
        sip_password=generate_password(),
        label=(label or "").strip() or None,
    )
    session.add(phone)
    await session.flush()
    return phone


async def list_softphones(
    session: AsyncSession, user: User | str | int | None = None
) -> Sequence[Softphone]:
    """Softphones (with their user loaded), optionally of one user."""
    query = (
        select(Softphone)
        .options(selectinload(Softphone.user))
        .order_by(Softphone.user_id, Softphone.seq)
    )
    if user is not None:
        owner = await get_user(session, user)
        query = query.where(Softphone.user_id == owner.id)
    return (await session.scalars(query)).all()


async def get_softphone_by_endpoint(session: AsyncSession, endpoint_id: str) -> Softphone | None:
    """The softphone whose Asterisk endpoint id (= SIP username) is ``endpoint_id``."""
    phone: Softphone | None = await session.scalar(
        select(Softphone)
        .options(selectinload(Softphone.user))
        .where(Softphone.sip_username == endpoint_id)
    )
    return phone


async def remove_softphone(session: AsyncSession, endpoint_id: str) -> bool:
    result = await session.execute(delete(Softphone).where(Softphone.sip_username == endpoint_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get_softphone(
    session: AsyncSession, softphone_id: int, owner: User | str | int | None = None
) -> Softphone:
    """A softphone by id; with ``owner``, it must be that user's. Raises
    :class:`UnknownSoftphone`."""
    phone = await session.get(Softphone, softphone_id)
    if phone is None:
        raise UnknownSoftphone(softphone_id)
    if owner is not None and phone.user_id != (await get_user(session, owner)).id:
        raise UnknownSoftphone(softphone_id)
    return phone
