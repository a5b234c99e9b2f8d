"""Keeps Asterisk's own copy of what it needs when vipcall cannot answer.

* AstDB family ``vipcall-ring``: each user number (E.164) -> Dial string of the user's
  handset. The fail-open dialplan reads it when the app or the database is down.
* Softphones: PJSIP endpoint/auth/aor objects pushed through ARI dynamic configuration
  (sorcery memory wizard), so credentials live only in PostgreSQL.

Both are pushed in full on every (re)connect and then kept in step by a periodic diff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from vipcall.ari import AriClient, AriNotFound
from vipcall.calls.dialplan import dial_string
from vipcall.routing.decisions import Handset

log = logging.getLogger("vipcall.provisioning")

RING_FAMILY = "vipcall-ring"


@dataclass(frozen=True, slots=True)
class SoftphoneAccount:
    endpoint: str
    password: str
    mobile: str
    """The owner's mobile number: the caller ID of every call from this softphone."""


def endpoint_fields(account: SoftphoneAccount) -> dict[str, dict[str, str]]:
    """PJSIP objects (by type) for one softphone; the endpoint id is also the SIP user."""
    ep = account.endpoint
    return {
        "auth": {"auth_type": "userpass", "username": ep, "password": account.password},
        "aor": {"max_contacts": "5", "remove_existing": "yes", "qualify_frequency": "0"},
        "endpoint": {
            "transport": "transport-udp",
            "context": "vipcall-softphone",
            "disallow": "all",
            "allow": "ulaw,alaw,gsm",
            "auth": ep,
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
            "set_var": "VIP_TRUNK=softphone",
        },
    }


class Provisioner:
    def __init__(self, ari: AriClient, engine: AsyncEngine) -> None:
        self.ari = ari
        self.engine = engine
        self._ring: dict[str, str] = {}
        self._softphones: dict[str, SoftphoneAccount] = {}

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
        """Push what changed since the last sync (everything when ``full``)."""
        ring, phones = await self.desired()
        if full:
            # Asterisk may have restarted: push everything again. Keys of numbers removed
            # while the app was down stay in AstDB (ARI cannot list a family).
            self._ring = {k: "" for k in self._ring}
            self._softphones = {}
        for key, value in ring.items():
            if self._ring.get(key) != value:
                await self.ari.db_put(RING_FAMILY, key, value)
        for key in self._ring.keys() - ring.keys():
            await self.ari.db_clear(RING_FAMILY, key)  # "" reads as absent in the dialplan
        for ep, account in phones.items():
            if self._softphones.get(ep) != account:
                for object_type, fields in endpoint_fields(account).items():
                    await self.ari.put_dynamic_config("res_pjsip", object_type, ep, fields)
        for ep in self._softphones.keys() - phones.keys():
            for object_type in ("endpoint", "aor", "auth"):
                try:
                    await self.ari.delete_dynamic_config("res_pjsip", object_type, ep)
                except AriNotFound:
                    pass
        changed = (ring != self._ring) or (phones != self._softphones)
        self._ring, self._softphones = ring, phones
        if changed or full:
            log.info("provisioned %d numbers and %d softphones", len(ring), len(phones))
