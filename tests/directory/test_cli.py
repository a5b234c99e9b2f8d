"""Admin CLI end to end: ``main([...])`` in-process and the installed entry point as a
subprocess (for the one-line-error / exit-code contract).

``main()`` calls ``asyncio.run``; from these (async) tests it runs in a worker thread so the
session event loop is left alone.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.cli import Cli
from vipcall.cli import format_table, main

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(database_url: str, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]) -> Cli:
    # ``engine`` empties the database first.
    return Cli(database_url, capsys)


async def run_subprocess(url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIPCALL_DATABASE_URL": url}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "vipcall.cli", *argv],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vipcall: error: "), err
    assert "Traceback" not in err
    return lines[0]


async def test_org_and_user_lifecycle(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = await cli(
        "org", "create", "--name", "Taipalsaaren kunta", "--domain", "taipalsaari.fi",
        "--switchboard", "05 123 4000",
    )  # fmt: skip
    assert code == 0 and "taipalsaari.fi" in out
    code, out, _ = await cli(
        "org", "create", "--name", "Lpr", "--domain", "lpr.fi", "--language", "en"
    )
    assert code == 0

    code, out, _ = await cli("org", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "DOMAIN", "NAME", "SWITCHBOARD", "LANG", "RED", "USERS"]
    assert any("+35851234000" in line and "taipalsaari.fi" in line for line in lines)
    # Aligned: every column starts at the same offset on every line.
    assert len({line.index(line.split()[1]) for line in lines}) == 1

    code, out, err = await cli(
        "user", "create", "--org", "taipalsaari.fi", "--name", "Maija Meikäläinen",
        "--mobile", "040 123 4567", "--landline", "09 1234 5678", "--email", "maija@taipalsaari.fi",
        "--admin", "--password", "salasana123",
    )  # fmt: skip
    assert code == 0, err
    assert "fi0401234567@taipalsaari.fi" in out

    csv = tmp_path / "users.csv"
    csv.write_text(
        "display_name;mobile;landline;email\nMatti;+358 40 1234568;;\nLiisa;00358501234569;;\n"
    )
    code, out, err = await cli("user", "import", "--org", "taipalsaari.fi", str(csv))
    assert code == 0, err
    assert "imported 2 users" in out

    code, out, _ = await cli("user", "list", "--org", "taipalsaari.fi")
    assert code == 0
    body = out.splitlines()[1:]
    assert len(body) == 3
    assert any("fi0501234569@taipalsaari.fi" in line for line in body)
    code, out, _ = await cli("user", "list", "--org", "lpr.fi")
    assert code == 0 and len(out.splitlines()) == 1  # header only

    code, out, _ = await cli("softphone", "add", "--user", "fi0401234568@taipalsaari.fi")
    assert code == 0
    fields = dict(line.split(":", 1) for line in out.splitlines())
    assert fields["endpoint"].strip().startswith("sp-")
    assert len(fields["password"].strip()) >= 20

    assert (await cli("activity", "set", "0401234567", "4"))[0] == 0
    assert (await cli("role", "set", "fi0401234567@taipalsaari.fi", "2"))[0] == 0
    code, out, _ = await cli("user", "list")
    row = next(line for line in out.splitlines() if "fi0401234567@" in line).split()
    assert row[-2:] == ["4", "2"]


async def test_demo_idempotent(cli: Cli) -> None:
    code, out, _ = await cli("demo")
    assert code == 0 and "created" in out and "taipalsaari.fi" in out
    code, out, _ = await cli("demo")
    assert code == 0 and "already present" in out
    code, out, _ = await cli("user", "list", "--org", "taipalsaari.fi")
    assert len(out.splitlines()) == 4


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("user", "create", "--org", "nope.fi", "--name", "X", "--mobile", "0401234567"),
         "unknown organisation 'nope.fi'"),
        (("user", "create", "--org", "taipalsaari.fi", "--name", "X", "--mobile", "123"),
         "field mobile: '123' is not a valid phone number"),
        (("user", "create", "--org", "taipalsaari.fi", "--name", "X", "--mobile", "0401234567"),
         "field mobile: +358401234567 already belongs to user fi0401234567@taipalsaari.fi"),
        (("org", "create", "--name", "X", "--domain", "taipalsaari.fi"), "already exists"),
        (("activity", "set", "0401234567", "9"), "activity must be between 1 and 8"),
        (("role", "set", "0401234567", "x"), "field role: 'x' is not a number"),
        (("softphone", "add", "--user", "nobody@x.fi"), "unknown user 'nobody@x.fi'"),
    ],
)  # fmt: skip
async def test_expected_errors(cli: Cli, argv: tuple[str, ...], fragment: str) -> None:
    assert (await cli("demo"))[0] == 0
    code, out, err = await cli(*argv)
    assert code == 1
    line = _one_error_line(err)
    assert fragment in line, line


async def test_import_bad_row_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    await cli("org", "create", "--name", "T", "--domain", "taipalsaari.fi")
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "display_name,mobile,landline,email\n"
        "Maija,040 123 4567,,\n"
        "Matti,123,,\n"
        "Liisa,050 123 4569,,\n"
    )
    code, _, err = await cli("user", "import", "--org", "taipalsaari.fi", str(csv))
    assert code == 1
    assert _one_error_line(err) == (
        "vipcall: error: row 3, field mobile: '123' is not a valid phone number"
    )
    code, out, _ = await cli("user", "list")
    assert len(out.splitlines()) == 1  # nothing written


async def test_usage_errors_exit_2(cli: Cli) -> None:
    code, _, err = await cli("user", "create", "--org", "x.fi")
    assert code == 2 and "required" in err
    code, _, err = await cli("frobnicate")
    assert code == 2
    code, out, _ = await cli("--help")
    assert code == 0 and "user" in out


async def test_subprocess_one_line_errors(database_url: str, engine: AsyncEngine) -> None:
    proc = await run_subprocess(database_url, "demo")
    assert proc.returncode == 0, proc.stderr
    for argv, fragment in (
        (("user", "create", "--org", "taipalsaari.fi", "--name", "X", "--mobile", "040 123 4567"),
         "already belongs to"),
        (("user", "create", "--org", "nope.fi", "--name", "X", "--mobile", "0409999999"),
         "unknown organisation"),
        (("user", "import", "--org", "taipalsaari.fi", "/nonexistent/users.csv"), "cannot read"),
    ):  # fmt: skip
        proc = await run_subprocess(database_url, *argv)
        assert proc.returncode == 1
        assert fragment in _one_error_line(proc.stderr)
        assert proc.stdout == ""
    # Database unreachable / missing: still one line, exit 1.
    proc = await run_subprocess(
        database_url, "--database-url", "postgresql://postgres@127.0.0.1:5432/vipcall_no_such_db",
        "org", "list",
    )  # fmt: skip
    assert proc.returncode == 1
    assert "does not exist" in _one_error_line(proc.stderr)
    # Usage error: exit 2.
    proc = await run_subprocess(database_url, "org", "create")
    assert proc.returncode == 2


async def test_console_script_installed(database_url: str, engine: AsyncEngine) -> None:
    script = Path(sys.executable).with_name("vipcall")
    if not script.exists():
        pytest.skip("vipcall console script not installed in this environment")
    proc = await asyncio.to_thread(
        subprocess.run,
        [str(script), "--database-url", database_url, "org", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[:2] == ["ID", "DOMAIN"]


async def test_db_upgrade_creates_database() -> None:
    from harness.db import drop_database, new_database_url

    url = new_database_url("vipcall_cli")
    try:
        code = await asyncio.to_thread(main, ["--database-url", url, "db", "upgrade"])
        assert code == 0
        code = await asyncio.to_thread(main, ["--database-url", url, "db", "upgrade"])
        assert code == 0
        code = await asyncio.to_thread(main, ["--database-url", url, "org", "list"])
        assert code == 0
    finally:
        await drop_database(url)


async def test_format_table() -> None:
    table = format_table(("A", "LONGER"), [(1, None), ("wide cell", "x")])
    assert table.splitlines() == ["A          LONGER", "1          -", "wide cell  x"]
