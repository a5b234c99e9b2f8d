"""A call rings only the softphones Asterisk can reach (a registered contact): the app keeps
each softphone endpoint's state from ARI (listing on connect, EndpointStateChange after) and
the snapshot the rules see holds only the reachable ones. Unknown state rings (safe side).

The same runs for real in tests/scenarios/softphone_not_registered (an unregistered softphone
is left out, so Asterisk logs no "Could not create dialog") and tests/scenarios/softphones.
"""

from __future__ import annotations

import asyncio
from typing import Any

from vipcall.calls.context import CallContext
from vipcall.calls.route import reachable_only
from vipcall.routing.rules import Policy
from vipcall.routing.snapshot import Organization, Subscriber
from vipcall.service.endpoints import SoftphoneStates
from vipcall.service.stasis import StasisApp

ORG = Organization(id=1)
LIISA = Subscriber(id=7, org=ORG, mobile="+358401234567", softphones=("sp-7-1", "sp-7-2"))


def endpoint_state(resource: str, state: str, technology: str = "PJSIP") -> dict[str, Any]:
    endpoint = {"technology": technology, "resource": resource, "state": state}
    return {"type": "EndpointStateChange", "endpoint": endpoint}


def test_only_reachable_softphones_stay() -> None:
    only_first = reachable_only(LIISA, lambda ep: ep == "sp-7-1")
    assert only_first.softphones == ("sp-7-1",)
    assert only_first.mobile == LIISA.mobile and only_first.id == LIISA.id
    assert reachable_only(LIISA, lambda ep: False).softphones == ()


def test_without_a_reachability_source_every_softphone_stays() -> None:
    assert reachable_only(LIISA, None) is LIISA
    assert reachable_only(LIISA, lambda ep: True) is LIISA


def test_states_follow_endpoint_events_and_unknown_rings() -> None:
    states = SoftphoneStates()
    assert states.reachable("sp-7-1"), "never heard of: ring it"
    states.on_event(endpoint_state("sp-7-1", "offline"))
    assert not states.reachable("sp-7-1")
    states.on_event(endpoint_state("sp-7-1", "online"))
    assert states.reachable("sp-7-1")
    states.on_event(endpoint_state("sp-7-1", "offline"))
    states.on_event(endpoint_state("sp-7-1", "unknown"))
    assert states.reachable("sp-7-1"), "Asterisk does not know: ring it"
    states.on_event(endpoint_state("pstn", "offline"))
    states.on_event(endpoint_state("sp-9-1", "offline", technology="IAX2"))
    assert states.known == {}, "trunks and other technologies are not softphones"


class ListingAri:
    app = "vipcall"

    def __init__(self, listing: list[dict[str, Any]]) -> None:
        self.listing = listing
        self.requests: list[tuple[str, str, Any]] = []

    async def request(self, method: str, path: str, params: Any = None, body: Any = None) -> Any:
        self.requests.append((method, path, params))
        if path == "/endpoints/PJSIP":
            return self.listing
        if path.startswith("/endpoints/PJSIP/"):
            name = path.rsplit("/", 1)[1]
            return next(e for e in self.listing if e["resource"] == name)
        return None

    async def set_channel_var(self, *args: Any) -> None:
        self.requests.append(("set_channel_var", args[1], args[2]))

    contacts: dict[str, str] = {}

    async def get_channel_var(self, channel_id: str, variable: str) -> str:
        """``PJSIP_DIAL_CONTACTS(<endpoint>)`` as Asterisk evaluates it on the channel."""
        endpoint = variable.removeprefix("PJSIP_DIAL_CONTACTS(").removesuffix(")")
        return self.contacts.get(endpoint, "")

    async def continue_in_dialplan(self, *args: Any) -> None:
        self.requests.append(("continue", args[1], args[2]))

    async def list_channels(self) -> list[Any]:
        return []


def ring_spec_sent(requests: list[tuple[str, str, Any]]) -> str:
    """VIP_RING as the hand-off sent it: set as the variable, or carried in the extension."""
    for kind, _, value in requests:
        if kind == "set_channel_var":
            return str(value)
        if kind == "continue" and str(value).startswith("R"):
            return str(value)[1:]
    raise AssertionError(f"no ring hand-off in {requests}")


async def test_refresh_replaces_every_state_with_the_listing() -> None:
    states = SoftphoneStates()
    states.on_event(endpoint_state("sp-3-1", "offline"))
    ari = ListingAri([
        {"technology": "PJSIP", "resource": "sp-7-1", "state": "online"},
        {"technology": "PJSIP", "resource": "sp-7-2", "state": "offline"},
        {"technology": "PJSIP", "resource": "mobile", "state": "online"},
    ])  # fmt: skip
    await states.refresh(ari)  # type: ignore[arg-type]
    assert states.known == {"sp-7-1": True, "sp-7-2": False}


async def test_watch_subscribes_before_reading_the_state() -> None:
    ari = ListingAri([{"technology": "PJSIP", "resource": "sp-7-2", "state": "offline"}])
    states = SoftphoneStates()
    await states.watch(ari, "sp-7-2")  # type: ignore[arg-type]
    assert ari.requests == [
        ("POST", "/applications/vipcall/subscription", {"eventSource": "endpoint:PJSIP/sp-7-2"}),
        ("GET", "/endpoints/PJSIP/sp-7-2", None),
    ]
    assert not states.reachable("sp-7-2")


class OneUser:
    async def parties(self, caller: Any, softphone: Any, dialled: Any) -> tuple[Any, Any]:
        return None, (LIISA if dialled == LIISA.mobile else None)

    async def user(self, user_id: int) -> Subscriber | None:
        return LIISA if user_id == LIISA.id else None


async def test_a_call_rings_the_handset_and_only_softphones_with_a_contact() -> None:
    """Asterisk's live contacts decide when the call rings (the endpoint state Asterisk
    reports is only a hint: see vipcall.service.endpoints)."""
    ari = ListingAri([
        {"technology": "PJSIP", "resource": "sp-7-1", "state": "online"},
        {"technology": "PJSIP", "resource": "sp-7-2", "state": "online"},
    ])  # fmt: skip
    ari.contacts = {"sp-7-1": "PJSIP/sp-7-1/sip:sp-7-1@127.0.1.4:5080"}
    ctx = CallContext(store=OneUser(), policy=Policy(ring_timeout=30))  # type: ignore[arg-type]
    app = StasisApp(ari, ctx, None)  # type: ignore[arg-type]
    await app.on_connect()
    channel = {"id": "c1", "state": "Ring", "caller": {"number": "+358501110001"},
               "dialplan": {"exten": LIISA.mobile}}  # fmt: skip
    app.on_event({"type": "StasisStart", "channel": channel, "args": ["in", "pstn"]})
    for _ in range(20):
        await asyncio.sleep(0)
    assert ring_spec_sent(ari.requests).endswith("|PJSIP/+358401234567@mobile&PJSIP/sp-7-1")

    # sp-7-2 registers, sp-7-1 goes away: the next call follows.
    ari.contacts = {"sp-7-2": "PJSIP/sp-7-2/sip:sp-7-2@127.0.1.4:5082"}
    ari.requests.clear()
    again = {**channel, "id": "c2"}
    app.on_event({"type": "StasisStart", "channel": again, "args": ["in", "pstn"]})
    for _ in range(20):
        await asyncio.sleep(0)
    assert ring_spec_sent(ari.requests).endswith("|PJSIP/+358401234567@mobile&PJSIP/sp-7-2")
