"""``vipcall serve``: wires the Stasis application process together and runs it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import asyncpg
import uvloop
from aiohttp import web

from vipcall.ari import AriClient, EventStream
from vipcall.calls.context import CallContext
from vipcall.config import Settings
from vipcall.db.engine import create_engine
from vipcall.history import recorder as history
from vipcall.metrics import ARI_CONNECTED
from vipcall.notices.worker import NoticeWorker, settings_problem
from vipcall.numbers import normalize
from vipcall.routing.rules import Policy
from vipcall.service.direct import DirectRoutes
from vipcall.service.http import http_app
from vipcall.service.logs import configure_logging
from vipcall.service.probe import serve_probe
from vipcall.service.provisioning import Provisioner, follow_changes
from vipcall.service.reports import SPOOL_FILE, ReportSpool, serve_reports
from vipcall.service.stasis import StasisApp
from vipcall.store.calls import DbCallStore
from vipcall.store.mailbox import expire_periodically
from vipcall.store.mailbox_notify import MailboxListener, mailbox_states
from vipcall.store.pool import asyncpg_dsn, create_pool
from vipcall.store.records import write_records
from vipcall.store.routing_cache import CachedCallStore, RoutingCache
from vipcall.transfer import flow as transfer
from vipcall.voicemail import mwi

log = logging.getLogger("vipcall.app")


def call_context(settings: Settings, store: DbCallStore) -> CallContext:
    return CallContext(
        store=store,
        policy=Policy(
            ring_timeout=settings.ring_timeout,
            activity_number=normalize(settings.activity_number, settings.region),
            voicemail_number=normalize(settings.voicemail_number, settings.region),
        ),
        region=settings.region,
        db_timeout=settings.db_timeout,
        max_message_seconds=settings.max_message_seconds,
        menu_timeout=settings.menu_timeout,
        media_url=settings.media_url,
        node=settings.node_name,
    )


async def serve(settings: Settings) -> None:
    engine = create_engine(settings.database_url, pool_pre_ping=False, pool_size=10)
    pool = await create_pool(settings.database_url)
    ari = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, settings.ari_app)

    async def write(notes: Sequence[history.Note]) -> None:
        async with pool.acquire() as conn:
            await write_records(conn, notes)

    records = history.Recorder(write)  # the call history, written off the ring path
    cache: RoutingCache | None = None
    dsn = asyncpg_dsn(settings.database_url)
    store: DbCallStore
    if settings.routing_cache:  # users' state in memory, fresh by LISTEN/NOTIFY
        cache = RoutingCache(lambda: asyncpg.connect(dsn, timeout=5))
        store = CachedCallStore(pool, engine, cache, settings.db_timeout)
    else:
        store = DbCallStore(pool, engine)
    ctx = replace(call_context(settings, store), records=records)
    app = StasisApp(
        ari, ctx, Provisioner(ari, engine, auth_by_proxy=settings.softphone_auth_by_proxy)
    )
    direct: DirectRoutes | None = None
    if cache is not None and isinstance(store, CachedCallStore) and settings.direct_routes:
        # caller-independent rings written into Asterisk: no Stasis round trip for them
        direct = DirectRoutes(ari, cache, ctx.policy)
        store.guard = direct
        app.direct = direct
    # The dialplan's end-of-call reports: a plain listener of their own, not aiohttp's. A
    # direct route's call names its calling user from the routing memory.
    calling_user = (lambda n: cache.party_ids(n, None, None)[0]) if cache is not None else None

    def call_ended(query: dict[str, str]) -> bool:
        return history.end_reported(records, query, calling_user)

    reports = await serve_reports(call_ended, settings.http_host, 0)
    report_port = reports.sockets[0].getsockname()[1]
    app.end_url = f"http://{urlsplit(settings.media_url).hostname}:{report_port}"
    # With a spool folder Asterisk appends them to a file instead: no connection per call.
    spool = ReportSpool(Path(settings.end_spool), call_ended) if settings.end_spool else None
    if spool is not None:
        spool.start()
        asterisk_folder = settings.end_spool_asterisk or settings.end_spool
        app.end_file = str(PurePosixPath(asterisk_folder) / SPOOL_FILE)
    # Message waiting: whoever changed a mailbox (web, CLI, expiry, a call), by LISTEN/NOTIFY;
    # every mailbox again after each ARI connect (vipcall.voicemail.mwi).
    app.mailbox_states = lambda: mailbox_states(pool)
    mailboxes = MailboxListener(
        lambda: asyncpg.connect(dsn, timeout=5),
        lambda user_id: mwi.refresh(ari, store, user_id),
        resync=app.republish_mwi,
    )
    # ChannelVarset: one per Set() while a channel is ours, and no flow waits for one.
    stream = EventStream(ari, skip_types=frozenset({"ChannelVarset"}))
    ctx = app.ctx
    runner = web.AppRunner(
        http_app(
            stream,
            ctx.store,
            lambda who, keys: transfer.check(ctx, who, keys),
            call_ended,
        )
    )
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    log.info(
        "vipcall serving: ARI %s app %s, metrics http://%s:%d/metrics",
        settings.ari_url,
        settings.ari_app,
        settings.http_host,
        settings.http_port,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    events = asyncio.create_task(stream.run(app.on_event, app.on_connect))
    probe = (
        await serve_probe(settings.probe_host, settings.probe_port, stream.ready.is_set)
        if settings.probe_port
        else None
    )
    syncer = asyncio.create_task(app.keep_in_sync(settings.sync_interval))
    notices = NoticeWorker.from_settings(pool, settings)  # new-message SMS/email queue
    notices.start()
    expiry = asyncio.create_task(expire_periodically(pool))  # old voicemail messages
    writer = asyncio.create_task(records.run())
    listener = asyncio.create_task(cache.run()) if cache is not None else None
    direct_writer = asyncio.create_task(direct.run()) if direct is not None else None
    mailbox_listener = asyncio.create_task(mailboxes.run())
    spool_reader = asyncio.create_task(spool.run()) if spool is not None else None

    async def push_changes() -> None:
        if stream.connected.is_set():  # else the next connect pushes everything anyway
            await app.provision_changes()

    provision_follower = asyncio.create_task(
        follow_changes(lambda: asyncpg.connect(dsn, timeout=5), push_changes)
    )
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        if probe is not None:
            probe.close()  # the proxy sends no new call here from now on
        stream.stop()
        syncer.cancel()
        expiry.cancel()
        writer.cancel()
        if listener is not None:
            listener.cancel()
        if direct_writer is not None:
            direct_writer.cancel()
        mailbox_listener.cancel()
        provision_follower.cancel()
        if spool_reader is not None:
            spool_reader.cancel()  # taken files not read yet are read at the next start
        await records.close()
        await notices.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(events, 5)
        ARI_CONNECTED.set(0)
        reports.close()
        await runner.cleanup()
        await ari.close()
        try:
            await asyncio.wait_for(pool.close(), 5)
        except TimeoutError:
            pool.terminate()
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vipcall serve", description="Run the Stasis app.")
    parser.add_argument("--log-level", default=None)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    configure_logging(args.log_level or settings.log_level)
    if not settings.ari_password:
        log.error("no ARI password: set VIPCALL_ARI_PASSWORD or start the sandbox first")
        return 1
    if problem := settings_problem(settings):
        log.error("notice settings: %s", problem)
        return 1
    # uvloop: the same asyncio API on libuv, less CPU per event and per socket write
    # (docs/design.md "Performance design").
    uvloop.run(serve(settings))
    return 0
