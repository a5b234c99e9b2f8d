"""The benchmark checks its tools before it starts anything and says in one line what is
missing and how to install it (not a traceback after seeding and starting everything)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.tools import missing_tools

ROOT = Path(__file__).resolve().parents[2]


def only(tmp_path: Path, *tools: str) -> str:
    """A PATH holding just these tools (symlinks to the real ones)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in tools:
        real = shutil.which(tool)
        if real is None:
            pytest.skip(f"{tool} is not installed here")
        (folder / tool).symlink_to(real)
    return str(folder)


def test_missing_dumpcap_is_named_with_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", only(tmp_path, "sipp"))
    problem = missing_tools()
    assert problem is not None
    assert problem.startswith("dumpcap not found: install with `apt-get install tshark`")
    assert "--no-pcap" in problem
    assert "\n" not in problem


def test_without_a_capture_dumpcap_is_not_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", only(tmp_path, "sipp"))
    problem = missing_tools(pcap=False)
    assert problem is None or "dumpcap" not in problem


def test_every_missing_tool_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", only(tmp_path))
    assert missing_tools() == (
        "sipp, dumpcap not found: install with `apt-get install sip-tester tshark` "
        "or `scripts/bench-tools.sh` (what `make bench` runs)"
    )


def test_bench_run_stops_before_starting_anything(tmp_path: Path) -> None:
    path = only(tmp_path, "sipp")
    before = set((ROOT / "bench/results").glob("run-*"))
    res = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"],
        cwd=ROOT, env={**os.environ, "PATH": path}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert res.returncode != 0
    assert res.stdout == ""  # nothing seeded, nothing started
    assert res.stderr.strip().splitlines() == [
        "bench: dumpcap not found: install with `apt-get install tshark` or "
        "`scripts/bench-tools.sh` (what `make bench` runs) (or run without a capture: --no-pcap)"
    ]
    assert set((ROOT / "bench/results").glob("run-*")) == before
