"""Apps (the guide's section 3): the user's softphone accounts — add one, see its SIP
settings and a QR code a softphone app can scan, remove it.

Credentials live in PostgreSQL only. The call app pushes them to Asterisk
(:mod:`vipcall.service.provisioning`): it compares the softphones table with what it pushed
last and adds or removes the PJSIP objects as soon as PostgreSQL notifies it of a change
(migration 0010), and every ``sync_interval`` seconds (default 30) regardless. So an account
added here can register, and one removed here stops working, in about a second; at the
latest within ``sync_interval`` seconds (``active_within_seconds`` in the answer: the bound
that holds even if the notification was missed); no restart.

The QR code holds the account as an RFC 3261 SIP URI with the password in its userinfo,
``sip:<username>:<password>@<host>:<port>;transport=udp``: vendor-neutral (there is no
cross-vendor provisioning format; Acrobits' ``csc:``, SessionTalk's ``scloc:`` and Zoiper's
OEM codes each need the provider registered with that vendor). The same settings are in
the JSON for typing in by hand.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

import segno
from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from vipcall.config import Settings
from vipcall.db.models import Softphone
from vipcall.directory import softphones as sp
from vipcall.web.deps import AppSettings, Db, Me

router = APIRouter(prefix="/api/v1/me/softphones", tags=["softphones"])

SoftphoneId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TRANSPORT = "udp"


class SoftphoneOut(BaseModel):
    id: int
    label: str | None
    username: str = Field(description="SIP username, also the authentication user")
    created_at: datetime


class SipSettingsOut(SoftphoneOut):
    password: str
    domain: str = Field(description="SIP server / registrar host")
    port: int
    transport: str
    provisioning_uri: str = Field(description="what the QR code holds")
    qr_url: str
    active_within_seconds: float = Field(
        description="the account works in Asterisk (and stops, once removed) within this"
        " time at the latest (usually about a second)"
    )


class SoftphoneIn(BaseModel):
    label: str | None = Field(default=None, max_length=100, examples=["Työkannettava"])


def provisioning_uri(phone: Softphone, settings: Settings) -> str:
    """``sip:user:password@host:port;transport=udp`` (RFC 3261 userinfo)."""
    user = quote(phone.sip_username, safe="-_.!~*'()")
    password = quote(phone.sip_password, safe="-_.!~*'()")
    return (
        f"sip:{user}:{password}@{settings.sip_public_host}:{settings.sip_public_port}"
        f";transport={TRANSPORT}"
    )


def _out(phone: Softphone) -> SoftphoneOut:
    return SoftphoneOut(
        id=phone.id, label=phone.label, username=phone.sip_username, created_at=phone.created_at
    )


def _settings_out(phone: Softphone, settings: Settings) -> SipSettingsOut:
    return SipSettingsOut(
        **_out(phone).model_dump(),
        password=phone.sip_password,
        domain=settings.sip_public_host,
        port=settings.sip_public_port,
        transport=TRANSPORT,
        provisioning_uri=provisioning_uri(phone, settings),
        qr_url=f"{router.prefix}/{phone.id}/qr.svg",
        active_within_seconds=settings.sync_interval,
    )


@router.get("", response_model=list[SoftphoneOut])
async def list_softphones(me: Me, s: Db) -> list[SoftphoneOut]:
    return [_out(p) for p in await sp.list_softphones(s, me.user_id)]


@router.post("", response_model=SipSettingsOut, status_code=201)
async def add_softphone(body: SoftphoneIn, me: Me, s: Db, settings: AppSettings) -> SipSettingsOut:
    phone = await sp.add_softphone(s, me.user_id, label=body.label)
    await s.refresh(phone)
    return _settings_out(phone, settings)


@router.get("/{softphone_id}", response_model=SipSettingsOut)
async def get_softphone(
    softphone_id: SoftphoneId, me: Me, s: Db, settings: AppSettings
) -> SipSettingsOut:
    return _settings_out(await sp.get_softphone(s, softphone_id, me.user_id), settings)


@router.get(
    "/{softphone_id}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def qr_code(softphone_id: SoftphoneId, me: Me, s: Db, settings: AppSettings) -> Response:
    phone = await sp.get_softphone(s, softphone_id, me.user_id)
    buffer = io.BytesIO()
    segno.make(provisioning_uri(phone, settings), error="m").save(
        buffer, kind="svg", scale=5, border=2, title="SIP"
    )
    return Response(
        buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


@router.delete("/{softphone_id}", status_code=204)
async def remove_softphone(softphone_id: SoftphoneId, me: Me, s: Db) -> Response:
    phone = await sp.get_softphone(s, softphone_id, me.user_id)
    await sp.remove_softphone(s, phone.sip_username)
    return Response(status_code=204)
