"""What the listening number says: counts, each menu's keys, a message's introduction."""

from __future__ import annotations

from datetime import date, datetime

from vipcall.voicemail.listen import counts_media, intro_media, menu_media
from vipcall.voicemail.menu import Menu


def ids(media: list[str]) -> list[str]:
    return [m.rsplit("/", 1)[-1] for m in media]


def test_counts_say_new_and_saved_messages() -> None:
    assert ids(counts_media(0, 0, "fi")) == ["voicemail-no-new-messages"]
    assert ids(counts_media(2, 1, "en")) == [
        "voicemail-you-have", "num-2", "voicemail-new-messages",
        "listen-and", "num-1", "listen-saved-message",
    ]  # fmt: skip


def test_each_menu_says_its_own_keys() -> None:
    assert ids(menu_media(Menu.MAIN, "fi")) == ["listen-main-menu"]
    assert ids(menu_media(Menu.MESSAGE, "fi")) == ["listen-message-menu"]
    assert ids(menu_media(Menu.OPTIONS, "fi")) == ["listen-options-menu"]


def test_message_is_introduced_with_number_caller_and_time() -> None:
    today = date(2026, 11, 26)
    said = ids(intro_media(2, "+358501234567", datetime(2026, 11, 26, 14, 5), today, "fi"))
    assert said[:3] == ["voicemail-message", "num-2", "listen-from"]
    assert said[3:13] == [f"digit-{d}" for d in "0501234567"]
    assert said[13:] == ["time-at", "num-14", "time-oh", "num-5"]


def test_unknown_caller_and_another_day() -> None:
    said = ids(intro_media(1, None, datetime(2026, 11, 24, 9, 30), date(2026, 11, 26), "fi"))
    assert said == [
        "voicemail-message", "num-1", "listen-unknown-caller",
        "day-24", "month-11", "time-at", "num-9", "num-30",
    ]  # fmt: skip
    assert "listen-unknown-caller" in ids(
        intro_media(1, "abc", datetime(2026, 11, 26), date(2026, 11, 26), "fi")
    )
