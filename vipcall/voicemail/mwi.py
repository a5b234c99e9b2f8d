"""Message waiting indicator: a mailbox's new/old counts (kept in PostgreSQL) published to
Asterisk, which sends them to the user's registered softphones as MWI NOTIFYs.

Debian's Asterisk has neither ``res_mwi_external`` nor ``res_ari_mailboxes`` (ARI's
``PUT /mailboxes/{name}`` answers 404 there), so the state is published from the dialplan:
the app originates ``Local/<user id>.<new>.<old>@vipcall-mwi`` and that extension runs
``MinivmMWI(<user id>@vipcall,0,<new>,<old>)`` (``app_minivm``, no accounts). Softphone
endpoints carry ``mailboxes=<user id>@vipcall`` (:mod:`vipcall.service.provisioning`), so
``res_pjsip_mwi`` notifies their contacts unsolicited.

**What changes a mailbox** is not only this app's flows (a message left, heard or deleted on
the phone menu): the web home page, the CLI and the expiry job write the same rows. Migration
0009's trigger notifies ``vipcall_mailbox`` with the owner's user id for every change that can
change the counts, and :class:`vipcall.store.mailbox_notify.MailboxListener` calls
:func:`refresh` for each notified user. A flow's own change is thus refreshed twice (by the
flow, and by the notification), so :func:`refresh` **skips publishing when the counts are the
ones this process last published** to that Asterisk (:func:`published`, a dict per ARI
client: user id -> (new, old), set before the publish; ``None``, "unknown", when it failed).
On every ARI (re)connect every remembered state becomes unknown (:func:`forget`: Asterisk may
have restarted and lost them, or a publish failed while it was away), then the state of every
mailbox with messages and a softphone is published again (:func:`republish`, one query) and
the users still unknown are refreshed (their mailbox emptied meanwhile:
:meth:`vipcall.service.stasis.StasisApp.republish_mwi`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol
from weakref import WeakKeyDictionary

from vipcall.ari import AriClient

log = logging.getLogger("vipcall.voicemail")

MWI_CONTEXT = "vipcall-mwi"
MAILBOX_CONTEXT = "vipcall"


class Counts(Protocol):
    async def message_counts(self, user_id: int) -> tuple[int, int]: ...


#: What this process last published, per Asterisk (ARI client): user id -> (new, old), or
#: ``None`` when what that Asterisk shows is not known (a failed publish, a reconnect).
_published: WeakKeyDictionary[AriClient, dict[int, tuple[int, int] | None]] = WeakKeyDictionary()


def published(ari: AriClient) -> dict[int, tuple[int, int] | None]:
    """The states last published through ``ari`` (user id -> (new, old) or ``None``,
    unknown); see the module doc."""
    memory = _published.get(ari)
    if memory is None:
        memory = _published[ari] = {}
    return memory


def forget(ari: AriClient) -> None:
    """Every state published through ``ari`` becomes unknown (on connect: Asterisk may have
    restarted), so the next :func:`refresh` or :func:`republish` of every user publishes."""
    memory = published(ari)
    for user_id in memory:
        memory[user_id] = None


def mailbox(user_id: int) -> str:
    """The Asterisk mailbox of a user (``mailboxes=`` on their softphone endpoints)."""
    return f"{user_id}@{MAILBOX_CONTEXT}"


def softphone_mailbox(endpoint: str) -> str | None:
    """The mailbox of a softphone endpoint ``sp-<user id>-<n>``."""
    parts = endpoint.split("-")
    if len(parts) == 3 and parts[0] == "sp" and parts[1].isdigit():
        return mailbox(int(parts[1]))
    return None


async def publish(ari: AriClient, user_id: int, new: int, old: int) -> None:
    """Publish the mailbox state (raises :class:`vipcall.ari.AriError` when refused)."""
    await ari.request(
        "POST",
        "/channels",
        {
            "endpoint": f"Local/{user_id}.{new}.{old}@{MWI_CONTEXT}",
            "context": MWI_CONTEXT,
            "extension": "done",
            "priority": "1",
            "timeout": "5",
        },
    )


async def refresh(ari: AriClient, store: Counts, user_id: int) -> bool:
    """Publish the user's mailbox state as the database has it now, unless it is the state
    last published (see the module doc). A failure is logged and never disturbs the call
    (the next change publishes again); returns success (also when there was nothing new)."""
    try:
        new, old = await store.message_counts(user_id)
        await _publish_once(ari, user_id, new, old)
    except Exception as exc:  # noqa: BLE001 - MWI never disturbs a call
        log.warning("mailbox state of user %s not published: %r", user_id, exc)
        return False
    return True


async def republish(ari: AriClient, states: Iterable[tuple[int, int, int]]) -> int:
    """Publish (user id, new, old) states unless already published (after :func:`forget`:
    all of them); returns how many were published. Stops at the first refusal (Asterisk
    gone: the next connect republishes)."""
    done = 0
    for user_id, new, old in states:
        try:
            if await _publish_once(ari, user_id, new, old, quiet=True):
                done += 1
        except Exception as exc:  # noqa: BLE001 - the next connect republishes
            log.warning("republishing mailbox states stopped after %d: %r", done, exc)
            break
    if done:
        log.info("republished %d mailbox states", done)
    return done


async def _publish_once(
    ari: AriClient, user_id: int, new: int, old: int, *, quiet: bool = False
) -> bool:
    """Publish unless (new, old) is what was last published for the user; True if
    published. The memory is set before the publish (a concurrent refresh that read the same
    counts skips) and made unknown when the publish fails (raised)."""
    memory = published(ari)
    state = (new, old)
    if memory.get(user_id) == state:
        return False
    memory[user_id] = state
    try:
        await publish(ari, user_id, new, old)
    except BaseException:
        if memory.get(user_id) == state:
            memory[user_id] = None
        raise
    if not quiet:
        log.info("mailbox %s: %d new, %d old", mailbox(user_id), new, old)
    return True
