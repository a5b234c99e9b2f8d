"""Users as an organisation admin (pääkäyttäjä) manages them: find one of the organisation's
own users, change a user's details, delete a user.

An admin only ever sees the own organisation: :func:`org_user` treats another
organisation's user as unknown (so ids cannot be probed). An admin cannot delete themself
or take their own admin right away (the organisation would be left without its admin by a
slip of the hand).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from vipcall.db.models import User
from vipcall.directory import validation as v
from vipcall.directory.errors import DirectoryError, DuplicateUser, InvalidField, UnknownUser
from vipcall.directory.organizations import in_organization
from vipcall.directory.users import number_owners
from vipcall.directory.voicemail import UNSET, _Unset


async def org_user(s: AsyncSession, organization_id: int, user_id: int) -> User:
    """The user ``user_id`` of the organisation; :class:`UnknownUser` for any other."""
    return await in_organization(
        s, User, organization_id, user_id, UnknownUser, selectinload(User.organization)
    )


async def update_user(
    s: AsyncSession,
    user: User,
    *,
    display_name: str | _Unset = UNSET,
    email: str | None | _Unset = UNSET,
    landline: str | None | _Unset = UNSET,
    is_admin: bool | _Unset = UNSET,
    acting_user_id: int | None = None,
) -> User:
    """Change the given fields (the rest stay); all validated before any is changed.
    ``None`` (or empty) clears the email or landline. The mobile number (the username) is
    not changed here. ``acting_user_id``: the admin doing it (may not drop their own admin
    right)."""
    changes: dict[str, object] = {}
    if display_name is not UNSET:
        changes["display_name"] = v.name("display_name", display_name)
    if email is not UNSET:
        changes["email"] = v.email("email", email)
    if landline is not UNSET:
        number = v.user_number("landline", landline)
        if number is not None:
            if number == user.mobile_number:
                raise InvalidField(
                    "landline",
                    f"{number} is the same as the mobile number",
                    fi=f"{number} on sama kuin matkapuhelinnumero",
                )
            if number != user.landline_number:
                taken = await number_owners(s, [number])
                if number in taken:
                    raise DuplicateUser(
                        "landline",
                        f"{number} already belongs to {taken[number]}",
                        fi=f"{number} kuuluu jo {taken[number].fi}",
                    )
        changes["landline_number"] = number
    if is_admin is not UNSET:
        if not is_admin and user.id == acting_user_id:
            raise InvalidField(
                "is_admin",
                "you cannot take your own admin right away",
                fi="et voi poistaa omia ylläpitäjän oikeuksiasi",
            )
        changes["is_admin"] = bool(is_admin)
    for key, value in changes.items():
        setattr(user, key, value)
    await s.flush()
    return user


async def delete_user(s: AsyncSession, user: User, *, acting_user_id: int | None = None) -> None:
    """Delete the user with everything that is theirs (mailbox, messages, softphones,
    contacts, memberships: the database cascades)."""
    if user.id == acting_user_id:
        raise DirectoryError("you cannot delete yourself", fi="et voi poistaa itseäsi", field="id")
    await s.delete(user)
    await s.flush()
