"""Message waiting indicator: a mailbox's new/old counts (kept in PostgreSQL) published to
Asterisk, which sends them to the user's registered softphones as MWI NOTIFYs.

Debian's Asterisk has neither ``res_mwi_external`` nor ``res_ari_mailboxes`` (ARI's
``PUT /mailboxes/{name}`` answers 404 there), so the state is published from the dialplan:
the app originates ``Local/<user id>.<new>.<old>@vipcall-mwi`` and that extension runs
``MinivmMWI(<user id>@vipcall,0,<new>,<old>)`` (``app_minivm``, no accounts). Softphone
endpoints carry ``mailboxes=<user id>@vipcall`` (:mod:`vipcall.service.provisioning`), so
``res_pjsip_mwi`` notifies their contacts unsolicited.
"""

from __future__ import annotations

import logging
from typing import Protocol

from vipcall.ari import AriClient

log = logging.getLogger("vipcall.voicemail")

MWI_CONTEXT = "vipcall-mwi"
MAILBOX_CONTEXT = "vipcall"


class Counts(Protocol):
    async def message_counts(self, user_id: int) -> tuple[int, int]: ...


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
    """Publish the user's mailbox state as the database has it now. A failure is logged
    and never disturbs the call (the next change publishes again); returns success."""
    try:
        new, old = await store.message_counts(user_id)
        await publish(ari, user_id, new, old)
    except Exception as exc:  # noqa: BLE001 - MWI never disturbs a call
        log.warning("mailbox state of user %s not published: %r", user_id, exc)
        return False
    log.info("mailbox %s: %d new, %d old", mailbox(user_id), new, old)
    return True
