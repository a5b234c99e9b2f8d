"""``make run``: the whole service on one machine with its defaults.

Creates and migrates the database, makes the demo organisation, starts the sandboxed
Asterisk (default instance: SIP 127.0.0.1:5060, ARI 127.0.0.1:8088) and runs the Stasis
app (``python -m vipcall serve``) as a supervised child process: when the app dies it is
started again after a short backoff, and its pid is kept in ``<state dir>/app.pid``
(``kill $(cat var/app.pid)`` restarts the app alone). Re-runnable: every step checks
before it acts. Ctrl-C (or SIGTERM) stops the app, then the Asterisk it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

from vipcall.config import Settings
from vipcall.db.engine import create_engine, session_factory, transaction
from vipcall.db.migrate import create_database_if_missing_async, upgrade_async
from vipcall.directory import ensure_demo
from vipcall.sandbox import Instance
from vipcall.service.logs import configure_logging

log = logging.getLogger("vipcall.devstack")


async def prepare_database(settings: Settings) -> None:
    await create_database_if_missing_async(settings.database_url)
    await upgrade_async(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            demo = await ensure_demo(session)
    finally:
        await engine.dispose()
    log.info(
        "database ready: %s (demo organisation %s)", settings.database_url, demo.organization.domain
    )


def asterisk_instance(settings: Settings) -> tuple[Instance, Settings]:
    """The default sandboxed Asterisk for these settings (not started yet)."""
    password = settings.ari_password or secrets.token_urlsafe(24)
    instance = Instance(
        name="vipcall",
        ari_port=urlparse(settings.ari_url).port or 8088,
        ari_password=password,
        ari_user=settings.ari_user,
        ari_app=settings.ari_app,
        ring_timeout=settings.ring_timeout,
        pstn_trusted=settings.pstn_trusted,
    )
    return instance, replace(settings, ari_password=password)


def start_asterisk(instance: Instance, settings: Settings) -> None:
    if instance.is_running():
        log.info("restarting the sandboxed Asterisk to apply the current configuration")
        instance.stop()
    instance.write_password(settings.state_dir)
    instance.start()
    log.info("Asterisk 22 up: SIP udp 127.0.0.1:%d, ARI %s", instance.sip_port, instance.ari_url)


# ---- the app as a supervised child process ----------------------------------------------

APP_COMMAND = (sys.executable, "-m", "vipcall", "serve")
PID_FILE = "app.pid"


def _write_pid(path: Path, pid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{pid}\n")
    tmp.replace(path)


def _remove_pid(path: Path, pid: int) -> None:
    """Remove the pid file if it still names ``pid`` (never another run's file)."""
    try:
        if path.read_text().strip() == str(pid):
            path.unlink()
    except FileNotFoundError:
        pass


def _stale_child(pid_file: Path, argv: Sequence[str]) -> int | None:
    """The pid in ``pid_file`` if that process still runs exactly ``argv``: a child left
    behind by a supervisor that was killed (kill -9). Never an unrelated process that got
    the same pid later."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if cmdline.split(b"\0")[:-1] == [os.fsencode(a) for a in argv] else None


async def _stop_stale_child(pid_file: Path, argv: Sequence[str], grace: float) -> None:
    pid = _stale_child(pid_file, argv)
    if pid is None:
        return
    log.warning("stopping the app left running by an earlier supervisor (pid %d)", pid)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            if _stale_child(pid_file, argv) != pid:
                return
            await asyncio.sleep(0.05)


async def _terminate(proc: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM (the app stops gracefully), then SIGKILL after ``grace`` seconds."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            log.warning("app (pid %d) still running %.0fs after SIGTERM: SIGKILL", proc.pid, grace)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


async def supervise(
    argv: Sequence[str],
    *,
    stop: asyncio.Event,
    pid_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    min_backoff: float = 0.5,
    max_backoff: float = 5.0,
    stable_after: float = 10.0,
    grace: float = 10.0,
) -> int:
    """Run ``argv`` as a child process until ``stop`` is set, restarting it whenever it exits.

    The child runs in its own process group, so a terminal's Ctrl-C reaches only the
    supervisor, which then stops the child (SIGTERM, SIGKILL after ``grace``). Between
    restarts it waits ``min_backoff`` seconds, doubling up to ``max_backoff`` while the child
    keeps dying within ``stable_after`` seconds. The child's pid is kept in ``pid_file``
    while it runs; a child still running ``argv`` under the pid found there at start (its
    supervisor was killed) is stopped first. Returns how many times the child was started.
    """
    loop = asyncio.get_running_loop()
    if pid_file is not None:
        await _stop_stale_child(pid_file, argv, grace)
    delay = min_backoff
    starts = 0
    while not stop.is_set():
        proc = await asyncio.create_subprocess_exec(
            *argv, env=dict(env) if env is not None else None, process_group=0
        )
        starts += 1
        started = loop.time()
        if pid_file is not None:
            _write_pid(pid_file, proc.pid)
        log.info("app started (pid %d)", proc.pid)
        exited = asyncio.ensure_future(proc.wait())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not exited.done():
                log.info("stopping the app (pid %d)", proc.pid)
                exited.cancel()
                await _terminate(proc, grace)
            if pid_file is not None:
                _remove_pid(pid_file, proc.pid)
        if stop.is_set():
            break
        ran = loop.time() - started
        if ran >= stable_after:
            delay = min_backoff
        log.warning(
            "app (pid %d) exited with %s after %.1fs; restarting in %.1fs",
            proc.pid,
            proc.returncode,
            ran,
            delay,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, max_backoff)
    return starts


async def run_app(settings: Settings) -> None:
    """``python -m vipcall serve`` under :func:`supervise` until SIGINT/SIGTERM/SIGHUP."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    # The child reads the ARI password from the state dir start_asterisk wrote it to.
    env = dict(os.environ, VIPCALL_STATE_DIR=str(settings.state_dir))
    pid_file = settings.state_dir / PID_FILE
    log.info("restart the app alone with: kill $(cat %s)", pid_file)
    await supervise(APP_COMMAND, stop=stop, pid_file=pid_file, env=env)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    # SIGTERM before the app runs (e.g. during setup) stops cleanly, as Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        asyncio.run(prepare_database(settings))
    except KeyboardInterrupt:
        return 130
    instance, settings = asterisk_instance(settings)
    try:
        start_asterisk(instance, settings)
        log.info(
            "call in: SIPp from 127.0.0.2 (PSTN) or 127.0.0.3 (handsets) to 127.0.0.1:%d; "
            "deliveries go to 127.0.0.3:5060 (handsets) and 127.0.0.2:5060 (PSTN). "
            "See README 'Driving it from outside'.",
            instance.sip_port,
        )
        asyncio.run(run_app(settings))
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C must not leave Asterisk behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if instance.is_running():
            log.info("stopping Asterisk")
        instance.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
