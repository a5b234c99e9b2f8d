"""The phone menu's key map (vipcall.voicemail.menu.KEY_MAP) is the menu itself: every key it
names does something in that menu, every key that does something is named, and each has its
words in Finnish first and English alongside (the home page shows them from the API)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vipcall.voicemail.menu import KEY_MAP, MENU_LABELS, Menu, Message, SayInvalid, State, press

T = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
MSG = Message(1, "+358501110001", T, 5000)
PHONE_KEYS = "0123456789*#"


def _in(menu: Menu) -> State:
    return State(new=(MSG,), saved=(), menu=menu)


@pytest.mark.parametrize("menu", list(Menu))
def test_the_key_map_names_exactly_the_keys_the_menu_acts_on(menu: Menu) -> None:
    acted = {k for k in PHONE_KEYS if SayInvalid() not in press(_in(menu), k)[1]}
    assert set(KEY_MAP[menu.value]) == acted


def test_every_menu_and_key_has_finnish_and_english_words() -> None:
    assert set(MENU_LABELS) == set(KEY_MAP) == {m.value for m in Menu}
    for fi, en in [*MENU_LABELS.values(), *(w for keys in KEY_MAP.values() for w in keys.values())]:
        assert fi.strip() and en.strip() and fi != en, (fi, en)
    assert KEY_MAP["main"]["1"] == ("uudet viestit", "new messages")
    assert KEY_MAP["options"]["5"] == ("vaihda PIN-koodi", "change PIN")
