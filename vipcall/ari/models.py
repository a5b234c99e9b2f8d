"""Typed shapes of ARI JSON objects.

``TypedDict`` so responses stay plain dicts straight from the JSON parser (no per-call
object construction: per-call CPU is what limits an ARI design), yet callers and mypy
know the field names. Only the fields vipcall reads are listed; Asterisk sends more.
"""

from __future__ import annotations

from typing import Any, TypedDict


class CallerId(TypedDict, total=False):
    """ARI JSON shape of a channel's ``caller``/``connected`` party (Asterisk's
    ``CallerID`` object). Not the call layer's presentation: that is
    :class:`vipcall.routing.decisions.Presentation`."""

    name: str
    number: str


class DialplanCEP(TypedDict, total=False):
    context: str
    exten: str
    priority: int
    app_name: str
    app_data: str


class Channel(TypedDict, total=False):
    """ARI JSON shape of a channel as Asterisk sends it (REST answers, ``channel`` in
    events). Not the call layer's channel object: that is
    :class:`vipcall.calls.channel.CallChannel`, a façade over one of these."""

    id: str
    name: str
    state: str  # Down, Rsrved, OffHook, Dialing, Ring, Ringing, Up, Busy, ...
    protocol_id: str
    caller: CallerId
    connected: CallerId
    accountcode: str
    dialplan: DialplanCEP
    creationtime: str
    language: str
    channelvars: dict[str, str]
    caller_rdnis: str


class Bridge(TypedDict, total=False):
    id: str
    technology: str
    bridge_type: str  # mixing | holding
    bridge_class: str
    creator: str
    name: str
    channels: list[str]
    creationtime: str
    video_mode: str


class Playback(TypedDict, total=False):
    id: str
    media_uri: str
    next_media_uri: str
    target_uri: str
    language: str
    state: str  # queued, playing, paused, continuing, done, failed


class LiveRecording(TypedDict, total=False):
    name: str
    format: str
    target_uri: str
    state: str  # queued, recording, paused, done, failed, canceled
    duration: int
    talking_duration: int
    silence_duration: int
    cause: str


class StoredRecording(TypedDict, total=False):
    name: str
    format: str


class ConfigTuple(TypedDict):
    attribute: str
    value: str


class AsteriskInfo(TypedDict, total=False):
    build: dict[str, Any]
    system: dict[str, Any]
    config: dict[str, Any]
    status: dict[str, Any]


#: An ARI websocket event (``type``, ``application``, ``timestamp`` + type-specific keys,
#: e.g. StasisStart: ``channel``, ``args``; StasisEnd/ChannelDestroyed: ``channel``).
Event = dict[str, Any]
