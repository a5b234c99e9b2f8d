"""Settings: the state dir (ARI password) does not depend on the current directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vipcall import config
from vipcall.config import Settings, default_state_dir, read_ari_password

CLONE = Path(__file__).resolve().parents[2]

_PRINT = (
    "from vipcall.config import Settings; s = Settings.from_env(); "
    "print(s.state_dir); print(s.ari_password)"
)


def _from_env_in(cwd: Path, **env: str) -> tuple[Path, str]:
    """Settings.from_env() in a real python process started in ``cwd``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VIPCALL_")}
    environ.update(env)
    environ["PYTHONPATH"] = str(CLONE)
    out = subprocess.run(
        [sys.executable, "-c", _PRINT], cwd=cwd, env=environ, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    state_dir, password = (out.stdout.splitlines() + [""])[:2]
    return Path(state_dir), password


def test_default_state_dir_is_the_clones_var_from_any_cwd(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    from_clone = _from_env_in(CLONE)
    from_elsewhere = _from_env_in(elsewhere)
    assert from_clone[0] == CLONE / "var"
    assert from_elsewhere == from_clone
    # and both read the one password file there (whatever a running stack wrote, or none)
    assert from_elsewhere[1] == read_ari_password(CLONE / "var")


def test_password_file_found_from_another_cwd(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "ari-password").write_text("s3cret-from-file\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _from_env_in(elsewhere, VIPCALL_STATE_DIR=str(state)) == (state, "s3cret-from-file")
    # a relative VIPCALL_STATE_DIR is made absolute against the cwd it was given in
    assert _from_env_in(tmp_path, VIPCALL_STATE_DIR="state") == (state, "s3cret-from-file")


def test_env_password_wins_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "ari-password").write_text("from-file")
    got = _from_env_in(tmp_path, VIPCALL_STATE_DIR=str(tmp_path), VIPCALL_ARI_PASSWORD="env")
    assert got == (tmp_path, "env")


def test_no_password_file_is_an_empty_password(tmp_path: Path) -> None:
    assert read_ari_password(tmp_path) == ""
    assert Settings.from_env(state_dir=tmp_path).ari_password == ""


def test_relative_override_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VIPCALL_STATE_DIR", raising=False)
    assert Settings.from_env(state_dir=Path("x")).state_dir == tmp_path / "x"


def test_installed_package_uses_the_system_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # vipcall imported from somewhere that is not a checkout (site-packages)
    monkeypatch.setattr(config, "_SOURCE_ROOT", tmp_path)
    assert default_state_dir() == Path("/var/lib/vipcall/state")
