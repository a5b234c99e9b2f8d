"""The notice rules (vipcall.notices.rules), one test per rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vipcall.notices.rules import (
    DEFAULT_NOTIFY_BY,
    NOTIFY_BY,
    Backoff,
    channel_table,
    compose_notice,
    length_text,
    listening_number_text,
    notice_channels,
)

LISTEN = "+358401621485"


def test_default_is_sms_for_a_user_who_never_chose() -> None:
    assert DEFAULT_NOTIFY_BY == "sms"
    assert notice_channels(None, has_email=True) == ("sms",)
    assert notice_channels(None, has_email=False) == ("sms",)


def test_each_choice_sends_its_channels() -> None:
    assert notice_channels("sms", True) == ("sms",)
    assert notice_channels("email", True) == ("email",)
    assert notice_channels("both", True) == ("sms", "email")
    assert notice_channels("none", True) == ()
    assert notice_channels("none", False) == ()


def test_email_without_an_address_falls_back_to_sms() -> None:
    assert notice_channels("email", has_email=False) == ("sms",)
    assert notice_channels("both", has_email=False) == ("sms",)


def test_unknown_choice_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="unknown notify_by 'fax'"):
        notice_channels("fax", True)


def test_channel_table_spells_out_the_rule_row_by_row() -> None:
    table = channel_table()
    rows = list(zip(table.notify_by, table.has_email, table.channel, strict=True))
    for setting in NOTIFY_BY:
        for has_email in (False, True):
            listed = tuple(c for s, e, c in rows if s == setting and e == has_email)
            assert listed == notice_channels(setting, has_email)


def test_text_is_finnish_first_english_beside() -> None:
    text = compose_notice(
        "+358401234567", datetime(2025, 1, 15, 10, 5, tzinfo=UTC), 42_400, None, LISTEN
    )
    fi, en = text.body.split("\n")
    assert fi == (
        "Uusi vastaajaviesti numerosta +358401234567 15.1.2025 klo 12.05, kesto 42 s. "
        "Kuuntele: +358 40 1621485"
    )
    assert en == (
        "New voicemail from +358401234567 on 15 Jan 2025 at 12:05, length 42 s. "
        "Listen: +358 40 1621485"
    )
    assert text.sms == f"{fi} / {en}"
    assert text.subject == "Vastaajaviesti / Voicemail: +358401234567, 15.1.2025 klo 12.05"


def test_time_is_in_the_organisations_time_zone() -> None:
    at = datetime(2025, 7, 1, 21, 30, tzinfo=UTC)
    assert "2.7.2025 klo 0.30" in compose_notice("+1", at, 0, "Europe/Helsinki", LISTEN).body
    assert "1.7.2025 klo 23.30" in compose_notice("+1", at, 0, "Europe/Stockholm", LISTEN).body
    # unknown or missing zone: Europe/Helsinki
    assert "2.7.2025 klo 0.30" in compose_notice("+1", at, 0, "Mars/Olympus", LISTEN).body
    with pytest.raises(ValueError):
        compose_notice("+1", datetime(2025, 7, 1), 0, None, LISTEN)


def test_unknown_caller_is_said_so() -> None:
    body = compose_notice(None, datetime(2025, 1, 1, tzinfo=UTC), 1000, None, LISTEN).body
    assert "tuntemattomasta numerosta" in body
    assert "from an unknown number" in body


def test_length_in_minutes_and_seconds() -> None:
    assert length_text(None) == ("0 s", "0 s")
    assert length_text(59_499) == ("59 s", "59 s")
    assert length_text(65_000) == ("1 min 5 s", "1 min 5 s")
    assert length_text(180_000) == ("3 min 0 s", "3 min 0 s")


def test_listening_number_as_people_write_it() -> None:
    assert listening_number_text("+358401621485") == "+358 40 1621485"
    assert listening_number_text("not a number") == "not a number"


def test_backoff_doubles_up_to_the_cap_then_gives_up() -> None:
    backoff = Backoff(base=30, cap=300, max_attempts=6)
    assert list(backoff.schedule()) == [timedelta(seconds=s) for s in (30, 60, 120, 240, 300)]
    assert backoff.after_failure(5) == timedelta(seconds=300)
    assert backoff.after_failure(6) is None
    assert backoff.after_failure(60) is None


def test_backoff_with_one_attempt_never_retries() -> None:
    assert Backoff(base=1, cap=1, max_attempts=1).after_failure(1) is None


def test_backoff_refuses_nonsense() -> None:
    for bad in ({"base": 0}, {"base": 10, "cap": 5}, {"max_attempts": 0}):
        with pytest.raises(ValueError):
            Backoff(**bad)  # type: ignore[arg-type]
