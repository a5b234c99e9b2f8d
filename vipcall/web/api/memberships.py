"""The user's service-number memberships (switchboard, customer service, groups) and
logging in and out of them, as the phone's feature codes do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from vipcall.db.models import ServiceNumber
from vipcall.directory import servicenumbers as sn
from vipcall.web.deps import Db, Me

router = APIRouter(prefix="/api/v1/me/service-numbers", tags=["service numbers"])


class MembershipOut(BaseModel):
    id: int
    number: str
    name: str
    kind: str
    logged_in: bool


class LoggedInIn(BaseModel):
    logged_in: bool


def _out(number: ServiceNumber, logged_in: bool) -> MembershipOut:
    return MembershipOut(
        id=number.id,
        number=number.number,
        name=number.name,
        kind=number.kind,
        logged_in=logged_in,
    )


@router.get("", response_model=list[MembershipOut])
async def list_memberships(me: Me, s: Db) -> list[MembershipOut]:
    return [_out(n, li) for n, li in await sn.memberships(s, me.user_id)]


@router.put("/{service_number_id}", response_model=MembershipOut)
async def set_logged_in(
    service_number_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: LoggedInIn,
    me: Me,
    s: Db,
) -> MembershipOut:
    """Log in to (or out of) a service number the user is a member of; any other id is 404."""
    mine = {n.id: n for n, _ in await sn.memberships(s, me.user_id)}
    if service_number_id not in mine:
        raise sn.UnknownServiceNumber(service_number_id)
    await sn.set_logged_in(s, service_number_id, me.user_id, body.logged_in)
    return _out(mine[service_number_id], body.logged_in)
