"""Groups of an organisation's users. The kind that matters to calls is ``no_voicemail``:
its members never get voicemail (the call store's lookup, :mod:`vipcall.store.calls`,
reads membership of such a group as "voicemail off"). ``custom`` groups only group.
A group's members are users of its own organisation.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vipcall.db.models import GROUP_KIND_NO_VOICEMAIL, Group, GroupMember, User
from vipcall.directory import validation as v
from vipcall.directory.errors import DirectoryError, InvalidField
from vipcall.directory.organizations import in_organization

#: The kinds an admin may create (``service`` groups belong to service numbers).
GROUP_KINDS = (GROUP_KIND_NO_VOICEMAIL, "custom")


class UnknownGroup(DirectoryError):
    def __init__(self, ref: int | str) -> None:
        self.ref = ref
        super().__init__(f"unknown group {ref!r}", fi=f"tuntematon ryhmä {ref!r}")


class UnknownGroupMember(DirectoryError):
    def __init__(self, user: User, group: Group) -> None:
        super().__init__(
            f"{user.username} is not in the group {group.name!r}",
            fi=f"{user.username} ei ole ryhmässä {group.name!r}",
            field="user_id",
        )


async def get_group(s: AsyncSession, organization_id: int, group_id: int) -> Group:
    """The organisation's group; :class:`UnknownGroup` for another organisation's."""
    return await in_organization(s, Group, organization_id, group_id, UnknownGroup)


async def list_groups(s: AsyncSession, organization_id: int) -> list[tuple[Group, int]]:
    """(group, member count) of the organisation, by name."""
    rows = await s.execute(
        select(Group, func.count(GroupMember.user_id))
        .outerjoin(GroupMember, GroupMember.group_id == Group.id)
        .where(Group.organization_id == organization_id)
        .group_by(Group.id)
        .order_by(func.lower(Group.name), Group.id)
    )
    return [(g, int(n)) for g, n in rows.tuples()]


async def create_group(s: AsyncSession, organization_id: int, *, name: str, kind: str) -> Group:
    name_ = v.name("name", name)
    kind_ = kind.strip().lower().replace("-", "_")
    if kind_ not in GROUP_KINDS:
        raise InvalidField(
            "kind",
            f"{kind!r} is not one of {', '.join(GROUP_KINDS)}",
            fi=f"{kind!r} ei kelpaa (sallitut: {', '.join(GROUP_KINDS)})",
        )
    taken = await s.scalar(
        select(Group.id).where(Group.organization_id == organization_id, Group.name == name_)
    )
    if taken is not None:
        raise InvalidField(
            "name",
            f"there already is a group named {name_!r}",
            fi=f"ryhmä nimeltä {name_!r} on jo olemassa",
        )
    group = Group(organization_id=organization_id, name=name_, kind=kind_)
    s.add(group)
    try:
        await s.flush()
    except IntegrityError:
        raise InvalidField(
            "name",
            f"there already is a group named {name_!r}",
            fi=f"ryhmä nimeltä {name_!r} on jo olemassa",
        ) from None
    return group


async def delete_group(s: AsyncSession, group: Group) -> None:
    await s.delete(group)
    await s.flush()


async def group_members(s: AsyncSession, group: Group) -> Sequence[User]:
    rows = await s.scalars(
        select(User)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id)
        .order_by(func.lower(User.display_name), User.id)
    )
    return rows.all()


async def add_group_member(s: AsyncSession, group: Group, user: User) -> None:
    if user.organization_id != group.organization_id:
        raise InvalidField(
            "user_id",
            f"{user.username} is in another organisation",
            fi=f"{user.username} kuuluu toiseen organisaatioon",
        )
    already = await s.get(GroupMember, (group.id, user.id))
    if already is not None:
        raise InvalidField(
            "user_id",
            f"{user.username} is already in the group {group.name!r}",
            fi=f"{user.username} on jo ryhmässä {group.name!r}",
        )
    s.add(GroupMember(group_id=group.id, user_id=user.id))
    await s.flush()


async def remove_group_member(s: AsyncSession, group: Group, user: User) -> None:
    member = await s.get(GroupMember, (group.id, user.id))
    if member is None:
        raise UnknownGroupMember(user, group)
    await s.delete(member)
    await s.flush()
