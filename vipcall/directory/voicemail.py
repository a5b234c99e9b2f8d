"""Voicemail settings in the service layer: per-user settings, the mailbox PIN, the recorded
greeting and name, and the organisation's mailbox limits.

* :func:`get_voicemail_settings` gives the settings in effect (the defaults when the user has
  no row): a plain :class:`VoicemailPrefs` value, without the audio.
* :func:`update_voicemail_settings` changes any subset; everything is validated before
  anything is written. Key 1 of the greeting (``transfer_target``, "connect to another number
  for work matters") and key 1 of the absence notice (``customer_service_number``) are
  refused by the forwarding rule (:func:`vipcall.directory.presence.validate_forward_target`:
  invalid, premium-rate/shared-cost, the user's own number, a loop). Turning an offer on
  needs its number; clearing the number turns the offer off.
* The PIN (4-8 digits) is stored as an argon2id hash like passwords.
* Greeting and name audio are stored as WAV, 8 kHz, mono, 16-bit (what Asterisk plays
  without transcoding): such a WAV is stored as given; anything else sox reads (other WAV
  rates, AIFF, FLAC, Ogg, ...) is converted with ``sox`` in a subprocess, and what sox cannot
  read (MP3, AAC/M4A, WebM/Opus from a browser's recorder) with ``ffmpeg``.
"""

from __future__ import annotations

import asyncio
import enum
import io
import re
import shutil
import tempfile
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vipcall.db.models import NOTIFY_BY, Organization, User, VoicemailSettings
from vipcall.directory.errors import DirectoryError, ForwardRefused, InvalidField
from vipcall.directory.organizations import get_organization
from vipcall.directory.presence import validate_forward_target
from vipcall.directory.users import get_user
from vipcall.voicemail.limits import MailboxLimits

# --- the settings ---------------------------------------------------------------------------

#: Repeat caller breaks through: bounds of "N calls within M minutes".
REPEAT_CALLS_RANGE = (2, 20)
REPEAT_MINUTES_RANGE = (1, 120)


@dataclass(frozen=True, slots=True)
class VoicemailPrefs:
    """A user's voicemail settings in effect (no audio; ``has_*`` say what is recorded)."""

    user_id: int
    greeting_mode: str = "default"
    announce_activity: bool = False
    announce_end_time: bool = False
    offer_transfer: bool = False
    transfer_target: str | None = None
    offer_bypass: bool = False
    notify_by: str = "sms"
    offer_customer_service: bool = False
    customer_service_number: str | None = None
    notice_on_scheduled_red: bool = False
    repeat_breakthrough: bool = False
    repeat_calls: int = 3
    repeat_minutes: int = 10
    has_pin: bool = False
    has_greeting: bool = False
    has_name: bool = False

    @property
    def key1_target(self) -> str | None:
        """The number key 1 of the greeting connects to, when it is offered."""
        return self.transfer_target if self.offer_transfer else None

    @property
    def absence_key1_target(self) -> str | None:
        """The number key 1 of the absence notice connects to, when it is offered."""
        return self.customer_service_number if self.offer_customer_service else None


_SETTING_COLUMNS = (
    VoicemailSettings.greeting_mode,
    VoicemailSettings.announce_activity,
    VoicemailSettings.announce_end_time,
    VoicemailSettings.offer_transfer,
    VoicemailSettings.transfer_target,
    VoicemailSettings.offer_bypass,
    VoicemailSettings.notify_by,
    VoicemailSettings.offer_customer_service,
    VoicemailSettings.customer_service_number,
    VoicemailSettings.notice_on_scheduled_red,
    VoicemailSettings.repeat_breakthrough,
    VoicemailSettings.repeat_calls,
    VoicemailSettings.repeat_minutes,
)


async def get_voicemail_settings(session: AsyncSession, user: User | str | int) -> VoicemailPrefs:
    """The user's voicemail settings in effect (defaults when the user has no row)."""
    owner = await get_user(session, user)
    row = (
        await session.execute(
            select(
                *_SETTING_COLUMNS,
                VoicemailSettings.pin_hash.is_not(None),
                VoicemailSettings.greeting_audio.is_not(None),
                VoicemailSettings.name_audio.is_not(None),
            ).where(VoicemailSettings.user_id == owner.id)
        )
    ).one_or_none()
    if row is None:
        return VoicemailPrefs(user_id=owner.id)
    values = tuple(row)
    names = [c.key for c in _SETTING_COLUMNS]
    settings = dict(zip(names, values[: len(names)], strict=True))
    has_pin, has_greeting, has_name = values[len(names) :]
    return VoicemailPrefs(
        user_id=owner.id,
        has_pin=bool(has_pin),
        has_greeting=bool(has_greeting),
        has_name=bool(has_name),
        **settings,
    )


async def _settings_row(session: AsyncSession, owner: User) -> VoicemailSettings:
    """The user's row, created with the defaults when missing."""
    row: VoicemailSettings | None = await session.scalar(
        select(VoicemailSettings).where(VoicemailSettings.user_id == owner.id)
    )
    if row is None:
        d = VoicemailPrefs(user_id=owner.id)
        row = VoicemailSettings(
            user_id=owner.id,
            greeting_mode=d.greeting_mode,
            announce_activity=d.announce_activity,
            announce_end_time=d.announce_end_time,
            offer_transfer=d.offer_transfer,
            offer_bypass=d.offer_bypass,
            notify_by=d.notify_by,
            offer_customer_service=d.offer_customer_service,
            notice_on_scheduled_red=d.notice_on_scheduled_red,
            repeat_breakthrough=d.repeat_breakthrough,
            repeat_calls=d.repeat_calls,
            repeat_minutes=d.repeat_minutes,
        )
        session.add(row)
        await session.flush()
    row.updated_at = datetime.now(UTC)
    return row


class _Unset(enum.Enum):
    UNSET = 0


#: "Leave unchanged" for :func:`update_voicemail_settings`.
UNSET = _Unset.UNSET


def _int_in(field: str, value: int | str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidField(
            field, f"{value!r} is not a whole number", fi=f"{value!r} ei ole kokonaisluku"
        ) from None
    if not low <= number <= high:
        raise InvalidField(
            field,
            f"must be between {low} and {high}, not {number}",
            fi=f"pitää olla välillä {low}–{high}, ei {number}",
        )
    return number


def _notify_by(owner: User, raw: str) -> str:
    value = raw.strip().lower()
    if value not in NOTIFY_BY:
        raise InvalidField(
            "notify_by",
            f"{raw!r} is not one of {', '.join(NOTIFY_BY)}",
            fi=f"{raw!r} ei kelpaa (sallitut: {', '.join(NOTIFY_BY)})",
        )
    if value in ("email", "both") and not owner.email:
        raise InvalidField(
            "notify_by",
            f"{owner.username} has no e-mail address",
            fi=f"käyttäjällä {owner.username} ei ole sähköpostiosoitetta",
        )
    return value


async def _target(session: AsyncSession, owner: User, field: str, raw: str | None) -> str | None:
    """A key-1 number validated like a forwarding target (``None``/empty -> None)."""
    if raw is None or not raw.strip():
        return None
    try:
        return await validate_forward_target(session, owner, raw)
    except ForwardRefused as exc:
        exc.field = field
        exc.args = (str(exc),)
        raise


async def update_voicemail_settings(
    session: AsyncSession,
    user: User | str | int,
    *,
    notify_by: str | _Unset = UNSET,
    announce_activity: bool | _Unset = UNSET,
    announce_end_time: bool | _Unset = UNSET,
    offer_transfer: bool | _Unset = UNSET,
    transfer_target: str | None | _Unset = UNSET,
    offer_bypass: bool | _Unset = UNSET,
    offer_customer_service: bool | _Unset = UNSET,
    customer_service_number: str | None | _Unset = UNSET,
    notice_on_scheduled_red: bool | _Unset = UNSET,
    repeat_breakthrough: bool | _Unset = UNSET,
    repeat_calls: int | str | _Unset = UNSET,
    repeat_minutes: int | str | _Unset = UNSET,
) -> VoicemailPrefs:
    """Change the given settings (the rest stay). Validates all of them first; raises
    :class:`InvalidField` or :class:`ForwardRefused` (field ``transfer_target`` /
    ``customer_service_number``) and then changes nothing. Returns the settings in effect."""
    owner = await get_user(session, user)
    current = await get_voicemail_settings(session, owner)
    changes: dict[str, object] = {}
    if notify_by is not UNSET:
        changes["notify_by"] = _notify_by(owner, notify_by)
    for key, flag in (
        ("announce_activity", announce_activity),
        ("announce_end_time", announce_end_time),
        ("offer_bypass", offer_bypass),
        ("notice_on_scheduled_red", notice_on_scheduled_red),
        ("repeat_breakthrough", repeat_breakthrough),
    ):
        if flag is not UNSET:
            changes[key] = bool(flag)
    if repeat_calls is not UNSET:
        changes["repeat_calls"] = _int_in("repeat_calls", repeat_calls, *REPEAT_CALLS_RANGE)
    if repeat_minutes is not UNSET:
        changes["repeat_minutes"] = _int_in("repeat_minutes", repeat_minutes, *REPEAT_MINUTES_RANGE)
    for offer_key, offer, number_key, number, what, what_fi in (
        (
            "offer_transfer",
            offer_transfer,
            "transfer_target",
            transfer_target,
            "key 1",
            "näppäin 1",
        ),
        (
            "offer_customer_service",
            offer_customer_service,
            "customer_service_number",
            customer_service_number,
            "absence notice key 1",
            "poissaolotiedotteen näppäin 1",
        ),
    ):
        if number is not UNSET:
            changes[number_key] = await _target(session, owner, number_key, number)
        target = changes.get(number_key, getattr(current, number_key))
        if offer is not UNSET:
            if offer and target is None:
                raise InvalidField(
                    offer_key,
                    f"{what} needs a number: set {number_key} first",
                    fi=f"{what_fi} vaatii numeron: aseta ensin {number_key}",
                )
            changes[offer_key] = bool(offer)
        elif number is not UNSET and target is None:
            changes[offer_key] = False
    if changes:
        row = await _settings_row(session, owner)
        for key, value in changes.items():
            setattr(row, key, value)
        await session.flush()
    return await get_voicemail_settings(session, owner)


# --- PIN ------------------------------------------------------------------------------------

PIN_LENGTH = (4, 8)
_PIN = re.compile(r"^[0-9]{4,8}$")
_hasher = PasswordHasher()


def hash_pin(pin: str) -> str:
    """argon2id hash of a 4-8 digit PIN (raises :class:`InvalidField` otherwise)."""
    if not isinstance(pin, str) or not _PIN.match(pin):
        raise InvalidField(
            "pin",
            f"must be {PIN_LENGTH[0]} to {PIN_LENGTH[1]} digits",
            fi=f"PIN-koodissa pitää olla {PIN_LENGTH[0]}–{PIN_LENGTH[1]} numeroa",
        )
    return _hasher.hash(pin)


def pin_matches(pin_hash: str | None, pin: str) -> bool:
    """True if ``pin`` matches ``pin_hash`` (False when no PIN is set)."""
    if not pin_hash or not isinstance(pin, str) or not _PIN.match(pin):
        return False
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


async def set_pin(session: AsyncSession, user: User | str | int, pin: str) -> None:
    """Set the user's mailbox PIN."""
    owner = await get_user(session, user)
    # argon2 takes ~50 ms of CPU: hashed in a thread, so the event loop goes on meanwhile.
    hashed = await asyncio.to_thread(hash_pin, pin)
    row = await _settings_row(session, owner)
    row.pin_hash = hashed
    await session.flush()


async def clear_pin(session: AsyncSession, user: User | str | int) -> None:
    """Remove the user's PIN (the mailbox then opens only from the user's own numbers)."""
    owner = await get_user(session, user)
    row = await _settings_row(session, owner)
    row.pin_hash = None
    await session.flush()


async def verify_pin(session: AsyncSession, user: User | str | int, pin: str) -> bool:
    """True if ``pin`` is the user's PIN (False when none is set)."""
    owner = await get_user(session, user)
    pin_hash = await session.scalar(
        select(VoicemailSettings.pin_hash).where(VoicemailSettings.user_id == owner.id)
    )
    # argon2 (~50 ms of CPU) in a thread, as set_pin: the event loop goes on meanwhile.
    return await asyncio.to_thread(pin_matches, pin_hash, pin)


# --- greeting and name audio ----------------------------------------------------------------

AudioKind = Literal["greeting", "name"]
#: Longest greeting / recorded name accepted, in seconds.
MAX_AUDIO_SECONDS: dict[AudioKind, int] = {"greeting": 120, "name": 10}
SAMPLE_RATE = 8000
SOX_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class StoredAudio:
    """What was stored: always WAV 8 kHz mono 16-bit; ``converted_from`` describes the input
    when sox converted it (``None`` when stored as given)."""

    kind: AudioKind
    wav: bytes
    frames: int
    converted_from: str | None = None

    @property
    def seconds(self) -> float:
        return self.frames / SAMPLE_RATE


def _wav_params(data: bytes) -> wave._wave_params | None:
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            return w.getparams()
    except (wave.Error, EOFError, ValueError):
        return None


def _is_target_format(params: wave._wave_params) -> bool:
    return (
        params.framerate == SAMPLE_RATE
        and params.nchannels == 1
        and params.sampwidth == 2
        and params.comptype == "NONE"
    )


async def _sox_convert(data: bytes, field: str, suffix: str) -> bytes:
    sox = shutil.which("sox")
    if sox is None:
        raise DirectoryError(
            "sox is not installed: only WAV 8 kHz mono 16-bit can be stored",
            fi="sox-ohjelmaa ei ole asennettu: tallentaa voi vain WAV-ääntä (8 kHz, mono, 16-bit)",
            field=field,
        )
    with tempfile.TemporaryDirectory(prefix="vipcall-audio-") as tmp:
        src = Path(tmp) / f"input{suffix}"
        dst = Path(tmp) / "output.wav"
        src.write_bytes(data)
        proc = await asyncio.create_subprocess_exec(
            sox,
            "-V1",
            str(src),
            "-t",
            "wav",
            "-r",
            str(SAMPLE_RATE),
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(dst),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await _converted(proc, dst, field, "sox", "sox FAIL ")
        return dst.read_bytes()


async def _converted(
    proc: asyncio.subprocess.Process, dst: Path, field: str, tool: str, prefix: str = ""
) -> None:
    """Wait for a converter writing ``dst``; its failure or a timeout as a field error."""
    try:
        _, err = await asyncio.wait_for(proc.communicate(), SOX_TIMEOUT_SECONDS)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise InvalidField(
            field, "converting the audio took too long", fi="äänen muuntaminen kesti liian kauan"
        ) from None
    if proc.returncode != 0 or not dst.exists():
        lines = err.decode(errors="replace").strip().splitlines()
        why = lines[-1].removeprefix(prefix).strip() if lines else "unknown error"
        raise InvalidField(
            field,
            f"is not audio {tool} can read ({why})",
            fi=f"{tool} ei pysty lukemaan ääntä ({why})",
        )


async def _ffmpeg_convert(data: bytes, field: str, suffix: str) -> bytes:
    """What sox cannot read (MP3, AAC/M4A, WebM/Opus from a browser's recorder, ...) through
    ffmpeg; its WAV is rewritten with a plain header (no LIST chunk)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise InvalidField(
            field,
            "is not audio sox can read, and ffmpeg is not installed",
            fi="sox ei pysty lukemaan ääntä, eikä ffmpeg-ohjelmaa ole asennettu",
        )
    with tempfile.TemporaryDirectory(prefix="vipcall-audio-") as tmp:
        src = Path(tmp) / f"input{suffix}"
        dst = Path(tmp) / "output.wav"
        src.write_bytes(data)
        proc = await asyncio.create_subprocess_exec(
            ffmpeg,
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(src),
            "-vn",
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-c:a",
            "pcm_s16le",
            "-f",
            "wav",
            str(dst),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await _converted(proc, dst, field, "ffmpeg")
        with wave.open(str(dst), "rb") as w:
            frames = w.readframes(w.getnframes())
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(frames)
    return out.getvalue()


async def _convert(data: bytes, field: str, suffix: str) -> bytes:
    """sox first (WAV, FLAC, Ogg Vorbis, AIFF, ...), then ffmpeg for what sox cannot read."""
    try:
        return await _sox_convert(data, field, suffix)
    except InvalidField as sox_error:
        if shutil.which("ffmpeg") is None:
            raise
        try:
            return await _ffmpeg_convert(data, field, suffix)
        except InvalidField as ffmpeg_error:
            raise InvalidField(
                field,
                f"{sox_error.message}; {ffmpeg_error.message.removeprefix('is ')}",
                fi=f"{sox_error.message_fi}; {ffmpeg_error.message_fi}",
            ) from None
    except DirectoryError:
        # sox is not installed
        return await _ffmpeg_convert(data, field, suffix)


def _describe(params: wave._wave_params | None, suffix: str) -> str:
    if params is None:
        return suffix.lstrip(".") or "audio"
    channels = {1: "mono", 2: "stereo"}.get(params.nchannels, f"{params.nchannels} channels")
    return f"WAV {params.framerate} Hz {channels} {params.sampwidth * 8}-bit"


async def prepare_audio(
    data: bytes, kind: AudioKind, *, filename: str | None = None
) -> StoredAudio:
    """``data`` as WAV 8 kHz mono 16-bit (converted by sox unless it already is one), checked
    to hold some audio and at most :data:`MAX_AUDIO_SECONDS`. ``filename`` helps sox with
    formats it knows by their extension. Raises :class:`InvalidField` (field ``kind``)."""
    field = f"{kind}_audio"
    if not data:
        raise InvalidField(field, "is empty", fi="tiedosto on tyhjä")
    params = _wav_params(data)
    converted_from = None
    if params is not None and _is_target_format(params):
        wav = data
    else:
        suffix = Path(filename).suffix.lower() if filename else ""
        if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
            suffix = ".wav" if params is not None else ""
        wav = await _convert(data, field, suffix)
        converted_from = _describe(params, suffix)
    out = _wav_params(wav)
    if out is None or not _is_target_format(out):
        raise InvalidField(
            field,
            "could not be converted to WAV 8 kHz mono 16-bit",
            fi="ääntä ei voitu muuntaa muotoon WAV 8 kHz mono 16-bit",
        )
    if out.nframes == 0:
        raise InvalidField(field, "contains no audio", fi="tiedostossa ei ole ääntä")
    seconds = out.nframes / SAMPLE_RATE
    limit = MAX_AUDIO_SECONDS[kind]
    if seconds > limit:
        seconds_fi = f"{seconds:.1f}".replace(".", ",")  # a decimal comma in Finnish
        raise InvalidField(
            field,
            f"is {seconds:.1f} s long; at most {limit} s",
            fi=f"äänite on {seconds_fi} s pitkä; enintään {limit} s",
        )
    return StoredAudio(kind, wav, out.nframes, converted_from)


async def _has_audio(session: AsyncSession, owner: User, kind: AudioKind) -> bool:
    column = (
        VoicemailSettings.greeting_audio if kind == "greeting" else VoicemailSettings.name_audio
    )
    found = await session.scalar(
        select(column.is_not(None)).where(VoicemailSettings.user_id == owner.id)
    )
    return bool(found)


async def _greeting_mode(session: AsyncSession, owner: User) -> str:
    """``personal`` with a recorded greeting, else ``name`` with a recorded name, else
    ``default`` (what the caller hears first)."""
    if await _has_audio(session, owner, "greeting"):
        return "personal"
    return "name" if await _has_audio(session, owner, "name") else "default"


async def set_audio(
    session: AsyncSession,
    user: User | str | int,
    kind: AudioKind,
    data: bytes,
    *,
    filename: str | None = None,
) -> StoredAudio:
    """Store the user's greeting or recorded name (see :func:`prepare_audio`)."""
    owner = await get_user(session, user)
    audio = await prepare_audio(data, kind, filename=filename)
    row = await _settings_row(session, owner)
    if kind == "greeting":
        row.greeting_audio = audio.wav
    else:
        row.name_audio = audio.wav
    await session.flush()
    row.greeting_mode = await _greeting_mode(session, owner)
    await session.flush()
    return audio


async def delete_audio(session: AsyncSession, user: User | str | int, kind: AudioKind) -> bool:
    """Delete the user's greeting or recorded name; False if there was none."""
    owner = await get_user(session, user)
    if not await _has_audio(session, owner, kind):
        return False
    row = await _settings_row(session, owner)
    if kind == "greeting":
        row.greeting_audio = None
    else:
        row.name_audio = None
    await session.flush()
    row.greeting_mode = await _greeting_mode(session, owner)
    await session.flush()
    return True


async def get_audio(session: AsyncSession, user: User | str | int, kind: AudioKind) -> bytes | None:
    """The user's greeting or recorded name (WAV 8 kHz mono 16-bit), or None."""
    owner = await get_user(session, user)
    column = (
        VoicemailSettings.greeting_audio if kind == "greeting" else VoicemailSettings.name_audio
    )
    data: bytes | None = await session.scalar(
        select(column).where(VoicemailSettings.user_id == owner.id)
    )
    return data


async def set_greeting_audio(
    session: AsyncSession, user: User | str | int, data: bytes, *, filename: str | None = None
) -> StoredAudio:
    return await set_audio(session, user, "greeting", data, filename=filename)


async def set_name_audio(
    session: AsyncSession, user: User | str | int, data: bytes, *, filename: str | None = None
) -> StoredAudio:
    return await set_audio(session, user, "name", data, filename=filename)


async def delete_greeting_audio(session: AsyncSession, user: User | str | int) -> bool:
    return await delete_audio(session, user, "greeting")


async def delete_name_audio(session: AsyncSession, user: User | str | int) -> bool:
    return await delete_audio(session, user, "name")


# --- organisation limits --------------------------------------------------------------------

#: Bounds of the organisation's voicemail limits.
LIMIT_RANGES: dict[str, tuple[int, int]] = {
    "max_message_seconds": (1, 3600),
    "max_messages": (1, 10000),
    "keep_unheard_days": (1, 3650),
    "keep_heard_days": (1, 3650),
}


def limits_of(org: Organization) -> MailboxLimits:
    """The organisation's mailbox limits."""
    return MailboxLimits(
        max_message_seconds=org.vm_max_message_seconds,
        max_messages=org.vm_max_messages,
        keep_unheard_days=org.vm_keep_unheard_days,
        keep_heard_days=org.vm_keep_heard_days,
    )


async def get_voicemail_limits(
    session: AsyncSession, organization: Organization | str | int
) -> MailboxLimits:
    return limits_of(await get_organization(session, organization))


async def set_voicemail_limits(
    session: AsyncSession,
    organization: Organization | str | int,
    *,
    max_message_seconds: int | str | None = None,
    max_messages: int | str | None = None,
    keep_unheard_days: int | str | None = None,
    keep_heard_days: int | str | None = None,
) -> MailboxLimits:
    """Change the given limits (``None`` = unchanged): positive whole numbers, see
    :data:`LIMIT_RANGES`. Validates all before changing any; returns the limits in effect."""
    org = await get_organization(session, organization)
    given = {
        "max_message_seconds": max_message_seconds,
        "max_messages": max_messages,
        "keep_unheard_days": keep_unheard_days,
        "keep_heard_days": keep_heard_days,
    }
    wanted = {
        key: _int_in(key, value, *LIMIT_RANGES[key])
        for key, value in given.items()
        if value is not None
    }
    if not wanted:
        raise InvalidField("limits", "nothing to change", fi="ei mitään muutettavaa")
    for key, value in wanted.items():
        setattr(org, f"vm_{key}", value)
    await session.flush()
    return limits_of(org)
