"""The generator: renders, is idempotent, and --check catches missing/stale/orphan files."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import pytest

from vipcall.prompts.catalog import load_catalog
from vipcall.prompts.generate import MANIFEST_NAME, check, generate, main

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are needed to render prompts",
)

CATALOG = """
[prompts]
hello = { fi = "Hei.", en = "Hello." }
beep = { fi = "(äänimerkki)", en = "(beep)", tone = { hz = 1000, seconds = 0.3 } }
"""


@pytest.fixture
def sounds_dir(tmp_path: Path) -> Path:
    (tmp_path / "catalog.toml").write_text(CATALOG)
    return tmp_path


def test_generate_then_check(sounds_dir: Path) -> None:
    cat = load_catalog(sounds_dir / "catalog.toml")
    assert len(check(sounds_dir, cat)) == 4  # all missing
    done, skipped = generate(sounds_dir, cat)
    assert sorted(done) == ["en/beep.wav", "en/hello.wav", "fi/beep.wav", "fi/hello.wav"]
    assert skipped == 0
    for rel in done:
        with wave.open(str(sounds_dir / rel), "rb") as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    assert check(sounds_dir, cat) == []
    manifest = json.loads((sounds_dir / MANIFEST_NAME).read_text())
    assert set(manifest["files"]) == set(done)

    # Idempotent: nothing re-rendered, files untouched.
    mtime = (sounds_dir / "fi/hello.wav").stat().st_mtime_ns
    assert generate(sounds_dir, cat) == ([], 4)
    assert (sounds_dir / "fi/hello.wav").stat().st_mtime_ns == mtime


def test_check_reports_stale_missing_and_orphans(sounds_dir: Path) -> None:
    cat = load_catalog(sounds_dir / "catalog.toml")
    generate(sounds_dir, cat)
    (sounds_dir / "catalog.toml").write_text(CATALOG.replace("Hei.", "Moi."))
    (sounds_dir / "en/beep.wav").unlink()
    (sounds_dir / "fi/old.wav").write_bytes(b"")
    cat = load_catalog(sounds_dir / "catalog.toml")
    problems = check(sounds_dir, cat)
    assert any(p.startswith("fi/hello.wav: stale") for p in problems)
    assert "en/beep.wav: missing" in problems
    assert any(p.startswith("fi/old.wav") for p in problems)
    assert "en/hello.wav" not in " ".join(problems)

    assert main(["--sounds-dir", str(sounds_dir), "--check"]) == 1
    assert main(["--sounds-dir", str(sounds_dir), "--only", "hello"]) == 0
    assert check(sounds_dir, cat, only=["hello"]) == []
    assert main(["--sounds-dir", str(sounds_dir)]) == 0  # renders beep, drops orphan
    assert not (sounds_dir / "fi/old.wav").exists()
    assert main(["--sounds-dir", str(sounds_dir), "--check"]) == 0


def test_only_unknown_id_fails(sounds_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sounds-dir", str(sounds_dir), "--only", "nope"]) == 2
    assert "unknown prompt id 'nope'" in capsys.readouterr().err
