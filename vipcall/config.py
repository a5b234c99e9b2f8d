"""Settings, read once from the environment (``VIPCALL_*``) with working defaults.

One frozen object is passed around; nothing reads ``os.environ`` elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Settings:
    # PostgreSQL (SQLAlchemy async URL).
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/vipcall"
    # How long a call waits for the database before failing open (seconds).
    db_timeout: float = 0.5

    # ARI
    ari_url: str = "http://127.0.0.1:8088/ari"
    ari_user: str = "vipcall"
    ari_password: str = field(default="", repr=False)
    ari_app: str = "vipcall"

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

    # Metrics / HTTP
    http_host: str = "127.0.0.1"
    http_port: int = 9108

    # Where runtime state lives (sandbox config, secrets, logs).
    state_dir: Path = field(default_factory=lambda: Path("var"))
    log_level: str = "INFO"

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
                values[f.name] = Path(raw)
            else:
                values[f.name] = raw
        values.update(overrides)
        settings = replace(base, **values)
        if not settings.ari_password:
            secret = settings.state_dir / "ari-password"
            if secret.exists():
                settings = replace(settings, ari_password=secret.read_text().strip())
        return settings
