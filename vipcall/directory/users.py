"""Users: creation (with their mailbox and voicemail settings), lookup, passwords."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from vipcall import numbers
from vipcall.db.models import Mailbox, Organization, ServiceNumber, User, VoicemailSettings
from vipcall.directory import validation as v
from vipcall.directory.errors import DuplicateUser, InvalidField, UnknownUser
from vipcall.directory.organizations import get_organization

MIN_PASSWORD_LENGTH = 8
_hasher = PasswordHasher()


def username_for(mobile_e164: str, domain: str) -> str:
    """``fi<mobile national digits>@<domain>``, e.g. ``fi0401234567@taipalsaari.fi``."""
    return f"fi{numbers.national(mobile_e164)}@{domain.lower()}"


def check_password(password: str) -> None:
    """Raises :class:`InvalidField` (``password``) for a password too short to use."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField(
            "password",
            f"must be at least {MIN_PASSWORD_LENGTH} characters",
            fi=f"salasanassa pitää olla vähintään {MIN_PASSWORD_LENGTH} merkkiä",
        )


def hash_password(password: str) -> str:
    """argon2id hash of ``password`` (raises :class:`InvalidField` if it is too short)."""
    check_password(password)
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    """True if ``password`` matches the user's stored hash."""
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class UserFields:
    """Validated, normalised fields of a new user."""

    display_name: str
    mobile: str
    landline: str | None
    email: str | None

    @property
    def numbers(self) -> tuple[str, ...]:
        return (self.mobile,) if self.landline is None else (self.mobile, self.landline)


def validate_user_fields(
    display_name: str, mobile: str, landline: str | None = None, email: str | None = None
) -> UserFields:
    """Validate and normalise; raises :class:`InvalidField` naming the field."""
    fields = UserFields(
        display_name=v.name("display_name", display_name),
        mobile=v.mobile("mobile", mobile),
        landline=v.user_number("landline", landline),
        email=v.email("email", email),
    )
    if fields.landline == fields.mobile:
        raise InvalidField(
            "landline",
            f"{fields.landline} is the same as the mobile number",
            fi=f"{fields.landline} on sama kuin matkapuhelinnumero",
        )
    return fields


@dataclass(frozen=True, slots=True)
class NumberOwner:
    """Whose a number is, in words: ``user fi0401234567@x.fi`` (``str()``), and in Finnish
    to whom it belongs (``fi``): ``käyttäjälle fi0401234567@x.fi``."""

    en: str
    fi: str

    def __str__(self) -> str:
        return self.en


async def number_owners(session: AsyncSession, wanted: Collection[str]) -> dict[str, NumberOwner]:
    """Which of the E.164 numbers ``wanted`` are taken, and by whom (a readable description)."""
    if not wanted:
        return {}
    owners: dict[str, NumberOwner] = {}
    rows = await session.execute(
        select(User.username, User.mobile_number, User.landline_number).where(
            or_(User.mobile_number.in_(wanted), User.landline_number.in_(wanted))
        )
    )
    for username, mobile, landline in rows.tuples():
        for number in (mobile, landline):
            if number is not None and number in wanted:
                owners[number] = NumberOwner(f"user {username}", f"käyttäjälle {username}")
    services = await session.execute(
        select(ServiceNumber.number, ServiceNumber.name).where(ServiceNumber.number.in_(wanted))
    )
    for number, name in services.tuples():
        owners[number] = NumberOwner(f"service number {name!r}", f"palvelunumerolle {name!r}")
    return owners


def new_user(
    org: Organization,
    fields: UserFields,
    *,
    is_admin: bool = False,
    password_hash: str | None = None,
) -> User:
    """A transient User (with mailbox and default voicemail settings); no DB access."""
    return User(
        organization_id=org.id,
        username=username_for(fields.mobile, org.domain),
        display_name=fields.display_name,
        mobile_number=fields.mobile,
        landline_number=fields.landline,
        email=fields.email,
        password_hash=password_hash,
        is_admin=is_admin,
        activity=1,
        role=1,
        mailbox=Mailbox(),
        voicemail_settings=VoicemailSettings(),
    )


async def create_user(
    session: AsyncSession,
    *,
    organization: Organization | str | int,
    display_name: str,
    mobile: str,
    landline: str | None = None,
    email: str | None = None,
    is_admin: bool = False,
    password: str | None = None,
) -> User:
    """Create a user in ``organization`` (object, domain or id).

    The username is computed from the mobile number and the organisation's domain.
    Raises :class:`UnknownOrganization`, :class:`InvalidField` or :class:`DuplicateUser`.
    """
    fields = validate_user_fields(display_name, mobile, landline, email)
    password_hash = hash_password(password) if password else None
    org = await get_organization(session, organization)
    taken = await number_owners(session, fields.numbers)
    for field, number in (("mobile", fields.mobile), ("landline", fields.landline)):
        if number is not None and number in taken:
            raise DuplicateUser(
                field,
                f"{number} already belongs to {taken[number]}",
                fi=f"{number} kuuluu jo {taken[number].fi}",
            )
    user = new_user(org, fields, is_admin=is_admin, password_hash=password_hash)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DuplicateUser(
            "mobile",
            f"user {user.username} already exists",
            fi=f"käyttäjä {user.username} on jo olemassa",
        ) from exc
    return user


async def list_users(
    session: AsyncSession, organization: Organization | str | int | None = None
) -> Sequence[User]:
    """Users (with their organisation loaded), by organisation domain and display name."""
    query = (
        select(User)
        .join(User.organization)
        .options(selectinload(User.organization))
        .order_by(Organization.domain, User.display_name, User.id)
    )
    if organization is not None:
        org = await get_organization(session, organization)
        query = query.where(User.organization_id == org.id)
    return (await session.scalars(query)).all()


async def get_user_by_number(session: AsyncSession, e164: str) -> User | None:
    """The user whose mobile or landline number is ``e164`` (must already be E.164)."""
    user: User | None = await session.scalar(
        select(User)
        .options(selectinload(User.organization))
        .where(or_(User.mobile_number == e164, User.landline_number == e164))
    )
    return user


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    user: User | None = await session.scalar(
        select(User)
        .options(selectinload(User.organization))
        .where(User.username == username.strip().lower())
    )
    return user


async def get_user(session: AsyncSession, ref: str | int | User) -> User:
    """A user by id, username (``fi...@domain``) or phone number in any accepted spelling.

    Raises :class:`UnknownUser`.
    """
    if isinstance(ref, User):
        return ref
    user: User | None
    if isinstance(ref, int):
        user = await session.get(User, ref, options=[selectinload(User.organization)])
    elif "@" in ref:
        user = await get_user_by_username(session, ref)
    else:
        e164 = numbers.try_normalize(ref)
        user = await get_user_by_number(session, e164) if e164 else None
    if user is None:
        raise UnknownUser(ref)
    return user


async def resolve_user(session: AsyncSession, ref: str | int | User) -> User:
    """A user as a person types them: a username, one of their numbers in any spelling, or
    their id. Like :func:`get_user`, but an all-digit ``ref`` that is no one's number is
    tried as an id (``"1"``, ``"42"``). Raises :class:`UnknownUser` naming ``ref``."""
    try:
        return await get_user(session, ref)
    except UnknownUser:
        if not isinstance(ref, str):
            raise
        text = ref.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 18):
            raise
        try:
            return await get_user(session, int(text))
        except UnknownUser:
            raise UnknownUser(ref) from None
