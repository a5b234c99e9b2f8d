"""A real SMS gateway on loopback for tests (and later the bench): Debian's Kannel
bearerbox + smsbox with the fake SMSC ``fakesmsc`` (package kannel-extras) on the SMSC side.

    chain = KannelChain(workdir)
    chain.start()                 # renders kannel.conf, starts the three, waits for sendsms
    chain.sendsms_url             # http://127.0.0.1:<port>/cgi-bin/sendsms
    chain.received()              # what fakesmsc got: [(from, to, text), ...]
    chain.stop()

Ports are free loopback ports picked at start. :func:`ensure_installed` installs the
packages with ``scripts/sms-tools.sh`` (root) when they are missing.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TEMPLATE = HERE / "kannel.conf.in"
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
INSTALL = REPO / "scripts" / "sms-tools.sh"
_GOT = re.compile(r"Got message \d+: <(\S+) (\S+) (text|data|ucs2|udh) (.*)>\s*$")


def missing() -> str | None:
    """What keeps the Kannel chain from running here (None: nothing)."""
    for tool in ("bearerbox", "smsbox"):
        if shutil.which(tool) is None:
            return f"{tool} not found (Debian package kannel: scripts/sms-tools.sh)"
    if not FAKESMSC.exists():
        return f"{FAKESMSC} not found (Debian package kannel-extras: scripts/sms-tools.sh)"
    return None


def ensure_installed() -> str | None:
    """Install Kannel with scripts/sms-tools.sh if missing (root only); what is still
    missing afterwards (None: ready)."""
    if missing() is None:
        return None
    if os.geteuid() != 0:
        return f"{missing()}; installing needs root"
    result = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        return f"scripts/sms-tools.sh failed: {' '.join(tail)}"
    return missing()


def _concatenation(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, parts, this part) from a UDH's concatenation element (IEI 0 or 8)."""
    i = 1  # udh[0] is the header's length
    while i + 1 < len(udh):
        iei, size = udh[i], udh[i + 1]
        body = udh[i + 2 : i + 2 + size]
        if iei == 0 and size == 3:
            return body[0], body[1], body[2]
        if iei == 8 and size == 4:
            return body[0] << 8 | body[1], body[2], body[3]
        i += 2 + size
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


class KannelChain:
    def __init__(self, workdir: Path, user: str = "vipcall", password: str | None = None) -> None:
        self.dir = Path(workdir)
        self.user = user
        self.password = password or secrets.token_hex(8)
        self.ports = {
            "admin_port": free_port(),
            "smsbox_port": free_port(),
            "fake_port": free_port(),
            "sendsms_port": free_port(),
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sendsms_port']}/cgi-bin/sendsms"

    @property
    def fakesmsc_log(self) -> Path:
        return self.dir / "fakesmsc.log"

    def render(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        values = {
            **{k: str(v) for k, v in self.ports.items()},
            "admin_password": secrets.token_hex(8),
            "user": self.user,
            "password": self.password,
            "dir": str(self.dir),
        }
        text = TEMPLATE.read_text()
        for key, value in values.items():
            text = text.replace(f"@@{key}@@", value)
        if "@@" in text:
            raise ValueError(f"unfilled placeholder in {TEMPLATE}")
        conf = self.dir / "kannel.conf"
        conf.write_text(text)
        return conf

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 - kept open by the child
        self.procs[name] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()

    def start(self, timeout: float = 15.0) -> None:
        conf = self.render()
        try:
            self._spawn("bearerbox", ["bearerbox", "-v", "1", str(conf)])
            if not _wait_port(self.ports["fake_port"], timeout):
                raise RuntimeError(f"bearerbox did not listen: {self.log_tail('bearerbox')}")
            # fakesmsc: connect to bearerbox's fake SMSC port, send nothing, print what comes
            self.start_smsc()
            self._spawn("smsbox", ["smsbox", "-v", "1", str(conf)])
            if not _wait_port(self.ports["sendsms_port"], timeout):
                raise RuntimeError(f"smsbox did not listen: {self.log_tail('smsbox')}")
        except BaseException:
            self.stop()
            raise

    def start_smsc(self) -> None:
        argv = [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.ports["fake_port"])]
        self._spawn("fakesmsc", [*argv, "-i", "0", "-m", "0", "0 0 text nop"])

    def received(self) -> list[tuple[str, str, str]]:
        """(from, to, text) of every message fakesmsc got, in order; the parts of a
        concatenated SMS (UDH with a concatenation element) joined back into one."""
        try:
            lines = self.fakesmsc_log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        found: list[tuple[str, str, str]] = []
        parts: dict[tuple[str, str, int], dict[int, str]] = {}
        for line in lines:
            m = _GOT.search(line)
            if m is None:
                continue
            sender, to, kind, rest = m.groups()
            if kind == "text":
                found.append((sender, to, rest))
                continue
            udh = b""
            if kind == "udh":
                raw_udh, _, rest = rest.partition(" ")
                udh = urllib.parse.unquote_to_bytes(raw_udh)
                kind, _, rest = rest.partition(" ")
            data = urllib.parse.unquote_to_bytes(rest.replace("+", " "))
            text = data.decode("utf-16-be" if kind == "ucs2" else "utf-8", errors="replace")
            concat = _concatenation(udh)
            if concat is None:
                found.append((sender, to, text))
                continue
            ref, total, seq = concat
            got = parts.setdefault((sender, to, ref), {})
            got[seq] = text
            if len(got) == total:
                found.append((sender, to, "".join(got[i] for i in sorted(got))))
                del parts[(sender, to, ref)]
        return found

    def wait_received(self, count: int, timeout: float = 10.0) -> list[tuple[str, str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if len(got) >= count:
                return got
            time.sleep(0.05)
        return self.received()

    def log_tail(self, name: str, lines: int = 5) -> str:
        try:
            return " | ".join((self.dir / f"{name}.log").read_text().splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self) -> None:
        for name in ("smsbox", "fakesmsc", "bearerbox"):
            proc = self.procs.pop(name, None)
            if proc is None:
                continue
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
