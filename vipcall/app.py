"""The Stasis application process: ``vipcall serve``.

It owns one ARI connection, one task per call and a small HTTP server for metrics and
health. Each call's task is supervised: whatever happens inside, the channel ends in a
hand-off to the dialplan or a hangup with a clear cause.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vipcall.ari import AriClient, Event, EventStream
from vipcall.calls import flows
from vipcall.calls.channel import CallGone, Channel, hang_up
from vipcall.config import Settings
from vipcall.db.engine import create_engine
from vipcall.metrics import ACTIVE_CALLS, ARI_CONNECTED, CALLS, FAIL_OPEN, RECONCILED
from vipcall.numbers import normalize
from vipcall.provisioning import Provisioner
from vipcall.routing.decisions import Cause
from vipcall.routing.lookup import DbCallState, create_pool
from vipcall.routing.rules import Policy
from vipcall.routing.state import Trunk
from vipcall.voicemail.leave import recover_messages

log = logging.getLogger("vipcall.app")

_TARGETED = ("playback", "recording")
#: A provisioning round that takes longer than this is abandoned and retried.
PROVISION_TIMEOUT = 20.0


class StasisApp:
    """Dispatches ARI events to per-call tasks."""

    def __init__(
        self, ari: AriClient, svc: flows.Services, provisioner: Provisioner | None
    ) -> None:
        self.ari = ari
        self.svc = svc
        self.provisioner = provisioner
        self.calls: dict[str, Channel] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._provisioned_full = False

    # -- events (sync, on the loop: must stay cheap) -----------------------------------

    def on_event(self, event: Event) -> None:
        kind = event["type"]
        if kind == "StasisStart":
            channel = event["channel"]
            self.start(channel, event.get("args", []))
            return
        channel = event.get("channel")
        if channel is not None:
            ch = self.calls.get(channel["id"])
        else:
            ch = None
            for key in _TARGETED:
                obj = event.get(key)
                if obj is not None:
                    target = obj.get("target_uri", "")
                    if target.startswith("channel:"):
                        ch = self.calls.get(target[8:])
                    break
        if ch is not None:
            ch.deliver(event)
            if kind == "StasisEnd" and ch.handed_off:
                # Handed to the dialplan: the same channel may come back (nobody answered)
                # before this call's task has even finished; that is a new call task.
                self._forget(ch)

    def start(self, channel: dict[str, Any], args: list[str]) -> None:
        current = self.calls.get(channel["id"])
        if current is not None and not current.handed_off:
            return  # already ours (seen in a reconcile snapshot and again as an event)
        ch = Channel(self.ari, channel, list(args))
        self.calls[ch.id] = ch
        self._spawn(self.run_call(ch))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as a task the app keeps a reference to until it ends."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- one call ----------------------------------------------------------------------

    async def run_call(self, ch: Channel) -> None:
        ACTIVE_CALLS.inc()
        outcome = "error"
        try:
            outcome = await self.flow(ch)
        except CallGone:
            outcome = "caller_hung_up"
        except Exception:
            ch.log.exception("call flow failed")
        finally:
            if not ch.handed_off and not ch.gone:
                await asyncio.shield(self._end_unfinished(ch))
            self._forget(ch)
            ch.log.debug("call task done: %s", outcome)
            ACTIVE_CALLS.dec()
            CALLS.labels(outcome=outcome).inc()

    async def _end_unfinished(self, ch: Channel) -> None:
        """A flow ended without handing the call off or hanging it up (a bug, Asterisk or
        the DB away). A new call nobody has answered yet fails open to the user's phone;
        anything else is hung up with cause 38."""
        if ch.args[:1] == ["in"] and not ch.answered:
            try:
                await ch.continue_to(flows.FAIL_OPEN_CONTEXT, ch.exten)
                FAIL_OPEN.labels(reason="flow_error").inc()
                ch.log.warning("call sent to the fail-open dialplan after an error")
                return
            except Exception:  # noqa: BLE001 - then at least end it
                pass
        with contextlib.suppress(Exception):
            await ch.hangup(Cause.FAILURE)
            ch.log.warning("call ended by the app after an error")

    def _forget(self, ch: Channel) -> None:
        if self.calls.get(ch.id) is ch:
            del self.calls[ch.id]

    async def flow(self, ch: Channel) -> str:
        match ch.args:
            case ["in", trunk, *rest]:
                softphone = rest[0] if rest and trunk == Trunk.SOFTPHONE else None
                return await flows.new_call(ch, self.svc, Trunk(trunk), softphone)
            case ["dialed", status, user, *rest]:
                called = rest[0] if rest and rest[0] else None
                user_id = int(user) if user.isdigit() else None
                return await flows.unanswered(ch, self.svc, status, user_id, called)
            case _:
                ch.log.error("unexpected Stasis arguments %r", ch.args)
                await ch.hangup(Cause.FAILURE)
                return "error"

    # -- (re)connect -----------------------------------------------------------------------

    async def on_connect(self) -> None:
        """Reconcile after every (re)connect: Asterisk does not re-send StasisStart for
        channels that stayed in Stasis while we were away, so take them over or end them."""
        ARI_CONNECTED.set(1)
        self._provisioned_full = False
        prefix = f"{self.ari.app},"
        for channel in await self.ari.list_channels():
            plan = channel.get("dialplan", {})
            if plan.get("app_name") != "Stasis" or channel["id"] in self.calls:
                continue
            data = plan.get("app_data", "")
            if data != self.ari.app and not data.startswith(prefix):
                continue
            args = data.split(",")[1:]
            if args[:1] in (["in"], ["dialed"]) and channel.get("state") != "Up":
                RECONCILED.labels(action="taken_over").inc()
                log.info("taking over unanswered channel %s (%s)", channel["id"], data)
                self.start(dict(channel), args)
            else:
                RECONCILED.labels(action="hung_up").inc()
                log.warning("ending orphaned channel %s (%s)", channel["id"], data)
                await hang_up(self.ari, channel["id"], Cause.FAILURE)
        if self.provisioner is not None:
            # In the background: calls must route (or fail open) while the DB is slow.
            self._spawn(self.provision(full=True))

    async def provision(self, full: bool = False) -> None:
        """Catch up with Asterisk: push numbers and softphones, store messages left behind."""
        assert self.provisioner is not None
        try:
            await asyncio.wait_for(self.provisioner.sync(full=full), PROVISION_TIMEOUT)
            self._provisioned_full = self._provisioned_full or full
        except Exception as exc:  # noqa: BLE001 - DB or Asterisk away: next round
            log.warning("provisioning Asterisk failed (%s); retrying", type(exc).__name__ or exc)
        try:
            recovered = await asyncio.wait_for(
                recover_messages(self.ari, self.svc.state, self.calls.keys()), PROVISION_TIMEOUT
            )
            if recovered:
                log.info("stored %d voicemail messages left on Asterisk", recovered)
        except Exception as exc:  # noqa: BLE001 - next round
            log.warning("recovering voicemail messages failed (%s); retrying", type(exc).__name__)

    async def keep_in_sync(self, interval: float) -> None:
        """Push changes made by the CLI or the web into Asterisk; repeats a full push that
        failed at connect time."""
        while True:
            await asyncio.sleep(interval)
            if self.provisioner is not None:
                await self.provision(full=not self._provisioned_full)


# -- HTTP: metrics and health -------------------------------------------------------------


def http_app(stream: EventStream) -> web.Application:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health(_: web.Request) -> web.Response:
        up = stream.ready.is_set()
        return web.json_response({"ari": "up" if up else "down"}, status=200 if up else 503)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/health", health)
    return app


class _CallIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "call_id"):
            record.call_id = "-"
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_CallIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s call=%(call_id)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


async def serve(settings: Settings) -> None:
    engine = create_engine(settings.database_url, pool_pre_ping=False, pool_size=10)
    pool = await create_pool(settings.database_url)
    ari = AriClient(settings.ari_url, settings.ari_user, settings.ari_password, settings.ari_app)
    svc = flows.Services(
        state=DbCallState(pool, engine),
        policy=Policy(
            ring_timeout=settings.ring_timeout,
            activity_number=normalize(settings.activity_number, settings.region),
            voicemail_number=normalize(settings.voicemail_number, settings.region),
        ),
        region=settings.region,
        db_timeout=settings.db_timeout,
        max_message_seconds=settings.max_message_seconds,
        menu_timeout=settings.menu_timeout,
    )
    app = StasisApp(ari, svc, Provisioner(ari, engine))
    # ChannelVarset: one per Set() while a channel is ours, and no flow waits for one.
    stream = EventStream(ari, skip_types=frozenset({"ChannelVarset"}))
    runner = web.AppRunner(http_app(stream))
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
    syncer = asyncio.create_task(app.keep_in_sync(settings.sync_interval))
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        stream.stop()
        syncer.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(events, 5)
        ARI_CONNECTED.set(0)
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
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
