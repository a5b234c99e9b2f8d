"""A caller leaves a message in a user's mailbox (the flow of a :class:`Voicemail` decision).

1. One read of the mailbox (:mod:`vipcall.store.mailbox`): settings, recordings, the
   organisation's limits and time zone, the message count. A red-landline call also notes
   the stopped call (repeat callers break through later).
2. A full mailbox says so and takes no message; the keys the greeting would offer are
   still offered (then cause 16).
3. The greeting (:mod:`vipcall.voicemail.greeting`): the user's own, else name/number +
   default, with the activity and its end time while red when the user wants them, and the
   keys the user offers. After the absence notice only "leave a message after the tone".
4. A key during the greeting: 1 connects to the user's work number, 2 rings the user past
   the rule that sent the call here; anything else (or nothing) goes on to the tone.
5. Tone and recording; ``#``, silence, the length limit or hanging up ends it.

The audio is fetched from Asterisk and stored by vipcall (PostgreSQL) as soon as the
recording ends — also when the caller hangs up mid-message — then removed from Asterisk.
A recording that cannot be stored yet stays on Asterisk, named after its mailbox
(:mod:`vipcall.voicemail.naming`), for :func:`recover_messages`. A recording shorter than a
second is not a message (:func:`vipcall.voicemail.limits.is_a_message`) and is discarded.
When the mailbox cannot be read (database away), the caller hears the default greeting and
can still leave a message: it is stored by the recovery round once the database is back.
"""

from __future__ import annotations

import asyncio
import io
import logging
import wave
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vipcall.calls.channel import CallChannel, CallGone
from vipcall.calls.context import CallContext, MailboxStore
from vipcall.calls.media import MediaKind, media_uri
from vipcall.calls.recordings import StoredRecordings
from vipcall.calls.route import Routed, reachable_only
from vipcall.metrics import MESSAGES, UNSAVED
from vipcall.presence.forwarding import destination_refusal
from vipcall.prompts.media import sound
from vipcall.routing.decisions import Cause, Presentation, Pstn, Ring, Voicemail
from vipcall.routing.rules import (
    ABSENCE_NOTICE,
    LANDLINE_RED,
    ROUTED_TO_VOICEMAIL,
    caller_id_change,
    outgoing_caller_id,
    ring_user,
)
from vipcall.routing.snapshot import NewCall, Subscriber, Trunk
from vipcall.store.mailbox import MailboxProfile
from vipcall.voicemail.greeting import GreetingFacts, greeting, key_prompts
from vipcall.voicemail.limits import MailboxSlots, is_a_message
from vipcall.voicemail.naming import parse_recording_name, recording_name

#: Recording stops after this much silence (seconds).
MAX_SILENCE = 10
#: Seconds storing a message may take before it is left for the next recovery round.
SAVE_TIMEOUT = 10.0
#: Seconds a caller may still press an offered key after the greeting, before the tone.
KEY_GRACE = 1.0
DEFAULT_TIME_ZONE = "Europe/Helsinki"

log = logging.getLogger("vipcall.voicemail")
#: Messages being left now in this app process, counted against each mailbox's limit.
LEAVING = MailboxSlots()
Log = logging.Logger | logging.LoggerAdapter[logging.Logger]


# --- what the caller hears (pure) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Greeting:
    """What one caller hears before the tone and which keys do something."""

    media: list[str]
    key1: str | None = None
    """Key 1 connects to this number."""
    key2: bool = False
    """Key 2 rings the user past the rule that sent the call here."""
    max_seconds: int = 180
    """Longest message."""
    keys: tuple[str, ...] = ()
    """The prompts that offer the keys (the end of ``media``)."""

    @property
    def offers_keys(self) -> bool:
        return self.key1 is not None or self.key2


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r: using %s", name, DEFAULT_TIME_ZONE)
        return ZoneInfo(DEFAULT_TIME_ZONE)


def plan_greeting(
    profile: MailboxProfile,
    user: Subscriber | None,
    reason: str,
    dialled: str | None,
    media_url: str,
    now: datetime,
    service_max_seconds: int,
) -> Greeting:
    """The greeting for this mailbox and this call. ``user``: the called user's snapshot
    (activity now; ``None`` when it could not be read: then no activity and no key 2)."""
    max_seconds = min(profile.limits.max_message_seconds, service_max_seconds)
    lang = profile.language
    if reason == ABSENCE_NOTICE:
        # The caller heard the notice (twice): no greeting again, no keys.
        return Greeting([sound("voicemail-leave-message", lang)], max_seconds=max_seconds)
    key1 = profile.key1_target
    if key1 is not None and destination_refusal(key1, profile.dial_policy) is not None:
        key1 = None  # the organisation no longer lets the service call it
    key2 = reason in ROUTED_TO_VOICEMAIL and profile.offer_bypass and user is not None
    red = user is not None and user.is_red
    facts = GreetingFacts(
        number=dialled or profile.mobile,
        greeting_url=_recording(media_url, MediaKind.GREETING, profile, profile.greeting_version),
        name_url=_recording(media_url, MediaKind.NAME, profile, profile.name_version),
        red_activity=int(user.activity) if user is not None and red else None,
        red_until=user.red_until if user is not None and red else None,
        announce_activity=profile.announce_activity,
        announce_end_time=profile.announce_end_time,
        offer_key_1=key1 is not None,
        offer_key_2=key2,
    )
    media = greeting(facts, now, time_zone(profile.time_zone), lang)
    return Greeting(media, key1, key2, max_seconds, tuple(key_prompts(facts, lang)))


def full_mailbox(plan: Greeting, lang: str) -> Greeting:
    """A full mailbox says so and takes no message, but offers the keys the greeting would
    (a caller who cannot leave a message may still reach the work number or the user)."""
    return Greeting(
        [sound("voicemail-mailbox-full", lang), *plan.keys], plan.key1, plan.key2, 0, plan.keys
    )


def _recording(
    url: str, kind: MediaKind, profile: MailboxProfile, version: int | None
) -> str | None:
    return None if version is None else media_uri(url, kind, profile.user_id, version)


def shown_caller_id(call: NewCall, party: Subscriber | None, user_id: int) -> Presentation | None:
    """What the phones a key rings are shown: a colleague's own call (the routed party is
    the caller) their role's number, a call from outside the caller's number or anonymous."""
    own = call.trunk in (Trunk.MOBILE, Trunk.SOFTPHONE)
    if own and party is not None and party.id != user_id:
        return outgoing_caller_id(party)
    return caller_id_change(call)


# --- the flow -----------------------------------------------------------------------------------


async def deposit(ch: CallChannel, ctx: CallContext, routed: Routed) -> str:
    """The flow of a :class:`Voicemail` decision; returns the outcome label."""
    decision = routed.decision
    assert isinstance(decision, Voicemail)
    user_id, reason, call = decision.user_id, decision.reason, routed.call
    profile, user, _ = await asyncio.gather(
        _profile(ch, ctx, user_id),
        _called_user(ch, ctx, routed, user_id),
        _note_stopped(ch, ctx, user_id, call.caller if reason == LANDLINE_RED else None),
    )
    if profile is not None and not LEAVING.take(user_id, profile.messages, profile.limits):
        held = LEAVING.held[user_id]
        ch.log.info("mailbox of user %s is full (%d messages): no message taken (%d more "
                    "being left now)", user_id, profile.messages, held)  # fmt: skip
        lang = profile.language
        would = plan_greeting(profile, user, reason, call.dialled, ctx.media_url,
                              datetime.now(UTC), ctx.max_message_seconds)  # fmt: skip
        plan = full_mailbox(would, lang)
        if not ch.answered:
            await ch.answer()
        key = await ch.prompt_digit(plan.media, KEY_GRACE if plan.offers_keys else 0.0)
        taken = await _take_key(ch, ctx, routed, plan, user, key, lang)
        if taken is not None:
            return f"{taken}_full"
        await ch.hangup(Cause.NORMAL)
        return "voicemail_full"
    try:
        return await _greet_and_record(ch, ctx, routed, profile, user)
    finally:
        if profile is not None:
            LEAVING.give_back(user_id)


async def _greet_and_record(
    ch: CallChannel,
    ctx: CallContext,
    routed: Routed,
    profile: MailboxProfile | None,
    user: Subscriber | None,
) -> str:
    """The greeting, its keys, the tone and the recording (the mailbox has room)."""
    decision = routed.decision
    assert isinstance(decision, Voicemail)
    user_id, reason, call = decision.user_id, decision.reason, routed.call
    if not ch.answered:
        await ch.answer()
    if profile is None:
        # The mailbox cannot be read: the default greeting, and the message is kept (on
        # Asterisk until the database is back).
        lang = routed.language(ctx)
        plan = Greeting([sound("voicemail-greeting-default", lang)], None, False,
                        ctx.max_message_seconds)  # fmt: skip
    else:
        lang = profile.language
        plan = plan_greeting(profile, user, reason, call.dialled, ctx.media_url,
                             datetime.now(UTC), ctx.max_message_seconds)  # fmt: skip
    ch.log.info("greeting for user %s (%s): %s", user_id, reason, " ".join(plan.media))
    key = await ch.prompt_digit(plan.media, KEY_GRACE if plan.offers_keys else 0.0)
    taken = await _take_key(ch, ctx, routed, plan, user, key, lang)
    if taken is not None:
        return taken
    await ch.play([sound("beep", lang)])
    await record_message(ch, ctx, user_id, call.caller, call.dialled, lang, plan.max_seconds)
    return "voicemail"


async def _take_key(
    ch: CallChannel,
    ctx: CallContext,
    routed: Routed,
    plan: Greeting,
    user: Subscriber | None,
    key: str | None,
    lang: str,
) -> str | None:
    """Key 1 connects to the work number, key 2 rings the user past the rule that sent the
    call here, when offered; the outcome label, or ``None`` for any other key or none."""
    decision = routed.decision
    assert isinstance(decision, Voicemail)
    user_id, call = decision.user_id, routed.call
    caller_id = shown_caller_id(call, routed.party, user_id)
    if key == "1" and plan.key1 is not None:
        ch.log.info("key 1: connecting to %s", plan.key1)
        await ch.play([sound("connecting", lang)])
        ring = Ring((Pstn(plan.key1),), ctx.policy.outbound_timeout or 0, None, caller_id)
        await ch.hand_off(ring, plan.key1)
        return "voicemail_key1"
    if key == "2" and plan.key2 and user is not None:
        ch.log.info("key 2: ringing user %s", user_id)
        ring = ring_user(reachable_only(user, ctx.softphone_reachable), ctx.policy, caller_id)
        await ch.hand_off(ring, call.dialled)
        return "voicemail_key2"
    return None


async def _profile(ch: CallChannel, ctx: CallContext, user_id: int) -> MailboxProfile | None:
    try:
        profile = await asyncio.wait_for(ctx.store.mailbox_profile(user_id), ctx.db_timeout)
    except Exception as exc:  # noqa: BLE001 - the caller can still leave a message
        ch.log.warning("mailbox of user %s not read (%r): default greeting", user_id, exc)
        return None
    if profile is None:
        ch.log.warning("no user %s: default greeting", user_id)
    return profile


async def _called_user(
    ch: CallChannel, ctx: CallContext, routed: Routed, user_id: int
) -> Subscriber | None:
    """The called user's snapshot: the routed party for a call from outside; read again for
    a colleague's own call (then the routed party is the caller)."""
    if routed.party is not None and routed.party.id == user_id:
        return routed.party
    try:
        return await asyncio.wait_for(ctx.store.user(user_id), ctx.db_timeout)
    except Exception as exc:  # noqa: BLE001 - then no activity and no key 2
        ch.log.warning("user %s not read (%r)", user_id, exc)
        return None


async def _note_stopped(
    ch: CallChannel, ctx: CallContext, user_id: int, caller: str | None
) -> None:
    """A red-landline call kept from ringing: counted for "repeat caller breaks through".
    An anonymous caller cannot be counted; a slow database costs only this count."""
    if caller is None:
        return
    try:
        await asyncio.wait_for(ctx.store.note_stopped_call(user_id, caller), ctx.db_timeout)
    except Exception as exc:  # noqa: BLE001 - the message matters more than the count
        ch.log.warning("stopped call of %s to user %s not noted: %r", caller, user_id, exc)


async def leave_message(
    ch: CallChannel,
    ctx: CallContext,
    user_id: int,
    caller: str | None,
    called: str | None,
    lang: str,
) -> None:
    """The default greeting, tone and recording, without reading the mailbox (for flows
    that have no routing decision); :func:`deposit` is the full greeting."""
    if not ch.answered:
        await ch.answer()
    await ch.play([sound("voicemail-greeting-default", lang), sound("beep", lang)])
    await record_message(ch, ctx, user_id, caller, called, lang, ctx.max_message_seconds)


async def record_message(
    ch: CallChannel,
    ctx: CallContext,
    user_id: int,
    caller: str | None,
    called: str | None,
    lang: str,
    max_seconds: int,
) -> None:
    """Record after the tone; the message is kept even if the caller hangs up speaking."""
    name = recording_name(user_id, caller, called, ch.id)
    await ch.record(name, max_seconds=max_seconds, max_silence=MAX_SILENCE)
    try:
        await ch.recording_finished(name, max_seconds + 15)
    except CallGone:
        # The caller hung up while speaking: what was said is still a message.
        await ch.recording_closed(name)
    except TimeoutError:
        ch.log.warning("recording %s did not report its end; stopping it", name)
        await ch.stop_recording(name)
    await keep_message(StoredRecordings(ch.ari), ctx.store, name, ch.log)
    if not ch.gone:
        await ch.play([sound("goodbye", lang)])
        await ch.hangup(Cause.NORMAL)


async def keep_message(
    recordings: StoredRecordings, store: MailboxStore, name: str, log: Log
) -> bool:
    """Store the recording in its mailbox, then remove it from Asterisk. If it cannot be
    stored now, it stays on Asterisk for the next recovery round: never lost. A recording
    shorter than a second is no message and is removed.
    Returns True when the recording has been dealt with (stored, or discarded)."""
    owner = parse_recording_name(name)
    if owner is None:
        return False
    user_id, caller, called = owner
    audio = await recordings.fetch(name)
    if audio is None:
        log.info("no recording %s: no message left for user %s", name, user_id)
        return True
    duration = _duration_ms(audio)
    if is_a_message(duration):
        try:
            message_id = await asyncio.wait_for(
                store.save_message(user_id, caller, called, audio, duration), SAVE_TIMEOUT
            )
        except Exception as exc:  # noqa: BLE001 - kept on Asterisk, stored on recovery
            UNSAVED.inc()
            log.error("message for user %s not stored yet (%r); kept as %s", user_id, exc, name)
            return False
        MESSAGES.inc()
        log.info("message %s stored for user %s (%d ms)", message_id, user_id, duration)
    else:
        log.info("recording of %d ms discarded: no message left for user %s", duration, user_id)
    if not await recordings.delete(name):
        log.warning("could not delete recording %s from Asterisk", name)
    return True


async def recover_messages(
    recordings: StoredRecordings, store: MailboxStore, busy: Container[str]
) -> int:
    """Store messages whose recordings were left on Asterisk (the app restarted, or the
    database was away when the caller finished). ``busy``: calls still recording."""
    stored = 0
    for name in await recordings.names():
        if parse_recording_name(name) is None or name.rsplit("~", 1)[-1] in busy:
            continue
        if await keep_message(recordings, store, name, log):
            stored += 1
    return stored


def _duration_ms(audio: bytes) -> int:
    try:
        with wave.open(io.BytesIO(audio)) as w:
            return int(w.getnframes() * 1000 / w.getframerate())
    except (wave.Error, EOFError):
        return 0
