"""The mailbox (Postilaatikko): the user's voicemail messages, played in the browser or
downloaded, marked heard / saved, deleted.

Marks mean what they mean on the listening number (:mod:`vipcall.directory.mailbox`). A
message of another user's mailbox answers 404, like one that does not exist.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from vipcall.db.models import VoicemailMessage
from vipcall.directory import localtime, mailbox
from vipcall.web.deps import Db, Me
from vipcall.web.problems import Problem

router = APIRouter(prefix="/api/v1/me/messages", tags=["messages"])

MessageId = Annotated[int, Path(ge=1, le=2**63 - 1)]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class MessageOut(BaseModel):
    id: int
    caller: str | None = Field(description="E.164, or null when the caller was anonymous")
    called: str
    created_at: datetime
    seconds: float
    heard: bool
    saved: bool
    audio_url: str


def _out(m: VoicemailMessage) -> MessageOut:
    return MessageOut(
        id=m.id,
        caller=m.caller_number,
        called=m.called_number,
        created_at=m.created_at.astimezone(localtime.LOCAL_TZ),
        seconds=round((m.duration_ms or 0) / 1000, 1),
        heard=m.heard,
        saved=m.saved,
        audio_url=f"{router.prefix}/{m.id}/audio",
    )


class MessagePatch(BaseModel):
    heard: bool | None = None
    saved: bool | None = None


@router.get("", response_model=list[MessageOut])
async def list_messages(me: Me, s: Db) -> list[MessageOut]:
    """Newest first."""
    return [_out(m) for m in await mailbox.list_messages(s, me.user_id)]


@router.get(
    "/{message_id}/audio",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}, 206: {"content": {"audio/wav": {}}}},
)
async def message_audio(
    message_id: MessageId,
    request: Request,
    me: Me,
    s: Db,
    download: bool = Query(False, description="as an attachment (Content-Disposition)"),
) -> Response:
    """The recording as WAV; a ``Range: bytes=a-b`` request gets that part (206), so the
    browser's player can seek."""
    message = await mailbox.get_message(s, me.user_id, message_id)
    data = await mailbox.message_audio(s, me.user_id, message_id)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store"}
    if download:
        stamp = message.created_at.astimezone(localtime.LOCAL_TZ).strftime("%Y%m%d-%H%M")
        headers["Content-Disposition"] = f'attachment; filename="viesti-{stamp}-{message.id}.wav"'
    wanted = request.headers.get("range")
    if wanted:
        match = _RANGE.match(wanted.strip())
        if match is None or (not match[1] and not match[2]):
            raise Problem(
                416, "vain yksi tavualue / only one byte range is supported", headers=headers
            )
        size = len(data)
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        else:  # the last N bytes
            start, end = max(size - int(match[2]), 0), size - 1
        if start >= size or end < start:
            raise Problem(
                416,
                "tavualue ei ole tiedostossa / range not satisfiable",
                headers={**headers, "Content-Range": f"bytes */{size}"},
            )
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Response(data[start : end + 1], 206, headers=headers, media_type="audio/wav")
    return Response(data, media_type="audio/wav", headers=headers)


@router.patch("/{message_id}", response_model=MessageOut)
async def patch_message(message_id: MessageId, body: MessagePatch, me: Me, s: Db) -> MessageOut:
    """Mark heard / unheard, saved / not saved (saving marks it heard too)."""
    return _out(
        await mailbox.mark_message(s, me.user_id, message_id, heard=body.heard, saved=body.saved)
    )


@router.delete("/{message_id}", status_code=204)
async def delete_message(message_id: MessageId, me: Me, s: Db) -> Response:
    await mailbox.delete_message(s, me.user_id, message_id)
    return Response(status_code=204)
