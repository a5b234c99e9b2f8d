"""After an app restart: which channels the new app takes over for service-number calls,
and the member legs the old app left ringing, which it hangs up (the restarted flow offers
the call afresh). With a recording ARI and store; the real restart is in
tests/scenarios/service_numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from vipcall.ari import AriError
from vipcall.servicenumbers.flow import leg_id, node_of, stale_legs, take_over
from vipcall.store.servicenumbers import QueueCall

NODE = "http://ast1/ari|vipcall"


def queue_call(
    call_id: int, channel: str, state: str = "waiting", member_channel: str | None = None
) -> QueueCall:
    return QueueCall(
        id=call_id, service_number_id=1, channel_id=channel, node=NODE, caller="+358501110001",
        entered_at=datetime(2026, 1, 1, tzinfo=UTC), state=state,
        member_user_id=7 if member_channel else None, member_channel_id=member_channel,
        bridge_id="b" if member_channel else None,
    )  # fmt: skip


class Ari:
    base_url = "http://ast1/ari"
    app = "vipcall"

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.hung_up: list[tuple[str, str]] = []
        self.refuse = refuse or set()

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        if channel_id in self.refuse:
            raise AriError(404, "DELETE", f"/channels/{channel_id}", "Channel not found")
        self.hung_up.append((channel_id, reason))


class Store:
    def __init__(self, calls: list[QueueCall]) -> None:
        self.calls = calls
        self.finished: list[int] = []

    async def queue_calls_on(self, node: str) -> list[QueueCall]:
        assert node == NODE
        return self.calls

    async def finish_queue_call(self, call_id: int) -> None:
        self.finished.append(call_id)


def test_leg_ids_name_their_queue_call() -> None:
    assert leg_id(12).startswith("sn12-") and leg_id(12) != leg_id(12)


def test_stale_legs_are_the_calls_own_but_the_connected_member() -> None:
    present = ["sn12-aaa", "sn12-bbb", "sn120-ccc", "sn1-ddd", "chan-12", "sn12-zzz"]
    assert stale_legs(queue_call(12, "chan-12"), present) == ["sn12-aaa", "sn12-bbb", "sn12-zzz"]
    connected = queue_call(12, "chan-12", "connected", member_channel="sn12-bbb")
    assert stale_legs(connected, present) == ["sn12-aaa", "sn12-zzz"]


@pytest.mark.asyncio
async def test_take_over_hangs_up_the_old_apps_ringing_legs() -> None:
    waiting = queue_call(5, "caller-5")
    connected = queue_call(6, "caller-6", "connected", member_channel="sn6-answered")
    gone = queue_call(7, "caller-7")  # the caller hung up while the app was away
    store = Store([waiting, connected, gone])
    ari = Ari(refuse={"sn5-ended-meanwhile"})
    channels = [
        {"id": i}
        for i in (
            "caller-5", "sn5-ringing-a", "sn5-ringing-b", "sn5-ended-meanwhile",
            "caller-6", "sn6-answered", "sn7-ringing", "other-call",
        )
    ]  # fmt: skip
    found = await take_over(SimpleNamespace(store=store, node=""), ari, channels)  # type: ignore[arg-type]

    assert sorted(c for c, _ in ari.hung_up) == [
        "sn5-ringing-a", "sn5-ringing-b", "sn7-ringing",
    ]  # fmt: skip
    assert {r for _, r in ari.hung_up} == {"normal"}
    expected: dict[str, Any] = {
        "caller-5": ["queued", "5"],
        "caller-6": ["queued", "6"],
        "sn6-answered": None,  # the connected member: its caller's flow adopts it
        "sn5-ringing-a": None,  # hung up here: not ended again as an orphan
        "sn5-ringing-b": None,
        "sn5-ended-meanwhile": None,
        "sn7-ringing": None,
    }
    assert found == expected
    assert store.finished == [7]


def test_a_configured_node_name_is_the_nodes_id_in_shared_state() -> None:
    ari = SimpleNamespace(base_url="http://127.0.0.1:8088/ari", app="vipcall")
    assert node_of(ari, "node-a") == "node-a"  # type: ignore[arg-type]
    assert node_of(ari) == "http://127.0.0.1:8088/ari|vipcall"  # type: ignore[arg-type]
