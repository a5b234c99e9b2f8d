"""Chroot helpers without building anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from vipcall.sandbox import chroot
from vipcall.sandbox.chroot import ChrootError, ensure_chroot, prepare_chroot


def test_ensure_chroot_is_a_noop_when_asterisk_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chroot, "asterisk_works", lambda root: True)

    def no_commands(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing may run when the chroot is usable")

    monkeypatch.setattr(chroot, "_run", no_commands)
    ensure_chroot(tmp_path / "root")


def test_prepare_refuses_a_missing_chroot(tmp_path: Path) -> None:
    with pytest.raises(ChrootError, match="build"):
        prepare_chroot(tmp_path / "nothing-here")


def test_default_root_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIPCALL_ASTERISK_ROOT", raising=False)
    assert chroot.default_root() == Path("/var/lib/vipcall/asterisk-sid")
    monkeypatch.setenv("VIPCALL_ASTERISK_ROOT", "/x/y")
    assert chroot.default_root() == Path("/x/y")
