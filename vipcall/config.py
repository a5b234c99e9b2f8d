"""Settings, read once from the environment (``VIPCALL_*``) with working defaults.

One frozen object is passed around; nothing reads ``os.environ`` elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# The clone's root when running from a source checkout (also with ``pip install -e .``).
_SOURCE_ROOT = Path(__file__).resolve().parents[1]
# Where an installed (non-checkout) vipcall keeps its runtime state; the Asterisk chroot is
# its sibling /var/lib/vipcall/asterisk-sid.
SYSTEM_STATE_DIR = Path("/var/lib/vipcall/state")
ARI_PASSWORD_FILE = "ari-password"


def default_state_dir() -> Path:
    """The runtime state folder, absolute and independent of the current directory:
    ``<clone>/var`` from a source checkout, else ``/var/lib/vipcall/state``."""
    if (_SOURCE_ROOT / "pyproject.toml").is_file() and (_SOURCE_ROOT / "vipcall").is_dir():
        return _SOURCE_ROOT / "var"
    return SYSTEM_STATE_DIR


def read_ari_password(state_dir: Path) -> str:
    """The ARI password the sandbox wrote to ``<state_dir>/ari-password``, or "" if none."""
    try:
        return (Path(state_dir) / ARI_PASSWORD_FILE).read_text().strip()
    except FileNotFoundError:
        return ""


@dataclass(frozen=True, slots=True)
class Settings:
    # PostgreSQL (SQLAlchemy async URL).
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/vipcall"
    # How long a call waits for the database before failing open (seconds).
    db_timeout: float = 0.5
    # Route from the users' state held in the app's memory, kept fresh by LISTEN/NOTIFY
    # (vipcall.store.routing_cache); false: every call reads PostgreSQL.
    routing_cache: bool = True
    # Write the caller-independent rings into Asterisk (vipcall.service.direct), so those
    # calls ring without a Stasis round trip; needs routing_cache.
    direct_routes: bool = True

    # ARI
    ari_url: str = "http://127.0.0.1:8088/ari"
    ari_user: str = "vipcall"
    ari_password: str = field(default="", repr=False)
    ari_app: str = "vipcall"
    # This node's name in state shared through PostgreSQL (a service number's waiting
    # callers are taken over by the app of the node that holds them). Empty: the ARI URL and
    # app, unique on one machine; set it per node when every node's ARI is 127.0.0.1:8088.
    node_name: str = ""

    # Telephony
    region: str = "FI"
    ring_timeout: int = 30
    voicemail_number: str = "+358401621485"
    activity_number: str = "+358401621486"
    max_message_seconds: int = 180
    # Seconds a phone menu waits for a key after its prompt.
    menu_timeout: float = 6.0
    # Seconds between pushes of changed numbers/softphones into Asterisk.
    sync_interval: float = 30.0
    # Is the PSTN carrier trusted with a hidden caller's real number (RFC 3325: it goes in
    # P-Asserted-Identity beside "Privacy: id")? Rendered into the sandbox's pjsip.conf.
    pstn_trusted: bool = True

    # Notices of new messages (vipcall.notices). Email over SMTP: security is "starttls",
    # "tls" (implicit TLS, port 465) or "none"; user/password empty: no login.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "vastaaja@vipcall.invalid"
    # CA certificates (PEM file) the SMTP server's certificate is checked against; empty:
    # the system's.
    smtp_ca_file: str = ""
    # SMS through the gateway's HTTP API (Kannel's cgi-bin/sendsms); from empty: the
    # voicemail number.
    sms_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    sms_user: str = ""
    sms_password: str = field(default="", repr=False)
    sms_from: str = ""
    # The queue: seconds before the first retry (doubling up to notice_retry_max), attempts
    # before a notice is given up, seconds between looks for due notices, seconds one send
    # may take.
    notice_retry_base: float = 30.0
    notice_retry_max: float = 3600.0
    notice_max_attempts: int = 10
    notice_poll_interval: float = 1.0
    notice_send_timeout: float = 30.0

    # Metrics / HTTP
    http_host: str = "127.0.0.1"
    http_port: int = 9108
    # Where Asterisk fetches greetings, names and messages from the app (/media/...);
    # empty: http://<http_host>:<http_port>.
    media_base_url: str = ""
    # The dialplan's end-of-call reports (call history): a folder Asterisk appends them to and
    # the app takes them from (vipcall.service.reports.ReportSpool), as the app sees it and,
    # when Asterisk sees it elsewhere (a chroot, a container's mount), as Asterisk does.
    # Empty: one HTTP request per call to the app instead (costs Asterisk ~1 ms per call).
    end_spool: str = ""
    end_spool_asterisk: str = ""

    # The home page and REST API (``vipcall web``, its own process). public_url: the address
    # users type (links in codes' messages, softphone QR codes); empty: http://<host>:<port>.
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_public_url: str = ""
    # Minutes a web session may sit idle before it must log in again.
    web_idle_minutes: int = 30
    # SIP address softphones register to (shown on the Apps page and in its QR code).
    sip_public_host: str = "127.0.0.1"
    sip_public_port: int = 5060
    # Softphones log in at the SIP proxy in front of the nodes (the two-node layout's
    # Kamailio checks their passwords against PostgreSQL and registers them with every
    # node), so the softphone endpoints pushed to Asterisk carry no password of their own.
    # Only for a node that takes SIP from the proxy alone (its pjsip ACL).
    softphone_auth_by_proxy: bool = False
    # Where this app answers the SIP proxy's OPTIONS probe for its node (vipcall.service.probe:
    # 200 while connected to Asterisk, 503 while not); port 0: not at all (one node alone).
    probe_host: str = "127.0.0.1"
    probe_port: int = 0

    # Where runtime state lives (ARI password, app pid); always absolute.
    state_dir: Path = field(default_factory=default_state_dir)
    log_level: str = "INFO"

    @property
    def web_url(self) -> str:
        return self.web_public_url or f"http://{self.web_host}:{self.web_port}"

    @property
    def media_url(self) -> str:
        return self.media_base_url or f"http://{self.http_host}:{self.http_port}"

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        base = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(f"VIPCALL_{f.name.upper()}")
            if raw is None:
                continue
            current = getattr(base, f.name)
            if isinstance(current, bool):
                values[f.name] = raw.lower() in {"1", "true", "yes", "on"}
            elif isinstance(current, int):
                values[f.name] = int(raw)
            elif isinstance(current, float):
                values[f.name] = float(raw)
            elif isinstance(current, Path):
                values[f.name] = Path(raw).absolute()
            else:
                values[f.name] = raw
        values.update(overrides)
        settings = replace(base, **values)
        if not Path(settings.state_dir).is_absolute():  # an override given as a relative path
            settings = replace(settings, state_dir=Path(settings.state_dir).absolute())
        if not settings.ari_password:
            settings = replace(settings, ari_password=read_ari_password(settings.state_dir))
        return settings
