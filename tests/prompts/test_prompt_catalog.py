"""The catalogue: complete, bilingual, kebab-case, with the prompts the issues need."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vipcall.prompts.catalog import (
    CATALOG_PATH,
    LANGS,
    CatalogError,
    Prompt,
    Tone,
    UnknownPromptError,
    catalog,
    load_catalog,
    parse_catalog,
)

REQUIRED = [
    "voicemail-greeting-default",
    "beep",
    "number-not-in-use",
    "service-unavailable",
    "technical-error",
    "feature-activated",
    "invalid-code",
    "forward-refused",
    "forward-refused-invalid-number",
    "forward-refused-premium-or-shared-cost",
    "forward-refused-own-number",
    "forward-refused-loop",
    "role-fallback-mobile",
    "activity-current",
    "activity-choose",
    "activity-saved",
    "invalid-choice",
    "not-service-user",
    "no-input-goodbye",
    "goodbye",
    "time-at",
    "until",
    "absence-person-on-holiday",
    "absence-person-away",
    "absence-press-2-connect",
    "absence-press-1-customer-service",
    "voicemail-you-have",
    "voicemail-new-messages",
    "voicemail-message",
    "voicemail-end-of-messages",
    "voicemail-main-menu",
    *(f"activity-{n}" for n in range(1, 9)),
    *(f"press-{n}" for n in range(1, 9)),
    *(f"role-{n}" for n in range(1, 6)),
    *(f"digit-{d}" for d in range(10)),
    *(f"num-{n}" for n in range(60)),
    *(f"day-{n}" for n in range(1, 32)),
    *(f"month-{n}" for n in range(1, 13)),
]


def test_catalogue_has_fi_and_en_for_every_id() -> None:
    cat = catalog()
    assert len(cat) >= len(REQUIRED)
    for pid, prompt in cat.items():
        assert isinstance(prompt, Prompt) and prompt.id == pid
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", pid), pid
        for lang in LANGS:
            assert prompt.text(lang).strip(), f"{pid} has no {lang} text"


@pytest.mark.parametrize("pid", REQUIRED)
def test_required_prompt_present(pid: str) -> None:
    assert pid in catalog()


def test_texts_from_the_requirements() -> None:
    cat = catalog()
    assert cat["voicemail-greeting-default"].fi == (
        "Henkilö ei juuri nyt voi vastata. Jätä viesti äänimerkin jälkeen."
    )
    assert cat["voicemail-greeting-default"].en == (
        "The person you called cannot answer right now. Please leave a message after the tone."
    )
    assert cat["feature-activated"].fi == "Toiminne on otettu käyttöön."
    assert cat["feature-activated"].en == "The feature has been activated."
    assert cat["number-not-in-use"].fi == "Valitsemasi numero ei ole käytössä."
    assert cat["number-not-in-use"].en == "The number you dialled is not in use."
    assert [cat[f"activity-{n}"].fi for n in range(1, 9)] == [
        "Tavoitettavissa", "Varattu", "Lounaalla", "Neuvottelussa",
        "Poissa", "Lomalla", "Etätöissä", "Toimistolla",
    ]  # fmt: skip
    assert [cat[f"activity-{n}"].en for n in range(1, 9)] == [
        "Available", "Busy", "Lunch", "In meeting",
        "Away", "On holiday", "Remote work", "At office",
    ]  # fmt: skip
    assert [cat[f"role-{n}"].fi for n in range(1, 6)] == [
        "Mobiili", "Lanka", "Vaihde", "Piilotettu", "Tiedote loma ja poissa",
    ]  # fmt: skip
    assert cat["until"].fi == "asti"
    assert cat["press-3"].fi == "valitse 3"


def test_beep_is_a_tone() -> None:
    assert catalog()["beep"].tone == Tone(hz=1000, seconds=0.3)
    assert all(p.tone is None for pid, p in catalog().items() if pid != "beep")


def test_unknown_id_raises_clear_error() -> None:
    with pytest.raises(UnknownPromptError) as info:
        catalog()["feature-activate"]
    msg = str(info.value)
    assert "unknown prompt id 'feature-activate'" in msg
    assert "feature-activated" in msg  # suggestion
    assert isinstance(info.value, KeyError)


def test_load_catalog_default_path() -> None:
    assert CATALOG_PATH.name == "catalog.toml"
    assert list(load_catalog()) == list(catalog())


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({}, "no [prompts]"),
        ({"prompts": {"Bad_Id": {"fi": "a", "en": "b"}}}, "kebab-case"),
        ({"prompts": {"x": {"fi": "a"}}}, "missing or empty 'en'"),
        ({"prompts": {"x": {"fi": " ", "en": "b"}}}, "missing or empty 'fi'"),
        ({"prompts": {"x": {"fi": "a", "en": "b", "sv": "c"}}}, "unknown keys"),
        ({"prompts": {"x": {"fi": "a", "en": "b", "tone": {"hz": 1000}}}}, "tone needs"),
        ({"prompts": {"x": {"fi": "a", "en": "b", "tone": {"hz": 9, "seconds": 1}}}}, "range"),
    ],
)
def test_malformed_catalogue_rejected(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(CatalogError, match=re.escape(fragment)):
        parse_catalog(data)


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.toml"
    bad.write_text("[prompts]\nx = {fi = ")
    with pytest.raises(CatalogError, match="catalog.toml"):
        load_catalog(bad)
