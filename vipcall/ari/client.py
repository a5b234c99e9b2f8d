"""ARI endpoint wrappers: one named, typed method per REST call vipcall makes.

:class:`AriClient` is an :class:`~vipcall.ari.transport.AriTransport` (HTTP session,
REST over the events websocket, error mapping) plus these wrappers; each builds the path
(ids percent-encoded with :func:`_q`) and the query/body and returns the parsed JSON
typed with the :mod:`vipcall.ari.models` shapes. Errors are the transport's
(:mod:`vipcall.ari.errors`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast
from urllib.parse import quote

from .errors import AriNotFound
from .events import EventStream
from .models import (
    AsteriskInfo,
    Bridge,
    Channel,
    ConfigTuple,
    LiveRecording,
    Playback,
    StoredRecording,
)
from .transport import AriTransport, ParamValue


def _q(segment: str) -> str:
    """Percent-encode one path segment (ids may contain ``/`` or ``;`` e.g. recording names)."""
    return quote(segment, safe="")


class AriClient(AriTransport):
    """REST side of ARI for one Stasis application: the transport's :meth:`request`
    behind one method per endpoint.

    Use as ``async with AriClient(...) as ari:`` or call :meth:`close` at shutdown; the
    HTTP session is created lazily on first use so the object can be built outside a loop.
    """

    def events(self, **kwargs: Any) -> EventStream:
        """An :class:`~vipcall.ari.events.EventStream` for this client's app."""
        return EventStream(self, **kwargs)

    # -- channels ------------------------------------------------------------------

    async def list_channels(self) -> list[Channel]:
        """All channels Asterisk knows (used to reconcile after a reconnect)."""
        return cast(list[Channel], await self.request("GET", "/channels"))

    async def get_channel(self, channel_id: str) -> Channel:
        return cast(Channel, await self.request("GET", f"/channels/{_q(channel_id)}"))

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{_q(channel_id)}/answer")

    async def ring(self, channel_id: str) -> None:
        """Send ringing indication (180) to the caller."""
        await self.request("POST", f"/channels/{_q(channel_id)}/ring")

    async def ring_stop(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{_q(channel_id)}/ring")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """Hang up; ``reason``: normal, busy, congestion, no_answer, rejected, ... ."""
        await self.request("DELETE", f"/channels/{_q(channel_id)}", {"reason": reason})

    async def continue_in_dialplan(
        self,
        channel_id: str,
        context: str,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        """Leave Stasis and continue in the dialplan (e.g. ``vipcall-ring,s,1``)."""
        await self.request(
            "POST",
            f"/channels/{_q(channel_id)}/continue",
            {"context": context, "extension": extension, "priority": priority, "label": label},
        )

    async def set_channel_var(self, channel_id: str, variable: str, value: str) -> None:
        await self.request(
            "POST",
            f"/channels/{_q(channel_id)}/variable",
            {"variable": variable, "value": value},
        )

    async def get_channel_var(self, channel_id: str, variable: str) -> str:
        """Value of a channel variable or function (404 if the variable is unset)."""
        res = await self.request(
            "GET", f"/channels/{_q(channel_id)}/variable", {"variable": variable}
        )
        return cast(str, res.get("value", "")) if res else ""

    async def play(
        self,
        channel_id: str,
        media: str | Sequence[str],
        playback_id: str | None = None,
        lang: str | None = None,
    ) -> Playback:
        """Start playing ``media`` (URI or list of URIs played in order, e.g. ``sound:x``).

        Several URIs go comma-separated in ONE ``media`` parameter: Asterisk keeps only the
        last of repeated ``media`` parameters (measured on Asterisk 22: a two-file list
        played just the second file).
        """
        joined = media if isinstance(media, str) else ",".join(media)
        params: list[tuple[str, ParamValue]] = [("media", joined)]
        params.append(("lang", lang))
        params.append(("playbackId", playback_id))
        return cast(
            Playback, await self.request("POST", f"/channels/{_q(channel_id)}/play", params)
        )

    async def stop_playback(self, playback_id: str) -> None:
        await self.request("DELETE", f"/playbacks/{_q(playback_id)}")

    async def record(
        self,
        channel_id: str,
        name: str,
        format: str = "wav",
        max_duration_seconds: int = 0,
        max_silence_seconds: int = 0,
        if_exists: str = "overwrite",
        beep: bool = False,
        terminate_on: str = "none",
    ) -> LiveRecording:
        """Start recording the channel into stored recording ``name``."""
        return cast(
            LiveRecording,
            await self.request(
                "POST",
                f"/channels/{_q(channel_id)}/record",
                {
                    "name": name,
                    "format": format,
                    "maxDurationSeconds": max_duration_seconds,
                    "maxSilenceSeconds": max_silence_seconds,
                    "ifExists": if_exists,
                    "beep": beep,
                    "terminateOn": terminate_on,
                },
            ),
        )

    async def stop_recording(self, name: str) -> None:
        """Stop a live recording and keep it."""
        await self.request("POST", f"/recordings/live/{_q(name)}/stop")

    async def list_stored_recordings(self) -> list[StoredRecording]:
        return cast(list[StoredRecording], await self.request("GET", "/recordings/stored"))

    async def get_stored_recording_file(self, name: str) -> bytes:
        """Raw bytes of a stored recording (as recorded, e.g. a WAV file)."""
        return cast(
            bytes, await self.request("GET", f"/recordings/stored/{_q(name)}/file", raw=True)
        )

    async def delete_stored_recording(self, name: str) -> None:
        await self.request("DELETE", f"/recordings/stored/{_q(name)}")

    async def originate(
        self,
        endpoint: str,
        app: str | None = None,
        app_args: str | Sequence[str] | None = None,
        caller_id: str | None = None,
        timeout: int = 30,
        variables: Mapping[str, str] | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
    ) -> Channel:
        """Create a channel dialling ``endpoint``, answered into Stasis ``app``.

        ``app`` defaults to this client's app; ``app_args`` list is comma-joined
        (it becomes StasisStart ``args``). ``variables`` go in the JSON body.
        """
        if app_args is not None and not isinstance(app_args, str):
            app_args = ",".join(app_args)
        body = {"variables": dict(variables)} if variables else None
        return cast(
            Channel,
            await self.request(
                "POST",
                "/channels",
                {
                    "endpoint": endpoint,
                    "app": app if app is not None else self.app,
                    "appArgs": app_args,
                    "callerId": caller_id,
                    "timeout": timeout,
                    "channelId": channel_id,
                    "otherChannelId": other_channel_id,
                },
                body,
            ),
        )

    # -- bridges -------------------------------------------------------------------

    async def list_bridges(self) -> list[Bridge]:
        return cast(list[Bridge], await self.request("GET", "/bridges"))

    async def get_bridge(self, bridge_id: str) -> Bridge:
        return cast(Bridge, await self.request("GET", f"/bridges/{_q(bridge_id)}"))

    async def create_bridge(
        self, type: str = "mixing", bridge_id: str | None = None, name: str | None = None
    ) -> Bridge:
        """Create a bridge; ``type`` is a comma list (mixing, holding, dtmf_events, ...)."""
        return cast(
            Bridge,
            await self.request(
                "POST", "/bridges", {"type": type, "bridgeId": bridge_id, "name": name}
            ),
        )

    async def add_channel_to_bridge(
        self, bridge_id: str, channel: str | Iterable[str], role: str | None = None
    ) -> None:
        if not isinstance(channel, str):
            channel = ",".join(channel)
        await self.request(
            "POST", f"/bridges/{_q(bridge_id)}/addChannel", {"channel": channel, "role": role}
        )

    async def remove_channel(self, bridge_id: str, channel: str | Iterable[str]) -> None:
        if not isinstance(channel, str):
            channel = ",".join(channel)
        await self.request("POST", f"/bridges/{_q(bridge_id)}/removeChannel", {"channel": channel})

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{_q(bridge_id)}")

    async def start_bridge_moh(self, bridge_id: str, moh_class: str | None = None) -> None:
        await self.request("POST", f"/bridges/{_q(bridge_id)}/moh", {"mohClass": moh_class})

    async def stop_bridge_moh(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{_q(bridge_id)}/moh")

    # -- asterisk (global vars, AstDB, dynamic config, info) -----------------------

    async def asterisk_info(self) -> AsteriskInfo:
        return cast(AsteriskInfo, await self.request("GET", "/asterisk/info"))

    async def ping(self) -> dict[str, str]:
        """Cheap liveness probe (``{"ping": "pong", ...}``)."""
        return cast(dict[str, str], await self.request("GET", "/asterisk/ping"))

    async def set_event_filter(
        self, *, allowed: Iterable[str] = (), disallowed: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Filter this application's events by type, in Asterisk (``PUT
        /applications/{app}/eventFilter``): a disallowed type is never sent (no JSON built
        for it, no websocket frame). Empty lists clear the filter. Returns the application
        (its ``events_allowed`` / ``events_disallowed``)."""
        body = {
            "allowed": [{"type": t} for t in allowed],
            "disallowed": [{"type": t} for t in disallowed],
        }
        return cast(
            dict[str, Any],
            await self.request("PUT", f"/applications/{_q(self.app)}/eventFilter", body=body),
        )

    async def set_global_var(self, variable: str, value: str) -> None:
        """Set a global variable or *write* a function, e.g. ``DB(vipcall-ring/+358...)``.

        Function writes run on Asterisk's HTTP thread, where DB() writes count as
        "dangerous": they need ``live_dangerously = yes`` in asterisk.conf, otherwise
        Asterisk logs "Dangerous function DB write blocked" and still answers 204.
        """
        await self.request("POST", "/asterisk/variable", {"variable": variable, "value": value})

    async def get_global_var(self, variable: str) -> str:
        """Read a *global variable*; "" if unset.

        Asterisk 22 does not evaluate functions here (``DB(...)`` always reads ""):
        read AstDB through a channel with :meth:`db_get` / :meth:`get_channel_var`.
        """
        res = await self.request("GET", "/asterisk/variable", {"variable": variable})
        return cast(str, res.get("value", "")) if res else ""

    async def db_put(self, family: str, key: str, value: str) -> None:
        """AstDB put via ``DB(family/key)`` (what the dialplan's fail-open path reads)."""
        await self.set_global_var(f"DB({family}/{key})", value)

    async def db_clear(self, family: str, key: str) -> None:
        """Blank an AstDB key (value ""). ARI has no AstDB delete without a channel; the
        fail-open dialplan treats "" as absent. With a channel use :meth:`db_delete`."""
        await self.set_global_var(f"DB({family}/{key})", "")

    async def db_get(self, channel_id: str, family: str, key: str) -> str:
        """AstDB get, evaluated on a channel (the only place ARI evaluates functions)."""
        try:
            return await self.get_channel_var(channel_id, f"DB({family}/{key})")
        except AriNotFound as exc:
            # "Provided variable was not found" (key unset) vs "Provided channel was not
            # found" (channel gone: re-raised).
            if "variable" in exc.message.lower():
                return ""
            raise

    async def db_delete(self, channel_id: str, family: str, key: str) -> str:
        """AstDB delete via ``DB_DELETE`` on a channel; returns the old value ("" if none)."""
        return await self.get_channel_var(channel_id, f"DB_DELETE({family}/{key})")

    async def get_dynamic_config(
        self, config_class: str, object_type: str, object_id: str
    ) -> list[ConfigTuple]:
        return cast(
            list[ConfigTuple],
            await self.request("GET", _dyn_path(config_class, object_type, object_id)),
        )

    async def put_dynamic_config(
        self,
        config_class: str,
        object_type: str,
        object_id: str,
        fields: Mapping[str, str] | Iterable[tuple[str, str]],
    ) -> list[ConfigTuple]:
        """Create/update a sorcery object (e.g. ``res_pjsip``/``endpoint``/``sp-7-1``).

        ``fields`` as a mapping or (attribute, value) pairs (pairs allow repeats).
        """
        items = fields.items() if isinstance(fields, Mapping) else fields
        body = {"fields": [{"attribute": a, "value": v} for a, v in items]}
        return cast(
            list[ConfigTuple],
            await self.request("PUT", _dyn_path(config_class, object_type, object_id), body=body),
        )

    async def delete_dynamic_config(
        self, config_class: str, object_type: str, object_id: str
    ) -> None:
        await self.request("DELETE", _dyn_path(config_class, object_type, object_id))


def _dyn_path(config_class: str, object_type: str, object_id: str) -> str:
    return f"/asterisk/config/dynamic/{_q(config_class)}/{_q(object_type)}/{_q(object_id)}"
