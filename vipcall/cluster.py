"""Two Asterisk nodes behind Kamailio, each driven by its own vipcall app.

``make run-two-nodes`` (= ``python -m vipcall.cluster``) starts the layout of README "Two
nodes behind Kamailio" on this machine: Debian's Kamailio on the service's public SIP
address (127.0.0.1:5060), two sandboxed Asterisk 22 nodes on their own loopback addresses,
and one supervised ``vipcall serve`` per node (own ARI connection, own HTTP port, one
PostgreSQL). ``make run`` stays the one-node default.

How the trunks stay told apart through the proxy (docs/design.md "Two nodes behind
Kamailio"): Kamailio forwards a request from the PSTN's address out of its *pstn side*
socket, one from the mobile core out of its *mobile side* socket, and anything else out of
its *softphone side* socket. Each node's pjsip ``identify`` matches the side socket's
address exactly as it matched the trunk's own address without a proxy, and each node sends
calls for a trunk to that trunk's side socket, which Kamailio relays to the trunk.

Softphones log in at Kamailio (digest against the ``softphones`` table in PostgreSQL), which
registers them with every node, so a call for a softphone's user through either node rings
it; the nodes take SIP from the proxy's side sockets alone (a pjsip ACL) and carry no
softphone password.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from vipcall.config import Settings
from vipcall.sandbox import Instance
from vipcall.sandbox.templates import render_template

log = logging.getLogger("vipcall.cluster")

PROJECT_DIR = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT_DIR / "kamailio" / "kamailio.cfg"
KAMAILIO = "/usr/sbin/kamailio"
KAMCMD = "/usr/sbin/kamcmd"
MODULE_DIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
DISPATCHER_SET = 1
#: The same nodes, probed at their Asterisk (not their app): where calls go when no node's
#: app is ready, so they still ring through a node's fail-open dialplan.
FAIL_OPEN_SET = 2
#: The digest realm the proxy challenges softphones with (their passwords are kept in clear,
#: so any realm works).
REALM = "vipcall"


def kamailio_db_url(url: str) -> str:
    """The ``postgres://`` URL Kamailio's db_postgres wants for a SQLAlchemy URL, without
    the password: Kamailio does not decode one written into its URL, and the rendered
    config would hold it; libpq takes it from ``PGPASSWORD`` instead (:func:`kamailio_env`)."""
    u = make_url(url)
    user = u.username or "postgres"
    if any(c in user for c in ":@/"):
        raise ClusterError(f"a database user Kamailio cannot name in its db_url: {user!r}")
    return f"postgres://{user}@{u.host or '127.0.0.1'}:{u.port or 5432}/{u.database}"


def kamailio_env(url: str) -> dict[str, str]:
    """The environment Kamailio runs with: the database password, if any, for libpq."""
    password = make_url(url).password
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    if password:
        env["PGPASSWORD"] = str(password)
    return env


class ClusterError(RuntimeError):
    """The proxy or a node could not be rendered, started or asked."""


@dataclass(frozen=True)
class Node:
    """One Asterisk node and the app that drives it."""

    name: str
    sip_host: str
    ari_port: int
    http_port: int
    rtp_start: int
    rtp_end: int
    sip_port: int = 5060
    probe_port: int = 5062
    """Where the node's app answers the proxy's OPTIONS probe (udp, on ``sip_host``)."""

    @property
    def uri(self) -> str:
        return f"sip:{self.sip_host}:{self.sip_port}"


@dataclass(frozen=True)
class Layout:
    """Addresses of the proxy, the trunks and the nodes (all udp)."""

    public_ip: str = "127.0.0.1"
    public_port: int = 5060
    pstn_ip: str = "127.0.0.2"
    pstn_port: int = 5060
    mobile_ip: str = "127.0.0.3"
    mobile_port: int = 5060
    pstn_side_ip: str = "127.0.0.12"
    mobile_side_ip: str = "127.0.0.13"
    softphone_side_ip: str = "127.0.0.14"
    side_port: int = 5060
    nodes: tuple[Node, ...] = (
        Node("node-a", "127.0.0.21", ari_port=8088, http_port=9108, rtp_start=10000, rtp_end=14999),
        Node("node-b", "127.0.0.22", ari_port=8089, http_port=9109, rtp_start=15000, rtp_end=19999),
    )
    ping_interval: int = 1
    """Seconds between OPTIONS probes of each node (dispatcher ``ds_ping_interval``)."""
    fr_timer_ms: int = 1000
    """How long the proxy waits for a node's first answer (a probe's or a new call's 100
    Trying) before it counts the node as failed and tries the next one."""
    children: int = 4

    def __post_init__(self) -> None:
        if len({n.name for n in self.nodes}) != len(self.nodes) or not self.nodes:
            raise ClusterError("nodes need distinct names")
        addresses = [self.public_ip, self.pstn_side_ip, self.mobile_side_ip, self.softphone_side_ip]
        if len(set(addresses)) != len(addresses):
            raise ClusterError("the proxy's public and side addresses must all differ")
        if {self.pstn_ip, self.mobile_ip} & set(addresses):
            raise ClusterError("a trunk cannot share an address with the proxy")

    def template_values(
        self, dispatcher_list: Path, ctl_socket: Path, database_url: str
    ) -> dict[str, object]:
        return {
            "db_url": kamailio_db_url(database_url),
            "realm": REALM,
            "public_ip": self.public_ip,
            "public_port": self.public_port,
            "pstn_ip": self.pstn_ip,
            "pstn_port": self.pstn_port,
            "mobile_ip": self.mobile_ip,
            "mobile_port": self.mobile_port,
            "pstn_side_ip": self.pstn_side_ip,
            "mobile_side_ip": self.mobile_side_ip,
            "softphone_side_ip": self.softphone_side_ip,
            "side_port": self.side_port,
            "ping_interval": self.ping_interval,
            "fr_timer_ms": self.fr_timer_ms,
            "children": self.children,
            "dispatcher_list": dispatcher_list,
            "ctl_socket": ctl_socket,
            "module_dir": MODULE_DIR,
        }

    def dispatcher_list(self) -> str:
        """Set 1: the nodes. Each node's probe goes to its app (``obproxy``), which answers
        200 only while it is connected to that node's Asterisk (vipcall.service.probe), out
        of the pstn side socket."""
        lines = ["# set uri flags priority attrs (rendered by vipcall.cluster)"]
        for node in self.nodes:
            lines.append(
                f"{DISPATCHER_SET} {node.uri} 0 0 "
                f"duid={node.name};socket=udp:{self.pstn_side_ip}:{self.side_port};"
                f"obproxy=sip:{node.sip_host}:{node.probe_port}"
            )
        for node in self.nodes:  # no obproxy: the probe asks the node's Asterisk
            lines.append(
                f"{FAIL_OPEN_SET} {node.uri} 0 0 "
                f"duid={node.name}-asterisk;socket=udp:{self.pstn_side_ip}:{self.side_port}"
            )
        return "\n".join(lines) + "\n"

    def instance(self, node: Node, settings: Settings, **overrides: object) -> Instance:
        """The sandboxed Asterisk of ``node``: its trunks are the proxy's side sockets."""
        values: dict[str, object] = dict(
            name=node.name,
            sip_host=node.sip_host,
            sip_port=node.sip_port,
            ari_port=node.ari_port,
            rtp_start=node.rtp_start,
            rtp_end=node.rtp_end,
            ari_password=secrets.token_urlsafe(24),
            pstn_host=self.pstn_side_ip,
            mobile_host=self.mobile_side_ip,
            peer_port=self.side_port,
            ari_user=settings.ari_user,
            ari_app=settings.ari_app,
            ring_timeout=settings.ring_timeout,
            pstn_trusted=settings.pstn_trusted,
            sip_permit=(self.pstn_side_ip, self.mobile_side_ip, self.softphone_side_ip),
        )
        values.update(overrides)
        return Instance(**values)  # type: ignore[arg-type]

    def app_env(self, node: Node, instance: Instance, state_dir: Path) -> dict[str, str]:
        """What ``vipcall serve`` for ``node`` gets on top of the environment: its own ARI,
        its own HTTP port (the media URL its Asterisk fetches prompts from) and state dir."""
        return {
            **instance.app_env(),
            "VIPCALL_HTTP_PORT": str(node.http_port),
            "VIPCALL_NODE_NAME": node.name,
            "VIPCALL_STATE_DIR": str(state_dir / node.name),
            "VIPCALL_SIP_PUBLIC_HOST": self.public_ip,
            "VIPCALL_SIP_PUBLIC_PORT": str(self.public_port),
            "VIPCALL_SOFTPHONE_AUTH_BY_PROXY": "true",
            "VIPCALL_PROBE_HOST": node.sip_host,
            "VIPCALL_PROBE_PORT": str(node.probe_port),
        }


@dataclass
class Kamailio:
    """Kamailio as a foreground child process with its config rendered into ``run_dir``."""

    layout: Layout
    run_dir: Path
    database_url: str
    """Where the softphones' passwords are (the apps' database)."""
    template: Path = TEMPLATE
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def cfg_path(self) -> Path:
        return self.run_dir / "kamailio.cfg"

    @property
    def ctl_socket(self) -> Path:
        return self.run_dir / "kamailio_ctl"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "kamailio.log"

    def render(self) -> Path:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        ds_list = self.run_dir / "dispatcher.list"
        ds_list.write_text(self.layout.dispatcher_list())
        values = self.layout.template_values(ds_list, self.ctl_socket, self.database_url)
        text = render_template(self.template.read_text(), values, source=str(self.template))
        self.cfg_path.write_text(text)
        return self.cfg_path

    def check(self) -> None:
        """``kamailio -c``: the rendered config parses and its modules load."""
        res = subprocess.run(
            [KAMAILIO, "-c", "-f", str(self.cfg_path)], capture_output=True, text=True, timeout=30
        )
        if res.returncode != 0:
            raise ClusterError(f"kamailio -c failed:\n{res.stdout}{res.stderr}")

    def start(self, *, timeout: float = 15.0) -> None:
        if self.running:
            raise ClusterError("kamailio already started")
        self.render()
        self.check()
        self.ctl_socket.unlink(missing_ok=True)
        out = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                [KAMAILIO, "-f", str(self.cfg_path), "-DD", "-E", "-m", "64", "-M", "8",
                 "-Y", str(self.run_dir), "-P", str(self.run_dir / "kamailio.pid")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, env=kamailio_env(self.database_url),
            )  # fmt: skip
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ClusterError(f"kamailio exited ({self._proc.returncode}):\n{self.log_tail()}")
            with contextlib.suppress(ClusterError, subprocess.TimeoutExpired):
                self.rpc("core.uptime")
                return
            time.sleep(0.1)
        self.stop()
        raise ClusterError(f"kamailio did not answer on {self.ctl_socket}:\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def rpc(self, *command: str) -> str:
        res = subprocess.run(
            [KAMCMD, "-s", f"unix:{self.ctl_socket}", *command],
            capture_output=True, text=True, timeout=5,
        )  # fmt: skip
        if res.returncode != 0:
            raise ClusterError(f"kamcmd {' '.join(command)}: {res.stderr or res.stdout}")
        return res.stdout

    def node_states(self, dispatcher_set: int = DISPATCHER_SET) -> dict[str, str]:
        """Each node's dispatcher flags by URI in one set (the app-probed one unless told):
        ``AP`` active (probed), ``IP`` inactive, ``TP`` trying (one failure seen)."""
        text = self.rpc("dispatcher.list")
        found: dict[str, str] = {}
        for block in re.split(r"\bSET:\s*\{", text)[1:]:
            number = re.search(r"ID:\s*(\d+)", block)
            if number and int(number.group(1)) == dispatcher_set:
                found.update(re.findall(r"URI:\s*(\S+)\s+FLAGS:\s*(\S+)", block))
        return found

    def stop(self, *, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: the proxy and its children
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# ---- make run-two-nodes -------------------------------------------------------------------


async def _run_apps(layout: Layout, instances: list[Instance], settings: Settings) -> None:
    from vipcall.devstack import APP_COMMAND, PID_FILE, supervise

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    runs = []
    for node, instance in zip(layout.nodes, instances, strict=True):
        env = dict(os.environ, **layout.app_env(node, instance, settings.state_dir))
        pid_file = settings.state_dir / node.name / PID_FILE
        log.info("app for %s: http 127.0.0.1:%d, restart alone with kill $(cat %s)",
                 node.name, node.http_port, pid_file)  # fmt: skip
        runs.append(supervise(APP_COMMAND, stop=stop, pid_file=pid_file, env=env))
    await asyncio.gather(*runs)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from vipcall.devstack import prepare_database
    from vipcall.sandbox import ensure_chroot
    from vipcall.service.logs import configure_logging

    parser = argparse.ArgumentParser(prog="python -m vipcall.cluster", description=__doc__)
    parser.add_argument("--check", action="store_true", help="render and check the config only")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    layout = Layout()
    kamailio = Kamailio(layout, settings.state_dir / "kamailio", settings.database_url)
    if args.check:
        kamailio.render()
        kamailio.check()
        print(f"{kamailio.cfg_path}: ok")
        return 0
    signal.signal(signal.SIGTERM, _raise_interrupt)
    instances = [layout.instance(node, settings) for node in layout.nodes]
    try:
        asyncio.run(prepare_database(settings))
        ensure_chroot(instances[0].root)
        for node, instance in zip(layout.nodes, instances, strict=True):
            instance.write_password(settings.state_dir / node.name)
            instance.start()
            log.info("Asterisk %s up: SIP udp %s:%d, ARI %s", node.name, node.sip_host,
                     node.sip_port, instance.ari_url)  # fmt: skip
        kamailio.start()
        log.info(
            "Kamailio up: public SIP udp %s:%d -> %s (probed every %ds); trunks %s (PSTN), %s "
            "(mobile core); log %s",
            layout.public_ip, layout.public_port, ", ".join(n.uri for n in layout.nodes),
            layout.ping_interval, layout.pstn_ip, layout.mobile_ip, kamailio.log_path,
        )  # fmt: skip
        asyncio.run(_run_apps(layout, instances, settings))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        kamailio.stop()
        for instance in instances:
            instance.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
