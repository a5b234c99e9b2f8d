"""The notice settings (VIPCALL_SMTP_*, VIPCALL_SMS_*, VIPCALL_NOTICE_*): working defaults,
bad values refused with one clear line before the app starts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vipcall.config import Settings
from vipcall.notices.worker import NoticeWorker, settings_problem


def test_defaults_work_and_sms_comes_from_the_listening_number() -> None:
    settings = Settings()
    assert settings_problem(settings) is None
    worker = NoticeWorker.from_settings(None, settings)
    assert worker.listening_number == "+358401621485"
    assert worker.sms.sender == "+358401621485"  # type: ignore[attr-defined]
    assert worker.backoff.max_attempts == 10


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIPCALL_SMTP_SECURITY", "tls")
    monkeypatch.setenv("VIPCALL_SMTP_PORT", "465")
    monkeypatch.setenv("VIPCALL_SMTP_PASSWORD", "secret")
    monkeypatch.setenv("VIPCALL_SMS_FROM", "VIPcall")
    monkeypatch.setenv("VIPCALL_NOTICE_RETRY_BASE", "5")
    settings = Settings.from_env()
    assert (settings.smtp_security, settings.smtp_port) == ("tls", 465)
    assert "secret" not in repr(settings)
    worker = NoticeWorker.from_settings(None, settings)
    assert worker.sms.sender == "VIPcall"  # type: ignore[attr-defined]
    assert worker.backoff.base == 5.0


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("VIPCALL_SMTP_SECURITY", "ssl", "VIPCALL_SMTP_SECURITY must be one of"),
        ("VIPCALL_SMTP_FROM", "nobody", "VIPCALL_SMTP_FROM must be an email address"),
        ("VIPCALL_SMS_URL", "127.0.0.1:13013", "VIPCALL_SMS_URL must be an http(s) URL"),
        ("VIPCALL_NOTICE_MAX_ATTEMPTS", "0", "VIPCALL_NOTICE_RETRY_BASE"),
    ],
)
def test_bad_settings_stop_the_app_with_one_line(name: str, value: str, error: str) -> None:
    env = {**os.environ, name: value, "VIPCALL_ARI_PASSWORD": "x"}
    result = subprocess.run(
        [sys.executable, "-m", "vipcall", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    assert len(lines) == 1 and error in lines[0], lines
