"""A missing Asterisk sandbox skips the end-to-end tests on a developer's machine, but
fails them where the sandbox is required: under CI=true and in `make test`
(VIPCALL_REQUIRE_SANDBOX=1). Checked on the function and on the real conftest wiring."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import sandbox
from vipcall.sandbox import default_root

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_chroot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIPCALL_ASTERISK_ROOT", str(tmp_path / "no-chroot-here"))
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(sandbox.REQUIRE_ENV, raising=False)
    return tmp_path / "no-chroot-here"


def test_missing_sandbox_skips_by_default(no_chroot: Path) -> None:
    with pytest.raises(pytest.skip.Exception) as got:
        sandbox.require()
    assert "needs root" in str(got.value) or str(no_chroot) in str(got.value)


@pytest.mark.parametrize(
    ("name", "value"), [("CI", "true"), ("CI", "1"), (sandbox.REQUIRE_ENV, "1")]
)
def test_missing_sandbox_fails_where_required(
    no_chroot: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(pytest.fail.Exception) as got:
        sandbox.require()
    assert f"{name}={value}" in str(got.value)


def test_ci_false_does_not_require(no_chroot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    assert sandbox.required() is None


def test_a_missing_tool_is_named_with_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    if sandbox.missing() is not None:
        pytest.skip("no sandbox here: the tool check comes after it")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert sandbox.missing(tools=("sipp",)) == (
        "sipp not found (Debian package sip-tester: apt-get install sip-tester)"
    )


def test_present_sandbox_is_not_skipped() -> None:
    if os.geteuid() != 0 or not (default_root() / "usr/sbin/asterisk").exists():
        sandbox.unavailable("the Asterisk sandbox is not built here")
    assert sandbox.require() == default_root()


def _pytest(target: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", sandbox.REQUIRE_ENV)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rsE", target],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


# Suites whose Asterisk fixture applies the rule; none of them gets as far as starting
# Asterisk, as the chroot is missing. (tests/sandbox builds a missing chroot itself, so
# there only a missing root is "missing": the function tests above cover it.)
SUITES = ["tests/scenarios/number_not_in_use", "tests/ari/test_real_asterisk.py"]
SANDBOX_REASONS = ("Asterisk chroot not built", "needs root")


def _skipped_for_sandbox(out: str) -> bool:
    return any(
        line.startswith("SKIPPED") and any(r in line for r in SANDBOX_REASONS)
        for line in out.splitlines()
    )


@pytest.mark.parametrize("target", SUITES)
def test_suites_skip_or_fail_without_the_sandbox(tmp_path: Path, target: str) -> None:
    root = str(tmp_path / "no-chroot-here")
    skipped = _pytest(target, VIPCALL_ASTERISK_ROOT=root)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert _skipped_for_sandbox(skipped.stdout), skipped.stdout
    assert "failed" not in skipped.stdout and "error" not in skipped.stdout

    failed = _pytest(target, VIPCALL_ASTERISK_ROOT=root, CI="true")
    assert failed.returncode != 0, failed.stdout
    assert "(required here: CI=true)" in failed.stdout
    assert not _skipped_for_sandbox(failed.stdout), failed.stdout
