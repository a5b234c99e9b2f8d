"""The organisation admin's groups (ryhmät): the "No voicemail" group (``no_voicemail``:
its members never get voicemail, the call flows read it) and plain ``custom`` groups; their
members. Another organisation's group or user answers 404."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from vipcall.db.models import Group
from vipcall.directory import accounts, groups
from vipcall.web.api.common import RowId, Text
from vipcall.web.deps import Admin, Db

router = APIRouter(prefix="/api/v1/admin/groups", tags=["admin"])


class MemberOut(BaseModel):
    user_id: int
    username: str
    display_name: str


class GroupOut(BaseModel):
    id: int
    name: str
    kind: str
    member_count: int


class GroupDetailOut(GroupOut):
    members: list[MemberOut]


class GroupIn(BaseModel):
    name: Text = Field(max_length=200, examples=["Ei vastaajaa / No voicemail"])
    kind: Text = Field(default="custom", max_length=32, examples=list(groups.GROUP_KINDS))


class MemberIn(BaseModel):
    user_id: int = Field(ge=1, le=2**31 - 1)


async def _detail(s: Db, group: Group) -> GroupDetailOut:
    members = await groups.group_members(s, group)
    return GroupDetailOut(
        id=group.id,
        name=group.name,
        kind=group.kind,
        member_count=len(members),
        members=[
            MemberOut(user_id=u.id, username=u.username, display_name=u.display_name)
            for u in members
        ],
    )


@router.get("", response_model=list[GroupOut])
async def list_groups(admin: Admin, s: Db) -> list[GroupOut]:
    return [
        GroupOut(id=g.id, name=g.name, kind=g.kind, member_count=n)
        for g, n in await groups.list_groups(s, admin.organization_id)
    ]


@router.post("", status_code=201, response_model=GroupDetailOut)
async def create_group(body: GroupIn, admin: Admin, s: Db) -> GroupDetailOut:
    group = await groups.create_group(s, admin.organization_id, name=body.name, kind=body.kind)
    return await _detail(s, group)


@router.get("/{group_id}", response_model=GroupDetailOut)
async def one(group_id: RowId, admin: Admin, s: Db) -> GroupDetailOut:
    return await _detail(s, await groups.get_group(s, admin.organization_id, group_id))


@router.delete("/{group_id}", status_code=204)
async def delete_group(group_id: RowId, admin: Admin, s: Db) -> Response:
    await groups.delete_group(s, await groups.get_group(s, admin.organization_id, group_id))
    return Response(status_code=204)


@router.post("/{group_id}/members", response_model=GroupDetailOut)
async def add_member(group_id: RowId, body: MemberIn, admin: Admin, s: Db) -> GroupDetailOut:
    group = await groups.get_group(s, admin.organization_id, group_id)
    user = await accounts.org_user(s, admin.organization_id, body.user_id)
    await groups.add_group_member(s, group, user)
    return await _detail(s, group)


@router.delete("/{group_id}/members/{user_id}", status_code=204)
async def remove_member(group_id: RowId, user_id: RowId, admin: Admin, s: Db) -> Response:
    group = await groups.get_group(s, admin.organization_id, group_id)
    user = await accounts.org_user(s, admin.organization_id, user_id)
    await groups.remove_group_member(s, group, user)
    return Response(status_code=204)
