"""``make run``: the whole service on one machine with its defaults.

Creates and migrates the database, makes the demo organisation, starts the sandboxed
Asterisk (default instance: SIP 127.0.0.1:5060, ARI 127.0.0.1:8088) and runs the Stasis
app (``python -m vipcall serve``) and the home page (``python -m vipcall web``, default
http://127.0.0.1:8080) as supervised child processes: when one dies it is started again
after a short backoff, and their pids are kept in ``<state dir>/app.pid`` and
``<state dir>/web.pid`` (``kill $(cat var/app.pid)`` restarts the app alone). Prints the
home page's URL and the demo users' logins. Re-runnable: every step checks before it acts.
Ctrl-C (or SIGTERM) stops the app and the web process, then the Asterisk it started.
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
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from vipcall.config import Settings
from vipcall.db.engine import create_engine, session_factory, transaction
from vipcall.db.migrate import create_database_if_missing_async, upgrade_async
from vipcall.directory import ensure_demo
from vipcall.directory.demo import DEMO_PASSWORD
from vipcall.sandbox import Instance
from vipcall.service.logs import configure_logging

log = logging.getLogger("vipcall.devstack")


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    display_name: str
    is_admin: bool


async def prepare_database(settings: Settings) -> list[Login]:
    """Create, migrate and fill the database with the demo organisation; the demo logins."""
    await create_database_if_missing_async(settings.database_url)
    await upgrade_async(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            demo = await ensure_demo(session)
            logins = [Login(u.username, u.display_name, u.is_admin) for u in demo.users]
    finally:
        await engine.dispose()
    log.info(
        "database ready: %s (demo organisation %s)", settings.database_url, demo.organization.domain
    )
    return logins


def home_page_banner(web_url: str, logins: Sequence[Login], password: str | None) -> str:
    """What ``make run`` prints about the home page: its URL, the API docs, who can log in."""
    url = web_url.rstrip("/")
    lines = [
        f"Kotisivu / home page: {url}/  (API: {url}/api/docs)",
        "Demokäyttäjät / demo logins"
        + (f" (salasana / password: {password}):" if password else ":"),
    ]
    width = max((len(x.username) for x in logins), default=0)
    for x in logins:
        admin = "  pääkäyttäjä / admin" if x.is_admin else ""
        lines.append(f"  {x.username:<{width}}  {x.display_name}{admin}")
    if not password:
        lines.append("  (no demo password: 'Pyydä salasana' on the page sends a code)")
    return "\n".join(lines)


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
    # End-of-call reports through the instance's spool folder, unless set otherwise.
    spool = instance.app_env()
    return instance, replace(
        settings,
        ari_password=password,
        end_spool=settings.end_spool or spool["VIPCALL_END_SPOOL"],
        end_spool_asterisk=settings.end_spool_asterisk or spool["VIPCALL_END_SPOOL_ASTERISK"],
    )


def start_asterisk(instance: Instance, settings: Settings) -> None:
    if instance.is_running():
        log.info("restarting the sandboxed Asterisk to apply the current configuration")
        instance.stop()
    instance.write_password(settings.state_dir)
    instance.start()
    log.info("Asterisk 22 up: SIP udp 127.0.0.1:%d, ARI %s", instance.sip_port, instance.ari_url)


# ---- the app and the web process as supervised child processes ---------------------------

APP_COMMAND = (sys.executable, "-m", "vipcall", "serve")
PID_FILE = "app.pid"
WEB_COMMAND = (sys.executable, "-m", "vipcall", "web")
WEB_PID_FILE = "web.pid"


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


async def _stop_stale_child(
    pid_file: Path, argv: Sequence[str], grace: float, name: str = "app"
) -> None:
    pid = _stale_child(pid_file, argv)
    if pid is None:
        return
    log.warning("stopping the %s left running by an earlier supervisor (pid %d)", name, pid)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            if _stale_child(pid_file, argv) != pid:
                return
            await asyncio.sleep(0.05)


async def _terminate(proc: asyncio.subprocess.Process, grace: float, name: str = "app") -> None:
    """SIGTERM (the child stops gracefully), then SIGKILL after ``grace`` seconds."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            log.warning(
                "%s (pid %d) still running %.0fs after SIGTERM: SIGKILL", name, proc.pid, grace
            )
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
    name: str = "app",
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
        await _stop_stale_child(pid_file, argv, grace, name)
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
        log.info("%s started (pid %d)", name, proc.pid)
        exited = asyncio.ensure_future(proc.wait())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not exited.done():
                log.info("stopping the %s (pid %d)", name, proc.pid)
                exited.cancel()
                await _terminate(proc, grace, name)
            if pid_file is not None:
                _remove_pid(pid_file, proc.pid)
        if stop.is_set():
            break
        ran = loop.time() - started
        if ran >= stable_after:
            delay = min_backoff
        log.warning(
            "%s (pid %d) exited with %s after %.1fs; restarting in %.1fs",
            name,
            proc.pid,
            proc.returncode,
            ran,
            delay,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, max_backoff)
    return starts


@dataclass(frozen=True, slots=True)
class Child:
    """One supervised process of ``make run``."""

    name: str
    argv: Sequence[str]
    pid_file: str


CHILDREN = (
    Child("app", APP_COMMAND, PID_FILE),
    Child("web", WEB_COMMAND, WEB_PID_FILE),
)


async def run_children(
    children: Sequence[Child],
    *,
    state_dir: Path,
    stop: asyncio.Event,
    env: Mapping[str, str] | None = None,
    **supervise_kw: float,
) -> list[int]:
    """Each child under its own :func:`supervise` (one dying restarts only that one) until
    ``stop`` is set; how many times each was started."""
    return list(
        await asyncio.gather(
            *(
                supervise(
                    c.argv,
                    stop=stop,
                    pid_file=state_dir / c.pid_file,
                    env=env,
                    name=c.name,
                    **supervise_kw,
                )
                for c in children
            )
        )
    )


async def run_services(settings: Settings, banner: str = "") -> None:
    """The app and the web process under :func:`supervise` until SIGINT/SIGTERM/SIGHUP."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    # The children read the ARI password from the state dir start_asterisk wrote it to.
    env = dict(
        os.environ,
        VIPCALL_STATE_DIR=str(settings.state_dir),
        VIPCALL_END_SPOOL=settings.end_spool,
        VIPCALL_END_SPOOL_ASTERISK=settings.end_spool_asterisk,
    )
    log.info("restart the app alone with: kill $(cat %s)", settings.state_dir / PID_FILE)
    if banner:
        log.info("%s", banner)
    await run_children(CHILDREN, state_dir=settings.state_dir, stop=stop, env=env)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    # SIGTERM before the app runs (e.g. during setup) stops cleanly, as Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        logins = asyncio.run(prepare_database(settings))
    except KeyboardInterrupt:
        return 130
    banner = home_page_banner(settings.web_url, logins, DEMO_PASSWORD)
    instance, settings = asterisk_instance(settings)
    try:
        start_asterisk(instance, settings)
        log.info(
            "call in: SIPp from 127.0.0.2 (PSTN) or 127.0.0.3 (handsets) to 127.0.0.1:%d; "
            "deliveries go to 127.0.0.3:5060 (handsets) and 127.0.0.2:5060 (PSTN). "
            "See README 'Driving it from outside'.",
            instance.sip_port,
        )
        asyncio.run(run_services(settings, banner))
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
