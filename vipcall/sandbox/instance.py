"""One Asterisk instance inside the chroot: rendered config + writable dirs under
``/srv/vipcall/<name>/`` (inside the chroot), started as
``chroot ROOT asterisk -C /srv/vipcall/<name>/etc/asterisk.conf -f``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vipcall.routing import direct
from vipcall.sandbox.chroot import chroot_argv, default_root, prepare_chroot
from vipcall.sandbox.templates import render_dir

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[2]
INSTANCES_DIR = "/srv/vipcall"
# spool/recording: ARI recordings fail with "No such file or directory" without it.
# spool/vipcall-ended: the dialplan's end-of-call reports (vipcall.service.reports.ReportSpool).
END_SPOOL = "spool/vipcall-ended"
WRITABLE_DIRS = ("run", "spool", "spool/recording", END_SPOOL, "log", "db", "cache")


class InstanceError(RuntimeError):
    """The instance could not be rendered, started or controlled."""


def _generate_password() -> str:
    return secrets.token_urlsafe(24)


#: The pjsip ACL of a node behind the proxy; the app pushes softphones without a password
#: only where it exists (vipcall.service.provisioning).
PROXY_ACL = "proxy-only"


def sip_acl(permit: tuple[str, ...]) -> str:
    """pjsip.conf's ACL section: SIP requests from these addresses only (none: no ACL)."""
    if not permit:
        return "; no ACL: SIP requests are taken from any address (one node on its own)"
    lines = [f"[{PROXY_ACL}]", "type = acl", "deny = 0.0.0.0/0.0.0.0"]
    lines += [f"permit = {address}/255.255.255.255" for address in permit]
    return "\n".join(lines)


@dataclass
class Instance:
    name: str = "vipcall"
    root: Path = field(default_factory=default_root)
    sip_port: int = 5060
    sip_host: str = "127.0.0.1"
    """The loopback address Asterisk's SIP transport binds (nodes of the two-node layout
    behind Kamailio each have their own, see vipcall/cluster.py)."""
    ari_port: int = 8088
    rtp_start: int = 10000
    rtp_end: int = 20000
    ari_password: str = field(default_factory=_generate_password, repr=False)
    pstn_host: str = "127.0.0.2"
    mobile_host: str = "127.0.0.3"
    peer_port: int = 5060
    ari_user: str = "vipcall"
    ari_app: str = "vipcall"
    ring_timeout: int = 30
    country_code: str = "358"
    pstn_trusted: bool = True
    """Whether the PSTN carrier is in the operator's trust domain (RFC 3325): if so, a
    hidden caller's real number goes to it in P-Asserted-Identity beside ``Privacy: id``
    (pjsip ``trust_id_outbound`` on the ``pstn`` endpoint); if not, it is never sent."""
    sip_permit: tuple[str, ...] = ()
    """The only addresses this node takes SIP requests from (a pjsip ACL), e.g. the proxy's
    side sockets in the two-node layout, where softphones are checked by the proxy; empty:
    any address (one node on its own)."""
    project_dir: Path = PROJECT_DIR
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.project_dir = Path(self.project_dir)
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise InstanceError(f"bad instance name {self.name!r}")
        if not self.ari_password:
            self.ari_password = _generate_password()

    # ---- paths ---------------------------------------------------------------
    @property
    def inner_dir(self) -> Path:
        """The instance folder as Asterisk (inside the chroot) sees it."""
        return Path(INSTANCES_DIR) / self.name

    @property
    def host_dir(self) -> Path:
        """The same folder as seen from the host."""
        return self.root / self.inner_dir.relative_to("/")

    @property
    def conf_path(self) -> Path:
        """``asterisk.conf`` path inside the chroot (the ``-C`` argument)."""
        return self.inner_dir / "etc" / "asterisk.conf"

    @property
    def log_file(self) -> Path:
        """Asterisk's stdout/stderr (host path)."""
        return self.host_dir / "log" / "asterisk.out"

    @property
    def messages_log(self) -> Path:
        return self.host_dir / "log" / "messages.log"

    @property
    def pid_file(self) -> Path:
        return self.host_dir / "run" / "asterisk.pid"

    @property
    def ari_url(self) -> str:
        return f"http://127.0.0.1:{self.ari_port}/ari"

    def app_env(self) -> dict[str, str]:
        """What the app driving this instance is told of it (``VIPCALL_*``): its ARI and the
        folder its dialplan appends end-of-call reports to, as the app (the host) and as
        Asterisk (inside the chroot) see it."""
        return {
            "VIPCALL_ARI_URL": self.ari_url,
            "VIPCALL_ARI_PASSWORD": self.ari_password,
            "VIPCALL_END_SPOOL": str(self.host_dir / END_SPOOL),
            "VIPCALL_END_SPOOL_ASTERISK": str(self.inner_dir / END_SPOOL),
        }

    def _module_dir(self) -> str:
        for candidate in sorted(self.root.glob("usr/lib/*/asterisk/modules")):
            return "/" + str(candidate.relative_to(self.root))
        return "/usr/lib/asterisk/modules"

    def template_values(self) -> dict[str, object]:
        inner = self.inner_dir
        return {
            "name": self.name,
            "sip_port": self.sip_port,
            "sip_host": self.sip_host,
            "ari_port": self.ari_port,
            "rtp_start": self.rtp_start,
            "rtp_end": self.rtp_end,
            "ari_user": self.ari_user,
            "ari_password": self.ari_password,
            "ari_app": self.ari_app,
            "pstn_host": self.pstn_host,
            "mobile_host": self.mobile_host,
            "pstn_trust_id_outbound": "yes" if self.pstn_trusted else "no",
            "sip_acl": sip_acl(self.sip_permit),
            "peer_port": self.peer_port,
            "ring_timeout": self.ring_timeout,
            "country_code": self.country_code,
            "country_code_len": len(self.country_code),
            "direct_caller_pattern": direct.CALLER_ID_PATTERN,
            "direct_name_pattern": direct.NAME_PATTERN,
            "etc_dir": inner / "etc",
            "run_dir": inner / "run",
            "spool_dir": inner / "spool",
            "log_dir": inner / "log",
            "db_dir": inner / "db",
            "cache_dir": inner / "cache",
            "data_dir": inner / "data",
            "sounds_dir": inner / "sounds",
            "module_dir": self._module_dir(),
        }

    # ---- rendering -------------------------------------------------------------
    def render(self) -> Path:
        """Write config + writable dirs under ``ROOT/srv/vipcall/<name>/``; returns that dir."""
        conf_src = self.project_dir / "asterisk-conf"
        dialplan_src = self.project_dir / "dialplan"
        for src in (conf_src, dialplan_src):
            if not src.is_dir():
                raise InstanceError(f"template folder {src} missing")
        values = self.template_values()
        base = self.host_dir
        etc = base / "etc"
        if etc.exists():
            shutil.rmtree(etc)
        etc.mkdir(parents=True)
        render_dir(conf_src, etc, values)
        render_dir(dialplan_src, etc, values)
        (etc / "ari.conf").chmod(0o600)
        for sub in WRITABLE_DIRS:
            (base / sub).mkdir(exist_ok=True)
        self._render_sounds(base)
        self._render_data_dir(base)
        return base

    def _render_sounds(self, base: Path) -> None:
        """Copy the project's ``sounds/`` (``<lang>/<prompt>.wav``) into the instance."""
        dest = base / "sounds"
        if dest.exists():
            shutil.rmtree(dest)
        src = self.project_dir / "sounds"
        if src.is_dir():
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".*", "*.md", "*.txt"))
        else:
            dest.mkdir()

    def _render_data_dir(self, base: Path) -> None:
        """``astdatadir``: links to the packaged data plus ``sounds/vipcall`` -> instance sounds,
        so ``Playback(vipcall/<lang>/<prompt>)`` / ARI ``sound:vipcall/fi/x`` resolve."""
        data = base / "data"
        if data.exists():
            shutil.rmtree(data)
        (data / "sounds").mkdir(parents=True)
        pkg = self.root / "usr/share/asterisk"
        if pkg.is_dir():
            for entry in sorted(pkg.iterdir()):
                if entry.name != "sounds":
                    (data / entry.name).symlink_to(Path("/usr/share/asterisk") / entry.name)
            for entry in sorted((pkg / "sounds").iterdir()):
                (data / "sounds" / entry.name).symlink_to(
                    Path("/usr/share/asterisk/sounds") / entry.name
                )
        (data / "sounds" / "vipcall").symlink_to(self.inner_dir / "sounds")

    def write_password(self, state_dir: Path) -> Path:
        """Write the ARI password to ``<state_dir>/ari-password`` (mode 0600)."""
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / "ari-password"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # also when the file existed with looser permissions
        with os.fdopen(fd, "w") as fh:
            fh.write(self.ari_password + "\n")
        return path

    # ---- process control ---------------------------------------------------------
    def asterisk_argv(self, *args: str) -> list[str]:
        return chroot_argv(self.root, "asterisk", "-C", str(self.conf_path), *args)

    def _pid(self) -> int | None:
        """PID of this instance's Asterisk if it is alive (verified by its command line)."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        if str(self.conf_path).encode() in cmdline and any(b"asterisk" in a for a in cmdline):
            return pid
        return None

    def is_running(self) -> bool:
        return self._pid() is not None

    def start(self, *, timeout: float = 30.0, render: bool = True) -> None:
        """Render (unless told not to), spawn Asterisk, wait for ARI to answer."""
        if self.is_running():
            raise InstanceError(f"instance {self.name} is already running")
        self.check_ports_free()
        prepare_chroot(self.root)
        if render:
            self.render()
        self.pid_file.unlink(missing_ok=True)
        for log_path in (self.log_file, self.messages_log):  # one run per log; keep the last
            if log_path.exists():
                log_path.replace(log_path.with_name(log_path.name + ".1"))
        for stale in ("asterisk.ctl",):
            (self.host_dir / "run" / stale).unlink(missing_ok=True)
        out = open(self.log_file, "ab")
        try:
            self._proc = subprocess.Popen(
                self.asterisk_argv("-f", "-n"),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            out.close()
        try:
            self.wait_ready(timeout=timeout)
        except BaseException:
            self.stop()
            raise

    def check_ports_free(self) -> None:
        """Fail fast (Asterisk itself starts anyway and only logs the bind errors)."""
        busy: list[str] = []
        for kind, host, port in (
            (socket.SOCK_DGRAM, self.sip_host, self.sip_port),
            (socket.SOCK_STREAM, "127.0.0.1", self.ari_port),
        ):
            with socket.socket(socket.AF_INET, kind) as sock:
                if kind == socket.SOCK_STREAM:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((host, port))
                except OSError:
                    busy.append(f"{'udp' if kind == socket.SOCK_DGRAM else 'tcp'}/{host}:{port}")
        if busy:
            raise InstanceError(f"instance {self.name}: port(s) in use: {', '.join(busy)}")

    def wait_ready(self, *, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise InstanceError(
                    f"asterisk exited with {self._proc.returncode}:\n{self.log_tail()}"
                )
            try:
                return self.ari_get("/asterisk/info")
            except (OSError, urllib.error.URLError, ValueError) as exc:
                last = exc
                time.sleep(0.1)
        raise InstanceError(f"ARI did not answer within {timeout}s ({last}):\n{self.log_tail()}")

    def ari(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        timeout: float = 5.0,
    ) -> Any:
        """Blocking ARI request with the instance credentials (health checks, tests, tooling;
        the app uses vipcall.ari). Returns the decoded JSON answer or None for 204."""
        token = base64.b64encode(f"{self.ari_user}:{self.ari_password}".encode()).decode()
        url = self.ari_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {"Authorization": f"Basic {token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def ari_get(self, path: str, *, timeout: float = 2.0) -> dict[str, Any]:
        """``GET /ari<path>`` expecting a JSON object."""
        data = self.ari("GET", path, timeout=timeout)
        if not isinstance(data, dict):
            raise ValueError(f"unexpected ARI answer {data!r}")
        return data

    def cli(self, command: str, *, timeout: float = 10.0) -> str:
        """Run one CLI command (``asterisk -rx``) and return its output."""
        res = subprocess.run(
            self.asterisk_argv("-rx", command), capture_output=True, text=True, timeout=timeout
        )
        if res.returncode != 0:
            raise InstanceError(f"asterisk -rx {command!r} failed: {res.stderr or res.stdout}")
        return res.stdout

    def stop(self, *, timeout: float = 10.0) -> None:
        """``core stop now``, then SIGTERM, then SIGKILL. Only ever touches this instance."""
        pid = self._pid()
        if pid is not None:
            try:
                self.cli("core stop now", timeout=5)
            except (InstanceError, subprocess.TimeoutExpired, OSError) as exc:
                log.warning("core stop now failed for %s: %s", self.name, exc)
            if not self._wait_exit(pid, timeout):
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        break
                    if self._wait_exit(pid, 3.0):
                        break
        if self._proc is not None:
            try:
                self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                if self._proc.poll() is not None:
                    return True
            elif not Path(f"/proc/{pid}").exists():
                return True
            time.sleep(0.05)
        return False

    def wait(self) -> int:
        """Block until the Asterisk started by this object exits; returns its exit code."""
        if self._proc is None:
            raise InstanceError("not started by this process")
        return self._proc.wait()

    def log_tail(self, lines: int = 40) -> str:
        chunks: list[str] = []
        for path in (self.log_file, self.messages_log):
            try:
                chunks.extend(path.read_text(errors="replace").splitlines()[-lines:])
            except OSError:
                pass
        return "\n".join(chunks)
