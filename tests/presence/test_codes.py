"""Feature codes, as the user guide lists them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vipcall.presence.codes import (
    ClearForwarding,
    InvalidCode,
    SetActivity,
    SetForwarding,
    SetRole,
    parse_feature_code,
)
from vipcall.presence.model import Activity, Role


@pytest.mark.parametrize("n", range(1, 9))
def test_983_plus_n_sets_activity_n(n: int) -> None:
    assert parse_feature_code(f"983{n}") == SetActivity(Activity(n))


@pytest.mark.parametrize("n", range(1, 6))
def test_984_plus_n_sets_role_n(n: int) -> None:
    assert parse_feature_code(f"984{n}") == SetRole(Role(n))


def test_987_plus_number_sets_forwarding() -> None:
    assert parse_feature_code("9870401234567") == SetForwarding("0401234567")


def test_987_alone_clears_forwarding() -> None:
    assert parse_feature_code("987") == ClearForwarding()


@pytest.mark.parametrize(
    "dialled",
    ["9839", "9830", "983", "98312", "9846", "9840", "984", "98", "985", "9811", "987*12#", "987+"],
)
def test_invalid_codes_and_digits(dialled: str) -> None:
    assert parse_feature_code(dialled) == InvalidCode(dialled)


@pytest.mark.parametrize("dialled", ["0401234567", "+358401234567", "112", "0983", ""])
def test_ordinary_numbers_are_not_codes(dialled: str) -> None:
    assert parse_feature_code(dialled) is None


@given(st.text(alphabet="0123456789*#", max_size=12))
def test_every_98_string_is_a_request_and_nothing_else_is(dialled: str) -> None:
    request = parse_feature_code(dialled)
    assert (request is None) == (not dialled.startswith("98"))
