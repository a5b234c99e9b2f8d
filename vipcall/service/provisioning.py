"""Keeps Asterisk's own copy of what it needs when vipcall cannot answer.

* AstDB family ``vipcall-ring``: each user number (E.164) -> Dial string of the user's
  handset. The fail-open dialplan reads it when the app or the database is down.
* Softphones: PJSIP endpoint/auth/aor objects pushed through ARI dynamic configuration
  (sorcery memory wizard), so credentials live only in PostgreSQL.

Both are pushed in full on every (re)connect and then kept in step by a diff: at once when
PostgreSQL says a softphone or a user's number changed (migration 0010's triggers notify
:data:`CHANNEL`; :func:`follow_changes`), and every ``sync_interval`` seconds regardless.
One object that Asterisk refuses is logged and counted
(``vipcall_provisioning_failures_total{kind}``) and the round goes on with the others; it
is pushed again next round. Only Asterisk being unreachable ends a round early.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall.ari import AriClient, AriError, AriNotFound, AriUnavailable
from vipcall.calls.dialplan import dial_string
from vipcall.metrics import PROVISIONING_FAILURES
from vipcall.routing.decisions import Handset
from vipcall.sandbox.instance import PROXY_ACL
from vipcall.service.endpoints import SoftphoneStates
from vipcall.store.listen import Connect, keep_listening, until_lost
from vipcall.voicemail.mwi import softphone_mailbox

log = logging.getLogger("vipcall.provisioning")

RING_FAMILY = "vipcall-ring"
#: The channel migration 0010's triggers notify (no payload).
CHANNEL = "vipcall_provision"
#: Seconds changes are gathered before a push (a CSV import is many statements).
GATHER_S = 0.2


@dataclass(frozen=True, slots=True)
class SoftphoneAccount:
    endpoint: str
    password: str
    mobile: str
    """The owner's mobile number: the caller ID of every call from this softphone."""


def endpoint_fields(
    account: SoftphoneAccount, *, auth_by_proxy: bool = False
) -> dict[str, dict[str, str]]:
    """PJSIP objects (by type) for one softphone; the endpoint id is also the SIP user.
    ``auth_by_proxy``: the SIP proxy in front checked the password (two-node layout), so
    the endpoint has no auth object and Asterisk takes its requests as they come."""
    ep = account.endpoint
    auth = {} if auth_by_proxy else {
        "auth": {"auth_type": "userpass", "username": ep, "password": account.password}
    }  # fmt: skip
    return {
        **auth,
        "aor": {
            # One account, one device (each device gets its own account on the home page):
            # a new registration replaces the old binding, so a softphone that registers
            # again from a new address (NAT rebinding, restart) is rung there at once.
            # PJSIP/<endpoint> rings only an AOR's first contact: a stale one kept beside
            # it would take every call until it expired.
            "max_contacts": "1",
            "remove_existing": "yes",
            "qualify_frequency": "0",
            # Message waiting indicator (vipcall.voicemail.mwi) for softphones that
            # SUBSCRIBE to message-summary; none is sent unasked.
            **({"mailboxes": box} if (box := softphone_mailbox(ep)) else {}),
        },
        "endpoint": {
            "transport": "transport-udp",
            "context": "vipcall-softphone",
            "disallow": "all",
            "allow": "ulaw,alaw,gsm",
            "auth": "" if auth_by_proxy else ep,
            "aors": ep,
            "direct_media": "no",
            "dtmf_mode": "rfc4733",
            "rtp_symmetric": "yes",
            "force_rport": "yes",
            "rewrite_contact": "yes",
            "send_pai": "yes",
            "trust_id_outbound": "yes",
            # Calls from the softphone show the owner's number whatever its From says.
            "callerid": f"<{account.mobile}>",
            "trust_id_inbound": "no",
            # No set_var: on an update ARI merges the existing endpoint's fields, where
            # set_var reads back as a field named after the variable (VIP_TRUNK), which
            # Asterisk then refuses ("Could not find option ... named 'VIP_TRUNK'"). The
            # dialplan context [vipcall-softphone] sets VIP_TRUNK=softphone instead.
        },
    }


class Provisioner:
    def __init__(self, ari: AriClient, engine: AsyncEngine, *, auth_by_proxy: bool = False) -> None:
        self.ari = ari
        self.engine = engine
        self.auth_by_proxy = auth_by_proxy
        self.proxy_guarded: bool | None = None
        """With ``auth_by_proxy``: whether this node takes SIP from the proxy alone (its
        pjsip ACL :data:`PROXY_ACL` exists); read at every full round."""
        self._ring: dict[str, str] = {}
        self._softphones: dict[str, SoftphoneAccount] = {}
        #: Told about every softphone pushed or removed (set by the Stasis app).
        self.states: SoftphoneStates | None = None

    async def desired(self) -> tuple[dict[str, str], dict[str, SoftphoneAccount]]:
        async with self.engine.connect() as conn:
            users = (
                await conn.execute(text("SELECT mobile_number, landline_number FROM users"))
            ).all()
            phones = (
                await conn.execute(
                    text(
                        "SELECT p.sip_username, p.sip_password, u.mobile_number"
                        " FROM softphones p JOIN users u ON u.id = p.user_id"
                        " ORDER BY p.sip_username"
                    )
                )
            ).all()
        ring: dict[str, str] = {}
        for mobile, landline in users:
            handset = dial_string([Handset(mobile)])
            ring[mobile] = handset
            if landline:
                ring[landline] = handset
        return ring, {ep: SoftphoneAccount(ep, pw, mobile) for ep, pw, mobile in phones}

    async def sync(self, full: bool = False) -> None:
        """Push what changed since the last sync (everything when ``full``).

        An object Asterisk refuses (an :class:`AriError` answer) is logged, counted and
        left out of what is recorded as pushed, so the next round tries it again; the
        round goes on. :class:`AriUnavailable` (no answer) ends the round: the rest would
        fail the same way.
        """
        ring, phones = await self.desired()
        if full:
            # Asterisk may have restarted: push everything again. Keys of numbers removed
            # while the app was down stay in AstDB (ARI cannot list a family).
            self._ring = {k: "" for k in self._ring}
            self._softphones = {}
        if self.auth_by_proxy and (full or self.proxy_guarded is None):
            self.proxy_guarded = await self._proxy_guarded()
        if self.auth_by_proxy and not self.proxy_guarded:
            # Without the ACL anyone could reach an endpoint with no password: none is
            # pushed, so softphones cannot log in at all until the node is set up right.
            PROVISIONING_FAILURES.labels(kind="softphone").inc(len(phones))
            log.error(
                "softphones are checked by the proxy (VIPCALL_SOFTPHONE_AUTH_BY_PROXY), but "
                "this node has no pjsip ACL %r limiting SIP to the proxy: %d softphones not "
                "pushed", PROXY_ACL, len(phones),
            )  # fmt: skip
            phones = {}
        changed = (ring != self._ring) or (phones != self._softphones)
        failed = 0
        for key, value in ring.items():
            if self._ring.get(key) != value:
                if await self._attempt("number", key, self.ari.db_put(RING_FAMILY, key, value)):
                    self._ring[key] = value
                else:
                    failed += 1
        for key in self._ring.keys() - ring.keys():
            # "" reads as absent in the dialplan
            if await self._attempt("number", key, self.ari.db_clear(RING_FAMILY, key)):
                del self._ring[key]
            else:
                failed += 1
        for ep, account in phones.items():
            if self._softphones.get(ep) != account:
                if await self._attempt("softphone", ep, self._push_softphone(account)):
                    self._softphones[ep] = account
                else:
                    self._softphones.pop(ep, None)
                    failed += 1
        for ep in self._softphones.keys() - phones.keys():
            if await self._attempt("softphone", ep, self._remove_softphone(ep)):
                del self._softphones[ep]
            else:
                failed += 1
        if changed or full:
            log.info(
                "provisioned %d numbers and %d softphones%s",
                len(self._ring),
                len(self._softphones),
                f" ({failed} failed, retried next round)" if failed else "",
            )

    async def _proxy_guarded(self) -> bool:
        """Does this node's pjsip ACL :data:`PROXY_ACL` exist (rendered by the sandbox for a
        node behind the proxy, Instance.sip_permit)?"""
        try:
            await self.ari.get_dynamic_config("res_pjsip", "acl", PROXY_ACL)
        except AriNotFound:
            return False  # 404 "Object with id ... not found"
        except AriUnavailable:
            raise
        except AriError:
            # Asterisk 22 finds an ACL object but cannot show its fields (500 "Allocation
            # failed"): it is there
            return True
        return True

    async def _attempt(self, kind: str, key: str, push: Coroutine[Any, Any, None]) -> bool:
        """Run one object's push; False (logged, counted) when Asterisk refused it."""
        try:
            await push
        except AriUnavailable:
            raise
        except AriError as exc:
            PROVISIONING_FAILURES.labels(kind=kind).inc()
            log.warning("provisioning %s %s failed: %s; retrying next round", kind, key, exc)
            return False
        return True

    async def _push_softphone(self, account: SoftphoneAccount) -> None:
        ep = account.endpoint
        for object_type, fields in endpoint_fields(
            account, auth_by_proxy=self.auth_by_proxy
        ).items():
            try:
                await self.ari.put_dynamic_config("res_pjsip", object_type, ep, fields)
            except AriUnavailable:
                raise
            except AriError as exc:
                if object_type != "endpoint" or isinstance(exc, AriNotFound):
                    raise
                # An endpoint Asterisk cannot update in place (one pushed with set_var by
                # an earlier version, see endpoint_fields): replace it. Registrations stay:
                # contacts belong to the aor.
                log.warning("replacing softphone endpoint %s (%s)", ep, exc.message)
                await self.ari.delete_dynamic_config("res_pjsip", object_type, ep)
                await self.ari.put_dynamic_config("res_pjsip", object_type, ep, fields)
        if self.states is not None:
            await self.states.watch(self.ari, ep)

    async def _remove_softphone(self, ep: str) -> None:
        for object_type in ("endpoint", "aor", "auth"):
            try:
                await self.ari.delete_dynamic_config("res_pjsip", object_type, ep)
            except AriNotFound:
                pass
        if self.states is not None:
            self.states.forget(ep)


async def follow_changes(connect: Connect, push: Callable[[], Awaitable[None]]) -> None:
    """Run ``push`` (a diff round) soon after every notification on :data:`CHANNEL`, and
    once after each (re)connect of the listening connection (changes made while it was
    down were not heard). Forever; cancel to stop. A notification that arrives during a
    round causes another round after it."""
    changed = asyncio.Event()

    async def serve(conn: Any, lost: asyncio.Event) -> None:
        changed.set()
        await until_lost(conn, lost, 30.0)

    async def pusher() -> None:
        while True:
            await changed.wait()
            await asyncio.sleep(GATHER_S)
            changed.clear()
            await push()

    worker = asyncio.create_task(pusher(), name="provision-pusher")
    try:
        await keep_listening(
            "provisioning listener", connect, CHANNEL, lambda _payload: changed.set(), serve,
            log=log,
        )  # fmt: skip
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
