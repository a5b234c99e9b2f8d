"""The Stasis app's event dispatch: each call gets its task, events reach it, and a channel
that comes back after a hand-off starts a new task even before the old one finished.

An in-memory ARI stand-in records the requests; the same behaviour runs for real in
tests/scenarios (nobody_answers: the busy handset comes back within milliseconds).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from vipcall.calls.context import CallContext as Services
from vipcall.calls.dialplan import ring_extension, say_extension
from vipcall.prompts import forward_refused, sound, sounds
from vipcall.routing.rules import Policy
from vipcall.routing.snapshot import Organization
from vipcall.routing.snapshot import Subscriber as User
from vipcall.service.stasis import StasisApp

ORG = Organization(id=1)
MAIJA = User(id=7, org=ORG, mobile="+358401234567")


class FakeAri:
    """Records REST requests; answers like Asterisk for the ones the flows make."""

    app = "vipcall"

    def __init__(self) -> None:
        self.requests: list[tuple[str, tuple[Any, ...]]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def _record(self, name: str, *args: Any) -> None:
        await self.gate.wait()
        self.requests.append((name, args))

    async def set_channel_var(self, *args: Any) -> None:
        await self._record("set_channel_var", *args)

    async def continue_in_dialplan(self, *args: Any) -> None:
        await self._record("continue", *args)

    async def hangup(self, *args: Any) -> None:
        await self._record("hangup", *args)

    async def answer(self, *args: Any) -> None:
        await self._record("answer", *args)

    async def play(self, channel_id: str, media: Any) -> dict[str, str]:
        await self._record("play", channel_id, media)
        return {"id": "pb-1"}


class FakeState:
    async def parties(self, caller: Any, softphone: Any, dialled: Any) -> tuple[Any, Any]:
        return None, (MAIJA if dialled == MAIJA.mobile else None)

    async def user(self, user_id: int) -> User | None:
        return MAIJA if user_id == MAIJA.id else None


def stasis_start(args: list[str], exten: str = "+358401234567") -> dict[str, Any]:
    channel = {"id": "c1", "state": "Ring", "caller": {"number": "+358501110001"},
               "dialplan": {"exten": exten}}  # fmt: skip
    return {"type": "StasisStart", "channel": channel, "args": args}


@pytest.fixture
async def made() -> AsyncIterator[tuple[StasisApp, FakeAri]]:
    ari = FakeAri()
    svc = Services(store=FakeState(), policy=Policy(ring_timeout=30))  # type: ignore[arg-type]
    app = StasisApp(ari, svc, None)  # type: ignore[arg-type]
    yield app, ari
    ari.gate.set()
    for task in list(app._tasks):
        task.cancel()
    await asyncio.gather(*app._tasks, return_exceptions=True)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_new_call_is_handed_to_the_dialplan_to_ring(
    made: tuple[StasisApp, FakeAri],
) -> None:
    app, ari = made
    app.on_event(stasis_start(["in", "pstn"]))
    await settle()
    # One request: the decision fits in the extension ([vipcall-ring] _R.).
    assert ari.requests == [
        ("continue", ("c1", "vipcall-ring", "R30|7|+358401234567|||PJSIP/+358401234567@mobile", 1)),
    ]
    assert app.calls == {}


async def test_channel_back_from_the_dialplan_before_the_old_task_ended_is_a_new_call(
    made: tuple[StasisApp, FakeAri],
) -> None:
    app, ari = made
    app.on_event(stasis_start(["in", "pstn"]))
    await settle()
    # The old task's bookkeeping is still pending when Asterisk already sends the channel
    # back (busy at once): hold the hand-off's last request open to force that order.
    app.calls.clear()
    ari.gate.clear()
    app.on_event(stasis_start(["in", "pstn"]))
    await settle()
    first = app.calls["c1"]
    first.handed_off = True
    app.on_event({"type": "StasisEnd", "channel": {"id": "c1"}})
    app.on_event(stasis_start(["dialed", "BUSY", "7", "+358401234567"]))
    second = app.calls["c1"]
    assert second is not first and second.args[0] == "dialed"
    ari.gate.set()
    await settle()
    assert ("answer", ("c1",)) in ari.requests, "the returned call reached voicemail"


async def test_a_duplicate_start_from_a_reconcile_snapshot_is_ignored(
    made: tuple[StasisApp, FakeAri],
) -> None:
    app, ari = made
    ari.gate.clear()
    app.on_event(stasis_start(["in", "pstn"]))
    first = app.calls["c1"]
    app.on_event(stasis_start(["in", "pstn"]))
    assert app.calls["c1"] is first


async def test_a_flow_error_on_a_new_call_fails_open_instead_of_hanging_up(
    made: tuple[StasisApp, FakeAri],
) -> None:
    app, ari = made

    async def broken(*_: Any) -> Any:
        raise RuntimeError("bug")

    app.ctx.store.parties = broken  # type: ignore[method-assign]
    app.on_event(stasis_start(["in", "pstn"]))
    await settle()
    assert ari.requests == [("continue", ("c1", "vipcall-failopen", "+358401234567", 1))]


def test_a_ring_decision_too_long_for_the_extension_goes_in_the_variable() -> None:
    """The extension carries VIP_RING only when Asterisk keeps it whole (79 characters)."""
    short = "30|7|+358401234567|||PJSIP/+358401234567@mobile"
    assert ring_extension(short) == "R" + short
    long = short + "".join(f"&PJSIP/sp-7-{n}" for n in range(1, 4))
    assert len("R" + long) > 79
    assert ring_extension(long) is None
    assert ring_extension("30|7|x y|||PJSIP/a") is None  # never a space in an extension


def test_a_confirmation_of_catalogue_prompts_is_one_extension_of_the_say_context() -> None:
    """A call that ends with catalogue prompts goes to [vipcall-say] whole: S<lang>.<ids>."""
    assert say_extension(sounds(["feature-activated", "role-fallback-mobile"], "fi")) == (
        "Sfi.feature-activated.role-fallback-mobile"
    )
    assert say_extension(forward_refused("blocked-destination", "en")) == (
        "Sen.forward-refused.forward-refused-blocked-destination"
    )
    # anything else is played over ARI: another kind of media, two languages, too long
    assert say_extension(["digits:123"]) is None
    assert say_extension([sound("feature-activated", "fi"), sound("invalid-code", "en")]) is None
    assert say_extension(sounds(["feature-activated"] * 5, "fi")) is None
    assert say_extension([]) is None
