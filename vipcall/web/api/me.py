"""The logged-in user at a glance: who they are and their presence now (the home page's
header)."""

from __future__ import annotations

from fastapi import APIRouter

from vipcall.directory import mailbox
from vipcall.web.api.presence import PresenceOut, presence_out
from vipcall.web.api.session import MeOut, me_out
from vipcall.web.deps import Db, Me, Now

router = APIRouter(prefix="/api/v1/me", tags=["me"])


class MeSummaryOut(MeOut):
    presence: PresenceOut
    new_messages: int
    """Messages neither heard nor saved."""


@router.get("", response_model=MeSummaryOut)
async def get_me(me: Me, s: Db, now: Now) -> MeSummaryOut:
    user = await me_out(s, me.user_id)
    return MeSummaryOut(
        **user.model_dump(),
        presence=await presence_out(s, me.user_id, now),
        new_messages=await mailbox.count_new_messages(s, me.user_id),
    )
