"""The admin's own organisation (organisaatio): its name, which activities are red (not
reachable), its switchboard and customer-service numbers, its toll-fraud guard (which
countries calls on a user's behalf may go to, which prefixes are never called), its
voicemail limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from vipcall.directory.organizations import get_organization
from vipcall.directory.orgsettings import update_organization
from vipcall.directory.voicemail import limits_of, set_voicemail_limits
from vipcall.web.api.common import Text, given
from vipcall.web.deps import Admin, Db

router = APIRouter(prefix="/api/v1/admin/organization", tags=["admin"])


class VoicemailLimits(BaseModel):
    max_message_seconds: int
    max_messages: int
    keep_unheard_days: int
    keep_heard_days: int


class VoicemailLimitsPatch(BaseModel):
    max_message_seconds: int | None = None
    max_messages: int | None = None
    keep_unheard_days: int | None = None
    keep_heard_days: int | None = None


class OrganizationOut(BaseModel):
    id: int
    name: str
    domain: str
    red_activities: list[int]
    switchboard_number: str | None
    customer_service_number: str | None
    allowed_countries: list[str] | None = Field(
        description="ISO 3166 codes forwarding and callbacks may call; null: any country"
    )
    denied_prefixes: list[str] = Field(description="E.164 prefixes never called")
    voicemail: VoicemailLimits


class OrganizationPatch(BaseModel):
    name: Text | None = Field(default=None, max_length=200)
    red_activities: list[int] | None = Field(
        default=None, max_length=20, examples=[[2, 3, 4, 5, 6]]
    )
    switchboard_number: Text | None = Field(default=None, max_length=40)
    customer_service_number: Text | None = Field(default=None, max_length=40)
    allowed_countries: list[Annotated[Text, Field(max_length=8)]] | None = Field(
        default=None,
        max_length=300,
        description="ISO 3166 codes (e.g. FI, SE); null: any country",
        examples=[["FI", "SE", "EE"]],
    )
    denied_prefixes: list[Annotated[Text, Field(max_length=40)]] | None = Field(
        default=None,
        max_length=200,
        description="prefixes never called, + or 00 and digits (e.g. +3587001, 00882)",
        examples=[["+3587001", "+882"]],
    )
    voicemail: VoicemailLimitsPatch | None = None


async def _out(s: Db, organization_id: int) -> OrganizationOut:
    org = await get_organization(s, organization_id)
    limits = limits_of(org)
    return OrganizationOut(
        id=org.id,
        name=org.name,
        domain=org.domain,
        red_activities=sorted(org.red_activities),
        switchboard_number=org.switchboard_number,
        customer_service_number=org.customer_service_number,
        allowed_countries=(
            None if org.allowed_countries is None else sorted(org.allowed_countries)
        ),
        denied_prefixes=sorted(org.denied_prefixes or ()),
        voicemail=VoicemailLimits(
            max_message_seconds=limits.max_message_seconds,
            max_messages=limits.max_messages,
            keep_unheard_days=limits.keep_unheard_days,
            keep_heard_days=limits.keep_heard_days,
        ),
    )


@router.get("", response_model=OrganizationOut)
async def organization(admin: Admin, s: Db) -> OrganizationOut:
    return await _out(s, admin.organization_id)


@router.patch("", response_model=OrganizationOut)
async def change(body: OrganizationPatch, admin: Admin, s: Db) -> OrganizationOut:
    """Change the given settings; all are checked before any is changed."""
    org = await get_organization(s, admin.organization_id)
    await update_organization(
        s,
        org,
        name=given(body, "name"),
        red_activities=given(body, "red_activities"),
        switchboard_number=given(body, "switchboard_number", nullable=True),
        customer_service_number=given(body, "customer_service_number", nullable=True),
        allowed_countries=given(body, "allowed_countries", nullable=True),
        denied_prefixes=given(body, "denied_prefixes"),
    )
    if body.voicemail is not None and body.voicemail.model_fields_set:
        vm = body.voicemail
        await set_voicemail_limits(
            s,
            org,
            max_message_seconds=vm.max_message_seconds,
            max_messages=vm.max_messages,
            keep_unheard_days=vm.keep_unheard_days,
            keep_heard_days=vm.keep_heard_days,
        )
    return await _out(s, org.id)
