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
