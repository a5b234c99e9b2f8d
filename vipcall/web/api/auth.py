"""A new password by a one-time code (the operator's guide, section 2) and API tokens for
the softphone/mobile apps.

Requesting a code answers 202 whether or not the username exists (the same work is done
either way, the code is sent after the answer); wrong codes are counted per username and
per client address (:data:`vipcall.web.limits.CODE_FAILED`) and logged in ``auth_events``.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel, Field

from vipcall.directory import passwords
from vipcall.directory.passwords import CodeSender, ResetOutcome
from vipcall.notices.codes import NoticeCodeSender
from vipcall.web import limits
from vipcall.web.api.common import RowId, Text
from vipcall.web.deps import Db, Me, Now, client_addr
from vipcall.web.problems import Problem, problem_response
from vipcall.web.sessions import issue_token, list_tokens, revoke_token

router = APIRouter(tags=["auth"])

LIMITED = "too many attempts; try again later (liian monta yritystä, yritä myöhemmin)"
WRONG_CODE = "wrong or expired code (väärä tai vanhentunut koodi)"


def code_sender(request: Request) -> CodeSender:
    """The app's sender of codes (``app.state.code_sender``), made from the settings once."""
    sender: CodeSender | None = getattr(request.app.state, "code_sender", None)
    if sender is None:
        sender = NoticeCodeSender.from_settings(request.app.state.settings)
        request.app.state.code_sender = sender
    return sender


class CodeRequestIn(BaseModel):
    username: Text = Field(min_length=1, max_length=320, examples=["fi0401234567@taipalsaari.fi"])


class ResetIn(BaseModel):
    username: Text = Field(min_length=1, max_length=320)
    code: Text = Field(min_length=1, max_length=32, examples=["042917"])
    password: Text = Field(min_length=1, max_length=1024)
    password_again: Text = Field(min_length=1, max_length=1024)


class Accepted(BaseModel):
    detail: str


@router.post("/api/v1/password/request", status_code=202, response_model=Accepted)
async def request_code(
    body: CodeRequestIn, request: Request, background: BackgroundTasks, s: Db, now: Now
) -> Response | Accepted:
    """Send a one-time code to the user's phone and/or email (202 for any username)."""
    username = body.username.strip().lower()
    addr = client_addr(request)
    if await limits.over_limit(
        s, limits.CODE_REQUESTED, username=username, client_addr=addr, now=now
    ):
        await limits.record(
            s, "code_limited", username=username, user_id=None, client_addr=addr, now=now
        )
        return problem_response(429, LIMITED)
    delivery = await passwords.issue_code(s, username, now=now)
    await limits.record(
        s,
        limits.CODE_REQUESTED.kind,
        username=username,
        user_id=delivery.user_id if delivery else None,
        client_addr=addr,
        now=now,
    )
    if delivery is not None:
        # After the answer (and the commit): sending takes no part in the answer's timing.
        background.add_task(passwords.deliver, code_sender(request), delivery)
    return Accepted(
        detail=(
            "if the username exists, a code was sent to its phone or email "
            "(jos tunnus on olemassa, koodi lähetettiin sen puhelimeen tai sähköpostiin)"
        )
    )


@router.post("/api/v1/password/reset", status_code=204)
async def reset_password(body: ResetIn, request: Request, s: Db, now: Now) -> Response:
    """Set a new password with the code (logs out the user's sessions)."""
    username = body.username.strip().lower()
    addr = client_addr(request)
    if await limits.over_limit(s, limits.CODE_FAILED, username=username, client_addr=addr, now=now):
        await limits.record(
            s, "code_limited", username=username, user_id=None, client_addr=addr, now=now
        )
        return problem_response(429, LIMITED)
    result = await passwords.reset_password(
        s, username, body.code, body.password, body.password_again, now=now
    )
    if result.outcome is ResetOutcome.WRONG_CODE:
        # Answered, not raised: the counted try and the log entry are committed.
        await limits.record(
            s,
            limits.CODE_FAILED.kind,
            username=username,
            user_id=result.user_id,
            client_addr=addr,
            now=now,
        )
        return problem_response(422, WRONG_CODE, field="code")
    await limits.record(
        s, "password_reset", username=username, user_id=result.user_id, client_addr=addr, now=now
    )
    return Response(status_code=204)


# --- API tokens -------------------------------------------------------------------------


class TokenIn(BaseModel):
    label: Text = Field(min_length=1, max_length=100, examples=["Puhelimen sovellus / phone app"])


class TokenOut(BaseModel):
    id: int
    label: str
    created: datetime
    last_used: datetime | None


class NewTokenOut(BaseModel):
    id: int
    label: str
    token: str  # shown this once, never again


@router.get("/api/v1/tokens", response_model=list[TokenOut], tags=["tokens"])
async def tokens(me: Me, s: Db) -> list[TokenOut]:
    return [
        TokenOut(id=t.id, label=t.label, created=t.created_at, last_used=t.last_used_at)
        for t in await list_tokens(s, me.user_id)
    ]


@router.post("/api/v1/tokens", status_code=201, response_model=NewTokenOut, tags=["tokens"])
async def new_token(body: TokenIn, me: Me, s: Db) -> NewTokenOut:
    """A token for an app (``Authorization: Bearer <token>``); only from a logged-in
    browser session, so a token cannot mint more tokens."""
    if me.via != "session":
        raise Problem(403, "tokens are made from the home page (kirjaudu kotisivulle)")
    label = " ".join(body.label.split())
    if not label:
        raise Problem(422, "the label must not be empty (nimi puuttuu)", field="label")
    token_id, secret = await issue_token(s, me.user_id, label)
    return NewTokenOut(id=token_id, label=label, token=secret)


@router.delete("/api/v1/tokens/{token_id}", status_code=204, tags=["tokens"])
async def delete_token(token_id: RowId, me: Me, s: Db) -> Response:
    if not await revoke_token(s, me.user_id, token_id):
        raise Problem(404, f"no token {token_id} (tunnistetta ei ole)")
    return Response(status_code=204)
