"""Runs the ``vipcall`` CLI in-process against a test database, capturing its output.

``main`` runs in a worker thread: it calls ``asyncio.run`` itself, which must not happen
on the test's own event loop."""

from __future__ import annotations

import asyncio

import pytest

from vipcall.cli import main


class Cli:
    def __init__(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self.capsys = capsys

    async def __call__(self, *argv: str) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of ``vipcall --database-url URL *argv``."""
        self.capsys.readouterr()
        code = await asyncio.to_thread(main, ["--database-url", self.url, *argv])
        out, err = self.capsys.readouterr()
        return code, out, err

    async def ok(self, *argv: str) -> str:
        """stdout of a command that must succeed without a word on stderr."""
        code, out, err = await self(*argv)
        assert code == 0, err
        assert err == ""
        return out


def one_error_line(err: str) -> str:
    """The CLI's one-line error (and nothing else on stderr)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vipcall: error: "), err
    assert "Traceback" not in err
    return lines[0]
