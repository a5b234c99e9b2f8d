"""Voicemail settings (Palvelut -> Vastaajan asetukset): notices, what the greeting says,
key 1 / key 2, the absence notice's customer-service key, repeat callers, the recorded
greeting and name (uploaded in any common audio format, converted), the PIN, and the phone
menu's key map.

Validation is the service layer's (:mod:`vipcall.directory.voicemail`): key-1 numbers are
refused like forwarding targets; the audio is converted to WAV 8 kHz mono 16-bit by sox or
ffmpeg in a subprocess; the PIN (4-8 digits) is hashed in a thread.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile as StarletteUploadFile

from vipcall.directory import voicemail as vm
from vipcall.directory.errors import InvalidField
from vipcall.prompts import prompt_text
from vipcall.voicemail.menu import KEY_MAP, MENU_LABELS
from vipcall.web.deps import AppSettings, Db, Me
from vipcall.web.problems import Problem

router = APIRouter(prefix="/api/v1/me/voicemail", tags=["voicemail"])

#: Largest upload accepted (a 2-minute greeting as WAV 48 kHz stereo is ~23 MB).
MAX_UPLOAD_BYTES = 25 * 1024 * 1024

#: Declared types accepted for an upload (browsers send video/webm for some recordings and
#: application/octet-stream when they do not know); the content decides in the end.
_AUDIO_TYPES = ("audio/", "video/webm", "video/mp4", "video/ogg", "application/ogg")
_TOO_LARGE = f"tiedosto on liian suuri / the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB"
_UNKNOWN_TYPES = ("", "application/octet-stream", "binary/octet-stream")

#: File suffix from the declared type when the file name has none (a recorder's "blob").
_SUFFIX = {
    "audio/webm": ".webm",
    "video/webm": ".webm",
    "audio/ogg": ".ogg",
    "application/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "video/mp4": ".mp4",
    "audio/aac": ".aac",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/vnd.wave": ".wav",
    "audio/aiff": ".aiff",
    "audio/x-aiff": ".aiff",
}

# --- settings ---------------------------------------------------------------------------------


class VoicemailOut(BaseModel):
    notify_by: str = Field(description="sms (default), email, both or none")
    announce_activity: bool
    announce_end_time: bool
    offer_transfer: bool = Field(description="key 1 of the greeting connects to transfer_target")
    transfer_target: str | None
    offer_bypass: bool = Field(description="key 2: reach the person anyway")
    offer_customer_service: bool = Field(
        description="key 1 of the absence notice connects to customer_service_number"
    )
    customer_service_number: str | None
    notice_on_scheduled_red: bool
    repeat_breakthrough: bool
    repeat_calls: int
    repeat_minutes: int
    greeting_mode: str = Field(
        description="what callers hear first: personal (a recorded greeting), name (the "
        "recorded name) or default; follows the recordings"
    )
    has_greeting: bool
    has_name: bool
    has_pin: bool
    pin_length: tuple[int, int] = vm.PIN_LENGTH
    max_greeting_seconds: int = vm.MAX_AUDIO_SECONDS["greeting"]
    max_name_seconds: int = vm.MAX_AUDIO_SECONDS["name"]
    repeat_calls_range: tuple[int, int] = vm.REPEAT_CALLS_RANGE
    repeat_minutes_range: tuple[int, int] = vm.REPEAT_MINUTES_RANGE


def _out(prefs: vm.VoicemailPrefs) -> VoicemailOut:
    return VoicemailOut(
        notify_by=prefs.notify_by,
        announce_activity=prefs.announce_activity,
        announce_end_time=prefs.announce_end_time,
        offer_transfer=prefs.offer_transfer,
        transfer_target=prefs.transfer_target,
        offer_bypass=prefs.offer_bypass,
        offer_customer_service=prefs.offer_customer_service,
        customer_service_number=prefs.customer_service_number,
        notice_on_scheduled_red=prefs.notice_on_scheduled_red,
        repeat_breakthrough=prefs.repeat_breakthrough,
        repeat_calls=prefs.repeat_calls,
        repeat_minutes=prefs.repeat_minutes,
        greeting_mode=prefs.greeting_mode,
        has_greeting=prefs.has_greeting,
        has_name=prefs.has_name,
        has_pin=prefs.has_pin,
    )


class VoicemailPatch(BaseModel):
    """Any subset; a field left out stays. ``transfer_target`` / ``customer_service_number``
    null clears the number (and turns its offer off)."""

    notify_by: str | None = Field(default=None, max_length=16, examples=["sms"])
    announce_activity: bool | None = None
    announce_end_time: bool | None = None
    offer_transfer: bool | None = None
    transfer_target: str | None = Field(default=None, max_length=64)
    offer_bypass: bool | None = None
    offer_customer_service: bool | None = None
    customer_service_number: str | None = Field(default=None, max_length=64)
    notice_on_scheduled_red: bool | None = None
    repeat_breakthrough: bool | None = None
    repeat_calls: int | None = None
    repeat_minutes: int | None = None


_NULLABLE = frozenset({"transfer_target", "customer_service_number"})


@router.get("", response_model=VoicemailOut)
async def get_settings(me: Me, s: Db) -> VoicemailOut:
    return _out(await vm.get_voicemail_settings(s, me.user_id))


@router.patch("", response_model=VoicemailOut)
async def patch_settings(body: VoicemailPatch, me: Me, s: Db) -> VoicemailOut:
    given: dict[str, Any] = {k: getattr(body, k) for k in body.model_fields_set}
    for key, value in given.items():
        if value is None and key not in _NULLABLE:
            raise Problem(422, f"{key}: ei voi olla tyhjä / must not be null", field=key)
    if not given:
        raise Problem(422, "ei muutettavaa / nothing to change", field="body")
    return _out(await vm.update_voicemail_settings(s, me.user_id, **given))


# --- PIN --------------------------------------------------------------------------------------


class PinIn(BaseModel):
    pin: str = Field(max_length=32, description="4 to 8 digits, as on the phone", examples=["4711"])


@router.put("/pin", status_code=204)
async def put_pin(body: PinIn, me: Me, s: Db) -> Response:
    await vm.set_pin(s, me.user_id, body.pin)
    return Response(status_code=204)


@router.delete("/pin", status_code=204)
async def delete_pin(me: Me, s: Db) -> Response:
    """Remove the PIN (the mailbox then opens only from the user's own numbers)."""
    await vm.clear_pin(s, me.user_id)
    return Response(status_code=204)


# --- greeting and name ------------------------------------------------------------------------

Kind = Literal["greeting", "name"]


class StoredAudioOut(BaseModel):
    kind: str
    seconds: float
    stored_as: str = "WAV 8 kHz mono 16-bit"
    converted_from: str | None


def _upload_name(filename: str | None, content_type: str) -> str:
    suffix = PurePath(filename or "").suffix.lower()
    if not suffix or len(suffix) > 9:
        suffix = _SUFFIX.get(content_type, "")
    return f"upload{suffix}"


async def _read_upload(request: Request) -> tuple[bytes, str, str]:
    """The multipart field ``file``: (its bytes, its declared type, a file name for the
    converter). Parsed here, after the login is checked, and only when the declared length
    is within :data:`MAX_UPLOAD_BYTES` (so a huge body is refused before it is spooled)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise Problem(411, "anna Content-Length / Content-Length required", field="file")
    if int(length) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise Problem(413, _TOO_LARGE, field="file")
    form = await request.form(max_files=1, max_fields=10)
    try:
        file = form.get("file")
        if not isinstance(file, StarletteUploadFile):
            raise Problem(422, "file: tiedosto puuttuu / an audio file is required", field="file")
        content_type = (file.content_type or "").split(";")[0].strip().lower()
        if content_type not in _UNKNOWN_TYPES and not content_type.startswith(_AUDIO_TYPES):
            raise Problem(
                415,
                f"tiedosto ei ole äänitiedosto / not an audio file ({content_type})",
                field="file",
            )
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise Problem(413, _TOO_LARGE, field="file")
        return data, content_type, _upload_name(file.filename, content_type)
    finally:
        await form.close()


async def _store(kind: Kind, request: Request, me: Me, s: Db) -> StoredAudioOut:
    data, _, filename = await _read_upload(request)
    try:
        stored = await vm.set_audio(s, me.user_id, kind, data, filename=filename)
    except InvalidField as exc:
        raise Problem(
            422,
            f"ääntä ei voitu tallentaa: {exc.message_fi or exc.message}"
            f" / the audio cannot be stored: {exc.message}",
            field="file",
        ) from None
    return StoredAudioOut(
        kind=kind, seconds=round(stored.seconds, 2), converted_from=stored.converted_from
    )


async def _play(kind: Kind, me: Me, s: Db) -> Response:
    data = await vm.get_audio(s, me.user_id, kind)
    if data is None:
        raise Problem(404, f"ei nauhoitusta / no recorded {kind}")
    return Response(data, media_type="audio/wav", headers={"Cache-Control": "no-store"})


async def _delete(kind: Kind, me: Me, s: Db) -> Response:
    if not await vm.delete_audio(s, me.user_id, kind):
        raise Problem(404, f"ei nauhoitusta / no recorded {kind}")
    return Response(status_code=204)


#: The request body as documented (parsed by :func:`_read_upload`, not by FastAPI).
_UPLOAD: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "audio in any common format (wav, mp3, ogg, "
                            "m4a/aac, flac, webm), at most 25 MB",
                        }
                    },
                }
            }
        },
    }
}


@router.put("/greeting", response_model=StoredAudioOut, openapi_extra=_UPLOAD)
async def put_greeting(request: Request, me: Me, s: Db) -> StoredAudioOut:
    return await _store("greeting", request, me, s)


@router.get("/greeting", response_class=Response, responses={200: {"content": {"audio/wav": {}}}})
async def get_greeting(me: Me, s: Db) -> Response:
    return await _play("greeting", me, s)


@router.delete("/greeting", status_code=204)
async def delete_greeting(me: Me, s: Db) -> Response:
    return await _delete("greeting", me, s)


@router.put("/name", response_model=StoredAudioOut, openapi_extra=_UPLOAD)
async def put_name(request: Request, me: Me, s: Db) -> StoredAudioOut:
    return await _store("name", request, me, s)


@router.get("/name", response_class=Response, responses={200: {"content": {"audio/wav": {}}}})
async def get_name(me: Me, s: Db) -> Response:
    return await _play("name", me, s)


@router.delete("/name", status_code=204)
async def delete_name(me: Me, s: Db) -> Response:
    return await _delete("name", me, s)


# --- the phone menu's key map -----------------------------------------------------------------


class MenuKey(BaseModel):
    key: str
    fi: str = Field(description="what the key does, in Finnish")
    en: str


class MenuOut(BaseModel):
    menu: str
    fi: str = Field(description="the menu's name, in Finnish")
    en: str
    spoken_fi: str = Field(description="what the menu says on the phone, in Finnish")
    spoken_en: str
    keys: list[MenuKey]


class KeysOut(BaseModel):
    listening_number: str
    menus: list[MenuOut]


@router.get("/keys", response_model=KeysOut)
async def keys(me: Me, settings: AppSettings) -> KeysOut:
    """The listening number's menus and keys (:data:`vipcall.voicemail.menu.KEY_MAP`)."""
    return KeysOut(
        listening_number=settings.voicemail_number,
        menus=[
            MenuOut(
                menu=menu,
                fi=MENU_LABELS[menu][0],
                en=MENU_LABELS[menu][1],
                spoken_fi=prompt_text(f"listen-{menu}-menu", "fi"),
                spoken_en=prompt_text(f"listen-{menu}-menu", "en"),
                keys=[MenuKey(key=k, fi=fi, en=en) for k, (fi, en) in keymap.items()],
            )
            for menu, keymap in KEY_MAP.items()
        ],
    )
