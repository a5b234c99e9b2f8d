"""`make run`'s supervisor: a killed app is started again, a stop ends it.

Real child processes (a short python command), real signals; the full stack is not started.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from vipcall.devstack import (
    APP_COMMAND,
    CHILDREN,
    WEB_COMMAND,
    Child,
    Login,
    home_page_banner,
    run_children,
    supervise,
)

SLEEPER = (sys.executable, "-c", "import time; time.sleep(60)")
# Ignores SIGTERM: the supervisor has to fall back to SIGKILL.
STUBBORN = (
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)",
)


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def _pid_in(pid_file: Path, *, other_than: int | None = None, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid = int(pid_file.read_text())
        except (FileNotFoundError, ValueError):
            pid = None
        if pid is not None and pid != other_than and _alive(pid):
            return pid
        await asyncio.sleep(0.02)
    raise AssertionError(f"no (new) live pid in {pid_file} within {timeout}s")


async def test_killed_child_is_restarted_and_stop_ends_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "app.pid"
    stop = asyncio.Event()
    task = asyncio.create_task(
        supervise(SLEEPER, stop=stop, pid_file=pid_file, min_backoff=0.05, grace=5)
    )
    first = await _pid_in(pid_file)
    assert os.getpgid(first) == first  # own process group: a terminal's Ctrl-C skips it

    os.kill(first, signal.SIGKILL)
    second = await _pid_in(pid_file, other_than=first)
    assert not _alive(first)

    # a graceful kill (what README tells you to do) restarts it as well
    os.kill(second, signal.SIGTERM)
    third = await _pid_in(pid_file, other_than=second)

    stop.set()
    starts = await asyncio.wait_for(task, 10)
    assert starts == 3
    assert not _alive(third)
    assert not pid_file.exists()


async def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    pid_file = tmp_path / "app.pid"
    stop = asyncio.Event()
    task = asyncio.create_task(supervise(STUBBORN, stop=stop, pid_file=pid_file, grace=0.5))
    pid = await _pid_in(pid_file)
    await asyncio.sleep(0.3)  # let it install its SIGTERM handler
    stop.set()
    assert await asyncio.wait_for(task, 10) == 1
    assert not _alive(pid)


async def test_stop_during_backoff_starts_nothing_more(tmp_path: Path) -> None:
    pid_file = tmp_path / "app.pid"
    stop = asyncio.Event()
    crashing = (sys.executable, "-c", "raise SystemExit(3)")
    task = asyncio.create_task(
        supervise(crashing, stop=stop, pid_file=pid_file, min_backoff=30, max_backoff=30)
    )
    await asyncio.sleep(1.0)  # the first run has crashed; the supervisor waits 30 s
    stop.set()
    assert await asyncio.wait_for(task, 5) == 1
    assert not pid_file.exists()


def test_the_supervised_command_is_vipcall_serve() -> None:
    assert APP_COMMAND == (sys.executable, "-m", "vipcall", "serve")


async def test_a_child_left_by_a_killed_supervisor_is_stopped_first(tmp_path: Path) -> None:
    pid_file = tmp_path / "app.pid"
    orphan = subprocess.Popen(SLEEPER)  # what a kill -9'd supervisor leaves running
    unrelated = subprocess.Popen((sys.executable, "-c", "import time; time.sleep(60)", "x"))
    try:
        # a pid file naming another command is left alone
        pid_file.write_text(f"{unrelated.pid}\n")
        stop = asyncio.Event()
        stop.set()  # stop at once: only the start-up check runs
        assert await supervise(SLEEPER, stop=stop, pid_file=pid_file) == 0
        assert unrelated.poll() is None

        pid_file.write_text(f"{orphan.pid}\n")
        stop = asyncio.Event()
        task = asyncio.create_task(supervise(SLEEPER, stop=stop, pid_file=pid_file, grace=5))
        new = await _pid_in(pid_file, other_than=orphan.pid)
        assert orphan.wait(timeout=5) == -signal.SIGTERM
        stop.set()
        assert await asyncio.wait_for(task, 10) == 1
        assert not _alive(new)
    finally:
        for proc in (orphan, unrelated):
            proc.kill()
            proc.wait()


def test_the_web_process_is_vipcall_web_beside_the_app() -> None:
    assert WEB_COMMAND == (sys.executable, "-m", "vipcall", "web")
    assert [(c.name, tuple(c.argv), c.pid_file) for c in CHILDREN] == [
        ("app", APP_COMMAND, "app.pid"),
        ("web", WEB_COMMAND, "web.pid"),
    ]


async def test_each_child_is_restarted_alone_and_stop_ends_both(tmp_path: Path) -> None:
    children = (
        Child("app", SLEEPER, "app.pid"),
        Child("web", (*SLEEPER[:-1], SLEEPER[-1] + "  # web"), "web.pid"),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_children(children, state_dir=tmp_path, stop=stop, min_backoff=0.05, grace=5)
    )
    app = await _pid_in(tmp_path / "app.pid")
    web = await _pid_in(tmp_path / "web.pid")
    assert app != web

    os.kill(web, signal.SIGKILL)
    web2 = await _pid_in(tmp_path / "web.pid", other_than=web)
    assert _alive(app), "killing the web process left the app alone"
    assert int((tmp_path / "app.pid").read_text()) == app

    stop.set()
    assert await asyncio.wait_for(task, 10) == [1, 2]
    assert not _alive(app) and not _alive(web2)
    assert not (tmp_path / "app.pid").exists() and not (tmp_path / "web.pid").exists()


def test_banner_shows_the_url_the_docs_and_every_login() -> None:
    logins = [
        Login("fi0401234567@taipalsaari.fi", "Maija Meikäläinen", True),
        Login("fi0401234568@taipalsaari.fi", "Matti Virtanen", False),
    ]
    text = home_page_banner("http://127.0.0.1:8080", logins, "demo-salasana")
    assert "http://127.0.0.1:8080/" in text
    assert "http://127.0.0.1:8080/api/docs" in text
    assert "demo-salasana" in text
    maija, matti = (next(line for line in text.splitlines() if x.username in line) for x in logins)
    assert "Maija Meikäläinen" in maija and "admin" in maija
    assert "Matti Virtanen" in matti and "admin" not in matti
    assert "no demo password" in home_page_banner("http://h:1/", logins, None)
