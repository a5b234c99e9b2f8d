"""Generated audio: every prompt in both languages, 8 kHz mono 16-bit, up to date."""

from __future__ import annotations

import wave

import pytest

from vipcall.prompts.catalog import LANGS, SOUNDS_DIR, catalog
from vipcall.prompts.generate import check, total_size

IDS = list(catalog())


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("pid", IDS)
def test_wav_present_8khz_mono(pid: str, lang: str) -> None:
    path = SOUNDS_DIR / lang / f"{pid}.wav"
    assert path.is_file(), f"missing {path}; run python -m vipcall.prompts.generate"
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == 8000
        assert w.getnchannels() == 1
        assert w.getsampwidth() == 2
        seconds = w.getnframes() / w.getframerate()
    assert 0.1 < seconds < 15, f"{path}: {seconds:.2f} s"


def test_beep_is_short() -> None:
    for lang in LANGS:
        with wave.open(str(SOUNDS_DIR / lang / "beep.wav"), "rb") as w:
            assert w.getnframes() == 2400  # 0.3 s at 8 kHz


def test_manifest_says_everything_is_fresh() -> None:
    assert check(SOUNDS_DIR, catalog()) == []


def test_total_size_is_modest() -> None:
    assert total_size(SOUNDS_DIR) < 12 * 1024 * 1024
