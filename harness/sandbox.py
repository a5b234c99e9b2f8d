"""Can the sandboxed Asterisk run here, and what happens when it cannot.

A developer without root or without the built chroot gets the end-to-end tests skipped
with the reason. Where the sandbox is required (``CI=true``, or ``VIPCALL_REQUIRE_SANDBOX=1``
as ``make test`` sets it) the same reason FAILS the test instead: a CI run or ``make test``
that silently skipped every call through Asterisk would prove nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

from vipcall.sandbox import default_root

REQUIRE_ENV = "VIPCALL_REQUIRE_SANDBOX"
_TRUE = {"1", "true", "yes", "on"}


def required() -> str | None:
    """Why the sandbox is required in this run (``None``: it is not)."""
    if os.environ.get(REQUIRE_ENV, "").strip().lower() in _TRUE:
        return f"{REQUIRE_ENV}={os.environ[REQUIRE_ENV]}"
    if os.environ.get("CI", "").strip().lower() in _TRUE:
        return f"CI={os.environ['CI']}"
    return None


def missing(*, buildable: bool = False, tools: tuple[str, ...] = ()) -> str | None:
    """What keeps the sandbox (and the named tools, e.g. ``sipp``) from running here.

    ``buildable``: the caller builds a missing chroot itself (``ensure_chroot``), so only
    root is needed."""
    if os.geteuid() != 0:
        return "the Asterisk sandbox needs root (chroot, mount)"
    root = default_root()
    if not buildable and not (root / "usr/sbin/asterisk").exists():
        return f"Asterisk chroot not built at {root} (python -m vipcall.sandbox build)"
    for tool in tools:
        if shutil.which(tool) is None:
            return f"{tool} not found ({_PACKAGES.get(tool, tool)})"
    return None


_PACKAGES = {"sipp": "Debian package sip-tester: apt-get install sip-tester"}


def unavailable(reason: str) -> NoReturn:
    """Skip the current test, or fail it where the sandbox is required."""
    import pytest

    why = required()
    if why:
        pytest.fail(f"{reason} (required here: {why})", pytrace=False)
    pytest.skip(reason)


def require(*, buildable: bool = False, tools: tuple[str, ...] = ()) -> Path:
    """The chroot's root, or skip/fail the current test (see :func:`unavailable`)."""
    reason = missing(buildable=buildable, tools=tools)
    if reason is not None:
        unavailable(reason)
    return default_root()
