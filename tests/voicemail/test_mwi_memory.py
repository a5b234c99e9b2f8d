"""The message waiting indicator publishes a mailbox state only when it differs from what
was last published to that Asterisk (vipcall.voicemail.mwi): the flows' own refresh and the
mailbox listener's never send a softphone the same NOTIFY twice; a connect forgets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from vipcall.ari import AriError
from vipcall.calls.context import CallContext
from vipcall.routing.rules import Policy
from vipcall.service.stasis import StasisApp
from vipcall.voicemail import mwi


class FakeAri:
    """Records the MWI originates; can refuse, or hold each publish until released."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.refuse = False
        self.hold: asyncio.Event | None = None

    async def request(self, method: str, path: str, body: dict[str, Any]) -> None:
        if self.hold is not None:
            await self.hold.wait()
        if self.refuse:
            raise AriError(503, method, path, "away")
        self.sent.append(body["endpoint"])


class Counts:
    def __init__(self, new: int, old: int) -> None:
        self.counts = (new, old)

    async def message_counts(self, user_id: int) -> tuple[int, int]:
        return self.counts


def state(user_id: int, new: int, old: int) -> str:
    return f"Local/{user_id}.{new}.{old}@{mwi.MWI_CONTEXT}"


pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_same_counts_are_published_once() -> None:
    ari, store = FakeAri(), Counts(1, 0)
    assert await mwi.refresh(ari, store, 7)  # type: ignore[arg-type]
    assert await mwi.refresh(ari, store, 7)  # type: ignore[arg-type]  # skipped, still fine
    store.counts = (0, 1)
    await mwi.refresh(ari, store, 7)  # type: ignore[arg-type]
    await mwi.refresh(ari, store, 8)  # type: ignore[arg-type]  # another user: own memory
    assert ari.sent == [state(7, 1, 0), state(7, 0, 1), state(8, 0, 1)]
    assert mwi.published(ari) == {7: (0, 1), 8: (0, 1)}  # type: ignore[arg-type]


async def test_each_asterisk_has_its_own_memory_and_a_connect_forgets() -> None:
    one, two, store = FakeAri(), FakeAri(), Counts(2, 0)
    await mwi.refresh(one, store, 7)  # type: ignore[arg-type]
    await mwi.refresh(two, store, 7)  # type: ignore[arg-type]
    mwi.forget(one)  # type: ignore[arg-type]
    await mwi.refresh(one, store, 7)  # type: ignore[arg-type]
    await mwi.refresh(two, store, 7)  # type: ignore[arg-type]
    assert one.sent == [state(7, 2, 0)] * 2
    assert two.sent == [state(7, 2, 0)]


async def test_a_refused_publish_is_remembered_as_unknown() -> None:
    ari, store = FakeAri(), Counts(1, 0)
    ari.refuse = True
    assert not await mwi.refresh(ari, store, 7)  # type: ignore[arg-type]
    assert mwi.published(ari) == {7: None}  # type: ignore[arg-type]  # unknown
    ari.refuse = False
    assert await mwi.refresh(ari, store, 7)  # type: ignore[arg-type]
    assert ari.sent == [state(7, 1, 0)]


async def test_two_refreshes_at_once_with_the_same_counts_publish_once() -> None:
    ari, store = FakeAri(), Counts(1, 0)
    ari.hold = asyncio.Event()
    both = asyncio.gather(
        mwi.refresh(ari, store, 7),  # type: ignore[arg-type]  # the flow's own
        mwi.refresh(ari, store, 7),  # type: ignore[arg-type]  # the listener's
    )
    await asyncio.sleep(0.01)
    ari.hold.set()
    assert await both == [True, True]
    assert ari.sent == [state(7, 1, 0)]


async def test_republish_skips_what_was_published_since_the_connect() -> None:
    ari = FakeAri()
    await mwi.refresh(ari, Counts(1, 0), 7)  # type: ignore[arg-type]
    done = await mwi.republish(ari, [(7, 1, 0), (8, 0, 2)])  # type: ignore[arg-type]
    assert done == 1
    mwi.forget(ari)  # type: ignore[arg-type]
    assert await mwi.republish(ari, [(7, 1, 0), (8, 0, 2)]) == 2  # type: ignore[arg-type]
    assert ari.sent == [state(7, 1, 0), state(8, 0, 2), state(7, 1, 0), state(8, 0, 2)]


async def test_republish_stops_at_a_refusal() -> None:
    ari = FakeAri()
    ari.refuse = True
    assert await mwi.republish(ari, [(7, 1, 0), (8, 0, 2)]) == 0  # type: ignore[arg-type]
    assert mwi.published(ari) == {7: None}  # type: ignore[arg-type]  # tried; 8: never


async def test_a_connect_republishes_and_refreshes_the_mailboxes_emptied_meanwhile() -> None:
    """StasisApp.republish_mwi after on_connect's forget: every listed mailbox is published
    again, and a user published before and not listed now (emptied) gets 0/0."""
    ari = FakeAri()
    ctx = CallContext(store=Counts(0, 0), policy=Policy(ring_timeout=30))  # type: ignore[arg-type]
    app = StasisApp(ari, ctx, None)  # type: ignore[arg-type]

    async def states() -> list[tuple[int, int, int]]:
        return [(7, 1, 0), (8, 0, 2)]

    app.mailbox_states = states
    await mwi.refresh(ari, Counts(1, 0), 7)  # type: ignore[arg-type]
    await mwi.refresh(ari, Counts(3, 0), 9)  # type: ignore[arg-type]  # emptied since
    await mwi.refresh(ari, Counts(0, 0), 10)  # type: ignore[arg-type]  # already 0/0
    ari.sent.clear()
    mwi.forget(ari)  # type: ignore[arg-type]  # as on_connect does
    await app.republish_mwi()
    assert ari.sent == [state(7, 1, 0), state(8, 0, 2), state(9, 0, 0), state(10, 0, 0)]
    ari.sent.clear()
    await app.republish_mwi()  # the listener's resync: nothing changed, nothing sent
    assert ari.sent == []
