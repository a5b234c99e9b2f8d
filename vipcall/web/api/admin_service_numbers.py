"""The organisation admin's service numbers (palvelunumerot: switchboard, customer
service, group): create, change how calls are offered and where they overflow, delete,
members. Another organisation's service number or user answers 404."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from vipcall.db.models import ServiceNumber
from vipcall.directory import accounts, servicenumber_admin
from vipcall.directory import servicenumbers as sns
from vipcall.web.api.common import RowId, Text, given
from vipcall.web.deps import Admin, Db

router = APIRouter(prefix="/api/v1/admin/service-numbers", tags=["admin"])


class SnMemberOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    logged_in: bool


class ServiceNumberOut(BaseModel):
    id: int
    number: str
    kind: str
    name: str
    strategy: str
    member_ring_seconds: int
    max_wait_seconds: int
    overflow: str
    overflow_target: str | None
    announce_position: bool
    members: list[SnMemberOut]


class ServiceNumberIn(BaseModel):
    number: Text = Field(max_length=40, examples=["05 123 4000"])
    kind: Text = Field(max_length=32, examples=["switchboard", "customer_service", "group"])
    name: Text = Field(max_length=200, examples=["Vaihde / Switchboard"])
    strategy: Text = Field(default="ring_all", max_length=32, examples=["ring_all", "longest_idle"])
    member_ring_seconds: int = 20
    max_wait_seconds: int = 120
    overflow: Text = Field(default="announcement", max_length=32)
    overflow_target: Text | None = Field(default=None, max_length=320)
    announce_position: bool = False


class ServiceNumberPatch(BaseModel):
    name: Text | None = Field(default=None, max_length=200)
    strategy: Text | None = Field(default=None, max_length=32)
    member_ring_seconds: int | None = None
    max_wait_seconds: int | None = None
    overflow: Text | None = Field(default=None, max_length=32)
    overflow_target: Text | None = Field(default=None, max_length=320)
    announce_position: bool | None = None


class SnMemberIn(BaseModel):
    user_id: int = Field(ge=1, le=2**31 - 1)


async def _out(s: Db, sn: ServiceNumber) -> ServiceNumberOut:
    members = await sns.members_of(s, sn)
    return ServiceNumberOut(
        id=sn.id,
        number=sn.number,
        kind=sn.kind,
        name=sn.name,
        strategy=sn.strategy,
        member_ring_seconds=sn.member_ring_seconds,
        max_wait_seconds=sn.max_wait_seconds,
        overflow=sn.overflow_kind,
        overflow_target=sn.overflow_target,
        announce_position=sn.announce_position,
        members=[
            SnMemberOut(
                user_id=u.id, username=u.username, display_name=u.display_name, logged_in=li
            )
            for u, li in members
        ],
    )


@router.get("", response_model=list[ServiceNumberOut])
async def list_service_numbers(admin: Admin, s: Db) -> list[ServiceNumberOut]:
    return [await _out(s, sn) for sn in await sns.list_service_numbers(s, admin.organization_id)]


@router.post("", status_code=201, response_model=ServiceNumberOut)
async def create(body: ServiceNumberIn, admin: Admin, s: Db) -> ServiceNumberOut:
    sn = await sns.create_service_number(
        s,
        admin.organization_id,
        number=body.number,
        kind=body.kind,
        name=body.name,
        strategy=body.strategy,
        member_ring_seconds=body.member_ring_seconds,
        max_wait_seconds=body.max_wait_seconds,
        overflow=body.overflow,
        overflow_target=body.overflow_target,
        announce_position=body.announce_position,
    )
    return await _out(s, sn)


@router.get("/{sn_id}", response_model=ServiceNumberOut)
async def one(sn_id: RowId, admin: Admin, s: Db) -> ServiceNumberOut:
    return await _out(
        s, await servicenumber_admin.org_service_number(s, admin.organization_id, sn_id)
    )


@router.patch("/{sn_id}", response_model=ServiceNumberOut)
async def change(sn_id: RowId, body: ServiceNumberPatch, admin: Admin, s: Db) -> ServiceNumberOut:
    sn = await servicenumber_admin.org_service_number(s, admin.organization_id, sn_id)
    await servicenumber_admin.update_service_number(
        s,
        sn,
        name=given(body, "name"),
        strategy=given(body, "strategy"),
        member_ring_seconds=given(body, "member_ring_seconds"),
        max_wait_seconds=given(body, "max_wait_seconds"),
        overflow=given(body, "overflow"),
        overflow_target=given(body, "overflow_target", nullable=True),
        announce_position=given(body, "announce_position"),
    )
    return await _out(s, sn)


@router.delete("/{sn_id}", status_code=204)
async def delete(sn_id: RowId, admin: Admin, s: Db) -> Response:
    sn = await servicenumber_admin.org_service_number(s, admin.organization_id, sn_id)
    await servicenumber_admin.delete_service_number(s, sn)
    return Response(status_code=204)


@router.post("/{sn_id}/members", response_model=ServiceNumberOut)
async def add_member(sn_id: RowId, body: SnMemberIn, admin: Admin, s: Db) -> ServiceNumberOut:
    sn = await servicenumber_admin.org_service_number(s, admin.organization_id, sn_id)
    user = await accounts.org_user(s, admin.organization_id, body.user_id)
    await sns.add_member(s, sn.id, user)
    return await _out(s, sn)


@router.delete("/{sn_id}/members/{user_id}", status_code=204)
async def remove_member(sn_id: RowId, user_id: RowId, admin: Admin, s: Db) -> Response:
    sn = await servicenumber_admin.org_service_number(s, admin.organization_id, sn_id)
    user = await accounts.org_user(s, admin.organization_id, user_id)
    await sns.remove_member(s, sn.id, user)
    return Response(status_code=204)
