"""Contacts: the organisation directory (search, own organisation only), the user's
personal external contacts, VIP flags on both and the VIP list.

A call from any number on the VIP list bypasses the user's absence notice
(:mod:`vipcall.directory.contacts`). Another user's contact id, or a user id outside the
organisation, answers 404.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from vipcall.db.models import Contact
from vipcall.directory import contacts as c
from vipcall.web.deps import Db, Me

router = APIRouter(prefix="/api/v1", tags=["contacts"])

RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ContactId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class ColleagueOut(BaseModel):
    id: int
    name: str
    username: str
    mobile: str
    landline: str | None
    vip: bool
    is_me: bool


@router.get("/directory", response_model=list[ColleagueOut])
async def search_directory(
    me: Me,
    s: Db,
    q: str = Query(min_length=1, max_length=c.MAX_QUERY_LENGTH, description="a name or number"),
) -> list[ColleagueOut]:
    """Users of the own organisation whose name or number contains ``q`` (any spelling of a
    number: ``040 123``, ``+35840123``)."""
    found = await c.search_directory(s, me.organization_id, q)
    vips = {e.ref for e in await c.vip_list(s, me.user_id) if e.kind == "colleague"}
    return [
        ColleagueOut(
            id=u.id,
            name=u.display_name,
            username=u.username,
            mobile=u.mobile_number,
            landline=u.landline_number,
            vip=u.id in vips,
            is_me=u.id == me.user_id,
        )
        for u in found
    ]


class ContactOut(BaseModel):
    id: int
    name: str
    number: str = Field(description="E.164")
    vip: bool


def _out(contact: Contact) -> ContactOut:
    return ContactOut(id=contact.id, name=contact.name, number=contact.number, vip=contact.is_vip)


class ContactIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    number: str = Field(min_length=1, max_length=64, description="any Finnish spelling")
    vip: bool = False


class ContactPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    number: str | None = Field(default=None, min_length=1, max_length=64)
    vip: bool | None = None


@router.get("/me/contacts", response_model=list[ContactOut])
async def list_contacts(me: Me, s: Db) -> list[ContactOut]:
    return [_out(x) for x in await c.list_contacts(s, me.user_id)]


@router.post("/me/contacts", response_model=ContactOut, status_code=201)
async def add_contact(body: ContactIn, me: Me, s: Db) -> ContactOut:
    return _out(
        await c.add_contact(s, me.user_id, name=body.name, number=body.number, vip=body.vip)
    )


@router.patch("/me/contacts/{contact_id}", response_model=ContactOut)
async def edit_contact(contact_id: ContactId, body: ContactPatch, me: Me, s: Db) -> ContactOut:
    """Change the name, number and/or VIP flag (validated before anything is changed)."""
    if body.name is None and body.number is None and body.vip is None:
        contact = await c.edit_contact(s, contact_id, owner=me.user_id)  # names what is missing
    elif body.name is not None or body.number is not None:
        contact = await c.edit_contact(
            s, contact_id, name=body.name, number=body.number, owner=me.user_id
        )
    else:
        contact = await c.get_contact(s, contact_id, me.user_id)
    if body.vip is not None:
        contact = await c.set_contact_vip(s, me.user_id, contact.id, body.vip)
    return _out(contact)


@router.delete("/me/contacts/{contact_id}", status_code=204)
async def delete_contact(contact_id: ContactId, me: Me, s: Db) -> Response:
    await c.delete_contact(s, contact_id, owner=me.user_id)
    return Response(status_code=204)


class VipOut(BaseModel):
    kind: Literal["colleague", "contact"]
    id: int = Field(description="the colleague's user id or the contact's id")
    name: str
    numbers: list[str]
    username: str | None


@router.get("/me/vip", response_model=list[VipOut])
async def vip_list(me: Me, s: Db) -> list[VipOut]:
    """Colleagues first, then personal contacts, each by name."""
    return [
        VipOut(kind=e.kind, id=e.ref, name=e.name, numbers=list(e.numbers), username=e.username)
        for e in await c.vip_list(s, me.user_id)
    ]


@router.put("/me/vip/colleagues/{user_id}", status_code=204)
async def add_vip_colleague(user_id: RowId, me: Me, s: Db) -> Response:
    colleague = await c.get_colleague(s, me.user_id, user_id)
    await c.set_colleague_vip(s, me.user_id, colleague, True)
    return Response(status_code=204)


@router.delete("/me/vip/colleagues/{user_id}", status_code=204)
async def remove_vip_colleague(user_id: RowId, me: Me, s: Db) -> Response:
    colleague = await c.get_colleague(s, me.user_id, user_id)
    await c.set_colleague_vip(s, me.user_id, colleague, False)
    return Response(status_code=204)
