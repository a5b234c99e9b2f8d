"""Log in, see who is logged in, log out (a browser session with a CSRF token)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from vipcall.db.engine import transaction
from vipcall.db.models import Organization, User
from vipcall.directory.users import get_user_by_username, verify_password
from vipcall.web import limits
from vipcall.web.deps import COOKIE, Db, Me, Now, OptionalMe, client_addr
from vipcall.web.problems import Problem
from vipcall.web.sessions import close_session, open_session

router = APIRouter(prefix="/api/v1/session", tags=["session"])

#: The same answer for an unknown username and a wrong password (never reveal which).
WRONG = "wrong username or password (väärä käyttäjätunnus tai salasana)"


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=320, examples=["fi0401234567@taipalsaari.fi"])
    password: str = Field(min_length=1, max_length=1024)


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    mobile: str
    landline: str | None
    email: str | None
    is_admin: bool
    organization: str
    organization_domain: str


class SessionOut(BaseModel):
    user: MeOut
    csrf_token: str | None


async def me_out(s: Db, user_id: int) -> MeOut:
    user, org = (
        await s.execute(
            select(User, Organization)
            .join(Organization, Organization.id == User.organization_id)
            .where(User.id == user_id)
        )
    ).one()
    return MeOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        mobile=user.mobile_number,
        landline=user.landline_number,
        email=user.email,
        is_admin=user.is_admin,
        organization=org.name,
        organization_domain=org.domain,
    )


def _set_cookie(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


@router.post("", response_model=SessionOut)
async def log_in(
    body: LoginIn, request: Request, response: Response, s: Db, now: Now
) -> SessionOut:
    username = body.username.strip().lower()
    addr = client_addr(request)
    if await limits.over_limit(
        s, limits.LOGIN_FAILED, username=username, client_addr=addr, now=now
    ):
        async with transaction(request.app.state.sessions) as log_s:
            await limits.record(
                log_s, "login_limited", username=username, user_id=None, client_addr=addr, now=now
            )
        raise Problem(429, "too many wrong attempts; try again later (liian monta yritystä)")
    user = await get_user_by_username(s, username)
    ok = user is not None and await asyncio.to_thread(verify_password, user, body.password)
    if user is None or not ok:
        # Logged and counted in its own transaction: the request's is rolled back.
        async with transaction(request.app.state.sessions) as log_s:
            await limits.record(
                log_s,
                limits.LOGIN_FAILED.kind,
                username=username,
                user_id=user.id if user else None,
                client_addr=addr,
                now=now,
            )
        raise Problem(401, WRONG)
    secret, principal = await open_session(s, user, client_addr=addr)
    await limits.record(s, "login", username=username, user_id=user.id, client_addr=addr, now=now)
    _set_cookie(request, response, secret)
    return SessionOut(user=await me_out(s, user.id), csrf_token=principal.csrf_token)


@router.get("", response_model=SessionOut)
async def who_am_i(me: Me, s: Db) -> SessionOut:
    return SessionOut(user=await me_out(s, me.user_id), csrf_token=me.csrf_token)


@router.delete("", status_code=204)
async def log_out(me: OptionalMe, response: Response, s: Db) -> Response:
    if me is not None and me.session_hash is not None:
        await close_session(s, me.session_hash)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response
