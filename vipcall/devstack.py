"""``make run``: the whole service on one machine with its defaults.

Creates and migrates the database, makes the demo organisation, starts the sandboxed
Asterisk (default instance: SIP 127.0.0.1:5060, ARI 127.0.0.1:8088) and runs the Stasis
app in the foreground. Re-runnable: every step checks before it acts. Ctrl-C stops the app
and the Asterisk it started.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import replace
from urllib.parse import urlparse

from vipcall.config import Settings
from vipcall.db.engine import create_engine, session_factory, transaction
from vipcall.db.migrate import create_database_if_missing_async, upgrade_async
from vipcall.directory import ensure_demo
from vipcall.sandbox import Instance
from vipcall.service.logs import configure_logging
from vipcall.service.main import serve

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


def start_asterisk(settings: Settings) -> tuple[Instance, Settings]:
    password = settings.ari_password or secrets.token_urlsafe(24)
    instance = Instance(
        name="vipcall",
        ari_port=urlparse(settings.ari_url).port or 8088,
        ari_password=password,
        ari_user=settings.ari_user,
        ari_app=settings.ari_app,
        ring_timeout=settings.ring_timeout,
    )
    if instance.is_running():
        log.info("restarting the sandboxed Asterisk to apply the current configuration")
        instance.stop()
    instance.start()
    instance.write_password(settings.state_dir)
    log.info("Asterisk 22 up: SIP udp 127.0.0.1:%d, ARI %s", instance.sip_port, instance.ari_url)
    return instance, replace(settings, ari_password=password)


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    asyncio.run(prepare_database(settings))
    instance, settings = start_asterisk(settings)
    log.info(
        "call in: SIPp from 127.0.0.2 (PSTN) or 127.0.0.3 (handsets) to 127.0.0.1:%d; "
        "deliveries go to 127.0.0.3:5060 (handsets) and 127.0.0.2:5060 (PSTN). "
        "See README 'Driving it from outside'.",
        instance.sip_port,
    )
    try:
        asyncio.run(serve(settings))
    finally:
        instance.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
