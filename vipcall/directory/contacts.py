"""Contacts and VIP lists: a user's personal external contacts, the colleagues they mark VIP,
and the organisation directory search.

* A personal contact is a ``contacts`` row with ``owner_user_id`` set; its number is stored
  in E.164 whatever the spelling it was typed in, and one owner cannot save the same number
  twice.
* A user's VIP list holds colleagues (other users of the same organisation, table
  ``vip_colleagues``) and personal contacts marked VIP. A call from any number on the list
  bypasses the user's absence notice (and only the notice).
* VIP matching is by normalised number over the union of all VIP entries
  (:func:`vip_numbers`): a colleague who is also saved as a (VIP or not) personal contact
  keeps the bypass — unlike the operator's own service, where that duplicate breaks it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from vipcall import numbers
from vipcall.db.models import Contact, Organization, User, VipColleague
from vipcall.directory import validation as v
from vipcall.directory.errors import DirectoryError, InvalidField, UnknownUser
from vipcall.directory.organizations import get_organization
from vipcall.directory.users import get_user, resolve_user
from vipcall.presence.absence import is_vip

#: The longest directory search text (a name or a number).
MAX_QUERY_LENGTH = 100


class UnknownContact(DirectoryError):
    """No such contact (or not one of the given user's)."""

    def __init__(self, ref: int | str, owner: User | None = None) -> None:
        self.ref = ref
        whose = f" of {owner.username}" if owner is not None else ""
        whose_fi = f" (käyttäjän {owner.username})" if owner is not None else ""
        super().__init__(
            f"unknown contact {ref!r}{whose}", fi=f"tuntematon yhteystieto {ref!r}{whose_fi}"
        )


class DuplicateContact(DirectoryError):
    """The owner already has a contact with that number."""

    def __init__(self, number: str, existing: Contact) -> None:
        self.number = number
        self.existing = existing
        super().__init__(
            f"{number} is already saved as contact {existing.id} ({existing.name})",
            fi=f"{number} on jo tallennettu yhteystiedoksi {existing.id} ({existing.name})",
            field="number",
        )


def _contact_id(ref: int | str) -> int:
    if isinstance(ref, int):
        return ref
    text = ref.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise UnknownContact(ref)
    return int(text)


async def _duplicate(
    session: AsyncSession, owner_id: int, number: str, *, except_id: int | None = None
) -> Contact | None:
    query = select(Contact).where(Contact.owner_user_id == owner_id, Contact.number == number)
    if except_id is not None:
        query = query.where(Contact.id != except_id)
    found: Contact | None = await session.scalar(query.order_by(Contact.id).limit(1))
    return found


async def add_contact(
    session: AsyncSession,
    owner: User | str | int,
    *,
    name: str,
    number: str,
    vip: bool = False,
) -> Contact:
    """Save a personal external contact of ``owner``: ``number`` in any spelling (stored as
    E.164). Raises :class:`InvalidField` (name, number) or :class:`DuplicateContact`."""
    user = await get_user(session, owner)
    clean_name = v.name("name", name)
    e164 = v.phone("number", number)
    existing = await _duplicate(session, user.id, e164)
    if existing is not None:
        raise DuplicateContact(e164, existing)
    contact = Contact(
        organization_id=user.organization_id,
        owner_user_id=user.id,
        name=clean_name,
        number=e164,
        is_vip=vip,
    )
    session.add(contact)
    await session.flush()
    return contact


async def get_contact(
    session: AsyncSession, contact_id: int | str, owner: User | str | int | None = None
) -> Contact:
    """A personal contact by id; with ``owner``, it must be one of that user's. Raises
    :class:`UnknownContact` (organisation directory entries are not personal contacts)."""
    user = None if owner is None else await get_user(session, owner)
    ident = _contact_id(contact_id)
    contact = await session.get(Contact, ident)
    if contact is None or contact.owner_user_id is None:
        raise UnknownContact(contact_id, user)
    if user is not None and contact.owner_user_id != user.id:
        raise UnknownContact(contact_id, user)
    return contact


async def edit_contact(
    session: AsyncSession,
    contact_id: int | str,
    *,
    name: str | None = None,
    number: str | None = None,
    owner: User | str | int | None = None,
) -> Contact:
    """Change a personal contact's name and/or number (``None`` = unchanged). Everything is
    validated before anything is changed."""
    contact = await get_contact(session, contact_id, owner)
    if name is None and number is None:
        raise InvalidField(
            "contact",
            "nothing to change (give a name or a number)",
            fi="ei mitään muutettavaa (anna nimi tai numero)",
        )
    clean_name = None if name is None else v.name("name", name)
    e164 = None if number is None else v.phone("number", number)
    if e164 is not None and contact.owner_user_id is not None:
        existing = await _duplicate(session, contact.owner_user_id, e164, except_id=contact.id)
        if existing is not None:
            raise DuplicateContact(e164, existing)
    if clean_name is not None:
        contact.name = clean_name
    if e164 is not None:
        contact.number = e164
    await session.flush()
    return contact


async def delete_contact(
    session: AsyncSession, contact_id: int | str, *, owner: User | str | int | None = None
) -> Contact:
    """Delete a personal contact; returns the deleted row. Raises :class:`UnknownContact`."""
    contact = await get_contact(session, contact_id, owner)
    await session.delete(contact)
    await session.flush()
    return contact


async def list_contacts(session: AsyncSession, owner: User | str | int) -> Sequence[Contact]:
    """The user's personal contacts, by name."""
    user = await get_user(session, owner)
    result = await session.scalars(
        select(Contact)
        .where(Contact.owner_user_id == user.id)
        .order_by(func.lower(Contact.name), Contact.id)
    )
    return result.all()


async def set_contact_vip(
    session: AsyncSession, owner: User | str | int, contact_id: int | str, vip: bool
) -> Contact:
    """Mark (or unmark) one of the user's personal contacts VIP."""
    contact = await get_contact(session, contact_id, owner)
    contact.is_vip = vip
    await session.flush()
    return contact


async def set_colleague_vip(
    session: AsyncSession, user: User | str | int, colleague: User | str | int, vip: bool
) -> User:
    """Mark (or unmark) ``colleague`` — a user of the same organisation, given as an id,
    username or any spelling of one of their numbers — VIP for ``user``. Returns the
    colleague. Refuses the user themself and users of another organisation."""
    owner = await get_user(session, user)
    other = await resolve_user(session, colleague)
    if other.id == owner.id:
        raise InvalidField(
            "colleague",
            "a user cannot mark themself VIP",
            fi="käyttäjä ei voi merkitä itseään VIP-henkilöksi",
        )
    if other.organization_id != owner.organization_id:
        raise InvalidField(
            "colleague",
            f"{other.username} is not in the organisation of {owner.username}",
            fi=f"{other.username} ei kuulu käyttäjän {owner.username} organisaatioon",
        )
    existing = await session.get(VipColleague, (owner.id, other.id))
    if vip and existing is None:
        session.add(VipColleague(user_id=owner.id, colleague_id=other.id))
    elif not vip and existing is not None:
        await session.delete(existing)
    await session.flush()
    return other


async def get_colleague(session: AsyncSession, user: User | str | int, colleague_id: int) -> User:
    """A user of ``user``'s organisation by id; any other id (also one of another
    organisation) is :class:`UnknownUser`, so nothing about other organisations shows."""
    owner = await get_user(session, user)
    other = await session.get(User, colleague_id)
    if other is None or other.organization_id != owner.organization_id:
        raise UnknownUser(colleague_id)
    return other


VipKind = Literal["colleague", "contact"]


@dataclass(frozen=True, slots=True)
class VipEntry:
    """One entry of a user's VIP list: a colleague (``ref`` = user id, numbers = mobile and
    landline) or a personal contact (``ref`` = contact id, numbers = its number)."""

    kind: VipKind
    ref: int
    name: str
    numbers: tuple[str, ...]
    username: str | None = None


async def vip_list(session: AsyncSession, user: User | str | int) -> list[VipEntry]:
    """The user's VIP entries: colleagues first, then personal contacts, each by name."""
    owner = await get_user(session, user)
    colleagues = await session.scalars(
        select(User)
        .join(VipColleague, VipColleague.colleague_id == User.id)
        .where(VipColleague.user_id == owner.id)
        .order_by(func.lower(User.display_name), User.id)
    )
    entries = [
        VipEntry(
            "colleague",
            c.id,
            c.display_name,
            tuple(n for n in (c.mobile_number, c.landline_number) if n),
            c.username,
        )
        for c in colleagues
    ]
    contacts = await session.scalars(
        select(Contact)
        .where(Contact.owner_user_id == owner.id, Contact.is_vip.is_(True))
        .order_by(func.lower(Contact.name), Contact.id)
    )
    entries.extend(VipEntry("contact", c.id, c.name, (c.number,)) for c in contacts)
    return entries


async def vip_numbers(session: AsyncSession, user: User | str | int) -> frozenset[str]:
    """Every E.164 number on the user's VIP list (the union over all entries)."""
    return frozenset(n for entry in await vip_list(session, user) for n in entry.numbers)


async def is_vip_caller(session: AsyncSession, user: User | str | int, caller: str | None) -> bool:
    """True if ``caller`` (any spelling; ``None``/anonymous/invalid -> False) is a number on
    the user's VIP list."""
    e164 = numbers.try_normalize(caller)
    if e164 is None:
        return False
    return is_vip(e164, await vip_numbers(session, user))


def _digit_patterns(query: str) -> list[str]:
    """The digit strings a number query may appear as inside an E.164 number: ``040 123``
    -> ``040123`` and ``35840123``; ``+358 40`` / ``00358 40`` -> ``35840``."""
    digits = re.sub(r"[^0-9]", "", query)
    if not digits:
        return []
    stripped = query.strip()
    if stripped.startswith("+"):
        return [digits]
    if digits.startswith("00"):
        return [digits[2:]] if len(digits) > 2 else []
    if digits.startswith("0"):
        return [digits, "358" + digits[1:]]
    return [digits]


async def search_directory(
    session: AsyncSession,
    organization: Organization | str | int,
    query: str,
    *,
    limit: int = 50,
) -> Sequence[User]:
    """Users of the organisation whose name contains ``query`` (case-insensitive) or, when
    ``query`` looks like a number (digits, spaces, ``+-()``), whose mobile or landline
    contains it in any spelling (``040 123``, ``+35840123``, ``1234567``). By name."""
    org = await get_organization(session, organization)
    text = " ".join(query.split())
    if not text:
        raise InvalidField("query", "must not be empty", fi="hakusana puuttuu")
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidField(
            "query",
            f"is longer than {MAX_QUERY_LENGTH} characters",
            fi=f"hakusana on pidempi kuin {MAX_QUERY_LENGTH} merkkiä",
        )
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    conditions: list[ColumnElement[bool]] = [User.display_name.ilike(f"%{escaped}%", escape="\\")]
    if re.fullmatch(r"[0-9 +()./-]+", text):
        for pattern in _digit_patterns(text):
            conditions.append(User.mobile_number.contains(pattern))
            conditions.append(User.landline_number.contains(pattern))
    result = await session.scalars(
        select(User)
        .options(selectinload(User.organization))
        .where(User.organization_id == org.id, or_(*conditions))
        .order_by(func.lower(User.display_name), User.id)
        .limit(limit)
    )
    return result.all()
