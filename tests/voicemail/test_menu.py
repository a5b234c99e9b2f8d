"""The listening number's menu, key by key (vipcall.voicemail.menu)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from vipcall.voicemail.menu import (
    ChangePin,
    DeleteGreeting,
    DeleteMessage,
    Folder,
    Goodbye,
    Menu,
    Message,
    PlayMessage,
    RecordGreeting,
    RecordName,
    SaveMessage,
    SayCounts,
    SayEnd,
    SayMenu,
    SayNoMessages,
    press,
    start,
)

T = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
A, B, C = (Message(i, "+358501110001", T, 5000) for i in (1, 2, 3))


def test_a_call_starts_with_the_counts_and_the_main_menu() -> None:
    _, actions = start((A, B), ())
    assert actions == [SayCounts(), SayMenu()]


def test_1_plays_the_first_new_message() -> None:
    state, _ = start((A, B), ())
    state, actions = press(state, "1")
    assert state.menu is Menu.MESSAGE and actions == [PlayMessage(A, 1)]


def test_6_next_4_previous_5_repeat() -> None:
    state, _ = start((A, B, C), ())
    state, _ = press(state, "1")
    state, actions = press(state, "6")
    assert actions == [PlayMessage(B, 2)]
    state, actions = press(state, "5")
    assert actions == [PlayMessage(B, 2)]
    state, actions = press(state, "4")
    assert actions == [PlayMessage(A, 1)]


def test_after_the_last_message_the_main_menu_again() -> None:
    state, _ = start((A,), ())
    state, _ = press(state, "1")
    state, actions = press(state, "6")
    assert state.menu is Menu.MAIN and actions == [SayEnd(), SayMenu()]


def test_7_deletes_and_plays_the_next() -> None:
    state, _ = start((A, B), ())
    state, _ = press(state, "1")
    state, actions = press(state, "7")
    assert actions == [DeleteMessage(A.id), PlayMessage(B, 1)]
    assert [m.id for m in state.new] == [B.id]


def test_9_saves_it_into_the_saved_folder() -> None:
    state, _ = start((A, B), ())
    state, _ = press(state, "1")
    state, actions = press(state, "9")
    assert actions[0] == SaveMessage(A.id)
    assert [m.id for m in state.saved] == [A.id]
    state, _ = press(state, "#")
    state, actions = press(state, "2")
    assert state.folder is Folder.SAVED and actions == [PlayMessage(state.saved[0], 1)]


def test_no_messages_says_so() -> None:
    state, _ = start((), ())
    _, actions = press(state, "1")
    assert actions == [SayNoMessages(), SayMenu()]


def test_mailbox_options() -> None:
    state, _ = start((), ())
    state, actions = press(state, "0")
    assert state.menu is Menu.OPTIONS and actions == [SayMenu()]
    assert press(state, "1")[1][0] == RecordGreeting()
    assert press(state, "2")[1][0] == DeleteGreeting()
    assert press(state, "3")[1][0] == RecordName()
    assert press(state, "5")[1][0] == ChangePin()
    assert press(state, "#")[0].menu is Menu.MAIN


def test_star_is_help_and_hash_exits() -> None:
    state, _ = start((A,), ())
    assert press(state, "*") == (state, [SayMenu()])
    assert press(state, "#")[1] == [Goodbye()]


@given(st.lists(st.sampled_from("0123456789*#"), max_size=40))
def test_any_key_sequence_keeps_a_consistent_state(keys: list[str]) -> None:
    state, _ = start((A, B, C), ())
    for key in keys:
        state, actions = press(state, key)
        if Goodbye() in actions:
            break
        ids = [m.id for m in (*state.new, *state.saved)]
        assert len(ids) == len(set(ids))  # a message is in one folder at most
        if state.menu is Menu.MESSAGE:
            assert state.current is not None
