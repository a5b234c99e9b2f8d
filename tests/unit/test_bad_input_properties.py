"""Bad input, by property (issue 10): whatever a caller keys or a user types, the parsers
answer with a value or a clear refusal, never a crash, and what they accept is safe."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vipcall import numbers
from vipcall.presence.forwarding import Refusal, destination_refusal
from vipcall.routing.snapshot import Organization, Subscriber
from vipcall.transfer.rules import Accepted, Refused, check

DTMF = st.text(alphabet="0123456789*#ABCD", max_size=24)
MAIJA = Subscriber(id=7, org=Organization(id=1), mobile="+358401234567")


@given(DTMF)
def test_any_dtmf_after_the_transfer_prefix_gets_a_verdict(keys: str) -> None:
    verdict = check(MAIJA, keys, "FI")
    assert isinstance(verdict, Accepted | Refused)


@given(DTMF)
def test_an_accepted_transfer_target_is_a_valid_callable_number(keys: str) -> None:
    verdict = check(MAIJA, keys, "FI")
    if isinstance(verdict, Accepted):
        assert keys.startswith("1") and keys.endswith("#")
        assert numbers.is_e164(verdict.target)
        assert destination_refusal(verdict.target) is None
        assert verdict.target not in MAIJA.numbers


@given(st.integers(min_value=0, max_value=999_999))
def test_a_premium_number_keyed_in_any_spelling_is_never_accepted(n: int) -> None:
    for spelling in (f"10600{n:06d}#", f"100358600{n:06d}#", f"1+358600{n:06d}#"):
        assert isinstance(check(MAIJA, spelling, "FI"), Refused), spelling


@given(
    st.integers(min_value=0, max_value=9_999_999),
    st.sampled_from(["040{d}", "+35840{d}", "0035840{d}", "040 {s}", "040-{s}", "(040) {s}"]),
)
def test_finnish_spellings_of_one_mobile_are_one_e164(n: int, form: str) -> None:
    digits = f"{n:07d}"
    spaced = f"{digits[:3]} {digits[3:]}"
    assert numbers.normalize(form.format(d=digits, s=spaced)) == f"+35840{digits}"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_hostile_text_is_refused_or_a_clean_e164(text: str) -> None:
    e164 = numbers.try_normalize(text)
    assert e164 is None or (numbers.is_e164(e164) and e164.isascii())


def test_refusal_of_premium_is_named() -> None:
    assert check(MAIJA, "10600123456#", "FI") == Refused(Refusal.PREMIUM_OR_SHARED_COST)
