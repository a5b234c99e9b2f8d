"""The contract with the dialplan (``dialplan/extensions.conf``): the contexts the app
hands channels to, and how a ring decision is packed for ``[vipcall-ring]``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from vipcall.ari import AriClient, AriError, AriNotFound
from vipcall.routing.decisions import Cause, Handset, Presentation, Pstn, Ring, Softphone, Target

#: Rings a decision's targets; the channel comes back to the app only if nobody answers.
RING_CONTEXT = "vipcall-ring"
#: ``R<VIP_RING>`` as the extension in :data:`RING_CONTEXT` carries the ring decision
#: itself, so the hand-off is one ARI request (``continue``) instead of two (set the
#: variable, then continue); :func:`ring_extension`.
RING_EXTEN_PREFIX = "R"
#: Longest extension Asterisk keeps (AST_MAX_EXTENSION is 80 with the terminating NUL).
MAX_EXTENSION = 79
#: Hangs up with the Q.850 cause given as the extension.
CAUSE_CONTEXT = "vipcall-cause"
#: Plays prompts of the catalogue and hangs up (cause 16): ``S<lang>.<id>[.<id>...]`` as
#: the extension (:func:`say_extension`). A confirmation that ends a call is then answer +
#: continue instead of answer + play + waiting for its end + hangup.
SAY_CONTEXT = "vipcall-say"
SAY_EXTEN_PREFIX = "S"
#: Where the app sends a call it cannot decide (DB down): the same fail-open path Asterisk
#: takes when the app itself is down.
FAIL_OPEN_CONTEXT = "vipcall-failopen"


def dial_string(targets: Iterable[Target]) -> str:
    """The Asterisk Dial() string for the decision's targets."""
    parts = []
    for target in targets:
        match target:
            case Handset(mobile):
                parts.append(f"PJSIP/{mobile}@mobile")
            case Softphone(endpoint):
                parts.append(f"PJSIP/{endpoint}")
            case Pstn(number):
                parts.append(f"PJSIP/{number}@pstn")
    return "&".join(parts)


def ring_spec(ring: Ring, called: str | None) -> str:
    """Pack a Ring decision into the one channel variable ``VIP_RING`` the dialplan reads:
    ``timeout|user id|called number|caller id number|presentation|dial string``.

    The user id and called number come back in the Stasis arguments when nobody answers,
    so the voicemail flow knows whose mailbox it is without keeping per-call memory. The
    caller id number is E.164 or ``anonymous`` (with presentation ``prohib``: a caller ID
    that is not a number, :func:`vipcall.routing.rules.inbound_caller_id`); empty keeps the
    caller's own.
    """
    cid: Presentation | None = ring.caller_id
    number = cid.number if cid and cid.number else ""
    presentation = "prohib" if cid and cid.restricted else ""
    user = "" if ring.user_id is None else str(ring.user_id)
    called = called or ""
    targets = dial_string(ring.targets)
    return f"{ring.timeout or ''}|{user}|{called}|{number}|{presentation}|{targets}"


def ring_extension(spec: str) -> str | None:
    """The extension of :data:`RING_CONTEXT` that carries ``spec`` (a :func:`ring_spec`),
    or ``None`` when it does not fit (then ``VIP_RING`` is set on the channel and the
    extension is ``s``). The dialplan copies ``${EXTEN:1}`` into ``VIP_RING``."""
    exten = RING_EXTEN_PREFIX + spec
    if len(exten) > MAX_EXTENSION or not exten.isprintable() or " " in exten:
        return None
    return exten


def say_extension(media: Iterable[str]) -> str | None:
    """The extension of :data:`SAY_CONTEXT` that plays ``media`` (prompt URIs
    ``sound:vipcall/<lang>/<id>`` of one language, in order) and hangs up; ``None`` when
    the media are not all such prompts or the list does not fit in an extension (the caller
    then plays them over ARI)."""
    lang: str | None = None
    ids: list[str] = []
    for uri in media:
        scheme, _, path = uri.partition(":")
        parts = path.split("/")
        if scheme != "sound" or len(parts) != 3 or parts[0] != "vipcall":
            return None
        if lang is not None and parts[1] != lang:
            return None
        lang = parts[1]
        ids.append(parts[2])
    if lang is None or not all(_say_safe(x) for x in [lang, *ids]):
        return None
    exten = SAY_EXTEN_PREFIX + ".".join([lang, *ids])
    return exten if len(exten) <= MAX_EXTENSION else None


def _say_safe(name: str) -> bool:
    return bool(name) and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)


async def hang_up(ari: AriClient, channel_id: str, cause: Cause) -> None:
    """Hang up a channel in our Stasis app with an exact Q.850 cause (through
    ``[vipcall-cause]``: ARI's own hangup reasons have no 20 or 28)."""
    try:
        await ari.continue_in_dialplan(channel_id, CAUSE_CONTEXT, str(int(cause)), 1)
    except AriNotFound:
        pass  # already gone
    except AriError:
        with contextlib.suppress(AriNotFound):
            await ari.hangup(channel_id, reason="normal")
