"""Which softphone endpoints Asterisk can reach now (have a registered contact).

A softphone that has never registered (or whose registration expired) has no contact:
dialling it only makes Asterisk log two ERRORs ("Could not create dialog to invalid URI")
and adds nothing to the call. So the app keeps the PJSIP state of every softphone endpoint
and a call rings only the softphones that are online
(:func:`vipcall.calls.route.reachable_only`).

Where the states come from (ARI, Asterisk 22):

* ``GET /endpoints/PJSIP`` on every (re)connect: every endpoint with its ``state``
  (``online`` / ``offline`` / ``unknown``);
* per softphone, once it is pushed: ``POST /applications/{app}/subscription`` with
  ``eventSource=endpoint:PJSIP/<id>``, then ``GET /endpoints/PJSIP/<id>``; from then on
  Asterisk sends ``EndpointStateChange`` (with the endpoint's new ``state``) for it. One
  subscription per softphone, never ``endpoint:PJSIP`` for the whole technology: that would
  also send an event for every channel on the trunks (an endpoint snapshot changes with its
  channel count).

When the state of a softphone is not known (the app just connected and has not read it
yet, a listing failed, or an event was missed), :meth:`SoftphoneStates.reachable` answers
``True``: ringing an endpoint that turns out to be unregistered costs two log lines,
leaving out a registered one loses the call on that device. The unknown window is short
(the listing is the first thing done on connect).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from vipcall.ari import AriClient, Event

log = logging.getLogger("vipcall.endpoints")

TECHNOLOGY = "PJSIP"
SOFTPHONE_PREFIX = "sp-"
ENDPOINT_EVENTS = frozenset({"EndpointStateChange", "ContactStatusChange"})
#: A contact in one of these is gone; any other status (NonQualified, Reachable, Unknown)
#: is a registered contact the endpoint can be dialled at.
CONTACT_GONE = frozenset({"Removed", "Unreachable"})


def _q(segment: str) -> str:
    return quote(segment, safe="")


async def list_endpoints(ari: AriClient, technology: str = TECHNOLOGY) -> list[dict[str, Any]]:
    """``GET /endpoints/{tech}``: every endpoint of a technology with its state."""
    return list(await ari.request("GET", f"/endpoints/{_q(technology)}") or [])


async def get_endpoint(ari: AriClient, resource: str, technology: str = TECHNOLOGY) -> Any:
    return await ari.request("GET", f"/endpoints/{_q(technology)}/{_q(resource)}")


async def subscribe_endpoint(ari: AriClient, resource: str, technology: str = TECHNOLOGY) -> None:
    """Have Asterisk send this app the events of one endpoint (``EndpointStateChange``)."""
    await ari.request(
        "POST",
        f"/applications/{_q(ari.app)}/subscription",
        {"eventSource": f"endpoint:{technology}/{resource}"},
    )


def is_online(state: str | None) -> bool | None:
    """An ARI endpoint ``state`` as reachability; ``None`` when Asterisk does not know."""
    if state == "online":
        return True
    if state == "offline":
        return False
    return None


class SoftphoneStates:
    """The last known state of every softphone endpoint (``sp-...``)."""

    def __init__(self) -> None:
        self._online: dict[str, bool] = {}
        self._contacts: dict[str, set[str]] = {}

    def reachable(self, endpoint: str) -> bool:
        """Whether a call should ring this softphone (unknown state: yes, see the module)."""
        return self._online.get(endpoint, True)

    @property
    def known(self) -> dict[str, bool]:
        return dict(self._online)

    def _set(self, endpoint: str, state: str | None) -> None:
        if not endpoint.startswith(SOFTPHONE_PREFIX):
            return
        online = is_online(state)
        before = self._online.get(endpoint)
        if online is None:
            self._online.pop(endpoint, None)
        else:
            self._online[endpoint] = online
        if before != online:
            log.info("softphone %s: %s", endpoint, state or "unknown")

    def forget(self, endpoint: str) -> None:
        self._online.pop(endpoint, None)
        self._contacts.pop(endpoint, None)

    def on_event(self, event: Event) -> None:
        """``EndpointStateChange``: the endpoint's new state; ``ContactStatusChange``: a
        contact registered or went away (sync, cheap). Contacts are what count: a
        softphone endpoint new to Asterisk reports ``online`` before any registration, so
        its registration changes no endpoint state and only the contact event tells."""
        endpoint = event.get("endpoint") or {}
        if endpoint.get("technology") != TECHNOLOGY:
            return
        resource = endpoint.get("resource", "")
        if event.get("type") == "ContactStatusChange":
            info = event.get("contact_info") or {}
            uri, status = info.get("uri", ""), info.get("contact_status", "")
            contacts = self._contacts.setdefault(resource, set())
            if status in CONTACT_GONE:
                contacts.discard(uri)
            else:
                contacts.add(uri)
            self._set(resource, "online" if contacts else "offline")
            return
        self._set(resource, endpoint.get("state"))

    async def refresh(self, ari: AriClient) -> None:
        """Replace every state with Asterisk's listing (on each (re)connect)."""
        listed = await list_endpoints(ari)
        self._online = {}
        for endpoint in listed:
            self._set(endpoint.get("resource", ""), endpoint.get("state"))
        log.debug("softphone states read: %d online", sum(self._online.values()))

    async def watch(self, ari: AriClient, endpoint: str) -> None:
        """After a softphone endpoint is pushed: subscribe to its events, then take its state
        (in that order, so no change falls between the two).

        Asterisk 22 reports ``online`` for an endpoint new to it that never registered, and
        its registration then changes no endpoint state: this state is a hint (calls are
        checked against the live contacts when they ring, :meth:`CallChannel.hand_off`),
        corrected by ``ContactStatusChange``."""
        await subscribe_endpoint(ari, endpoint)
        found = await get_endpoint(ari, endpoint)
        self._set(endpoint, found.get("state") if isinstance(found, dict) else None)
