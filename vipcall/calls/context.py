"""What a call flow gets besides its channel: the storage ports it may use and the
service-wide settings. One :class:`CallContext` per process, shared by every call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from vipcall.calls.channel import CallChannel
from vipcall.calls.media import MediaKind
from vipcall.directory.voicemail import AudioKind
from vipcall.history.rules import Note
from vipcall.routing.rules import Policy
from vipcall.routing.snapshot import Subscriber
from vipcall.servicenumbers.rules import Offer, QueueSettings
from vipcall.store.mailbox import MailboxProfile
from vipcall.store.servicenumbers import MemberLine, QueueCall, ServiceNumberInfo
from vipcall.voicemail.menu import Message


class RoutingStore(Protocol):
    """Reads the snapshot a routing decision needs."""

    async def parties(
        self, caller: str | None, softphone: str | None, dialled: str | None
    ) -> tuple[Subscriber | None, Subscriber | None]:
        """(the calling user, the called user), either ``None`` when no user matches."""
        ...

    async def user(self, user_id: int) -> Subscriber | None: ...


class StoppedCalls(Protocol):
    """Remembers calls the absence notice or the red-landline rule kept from ringing (what
    "repeat caller breaks through" counts)."""

    async def note_stopped_call(self, user_id: int, caller: str) -> None: ...


class PresenceStore(Protocol):
    """Writes what self-service by phone changes."""

    async def set_activity(self, user_id: int, activity: int) -> None: ...

    async def set_role(self, user_id: int, role: int) -> None: ...

    async def set_forwarding(self, user_id: int, target: str | None) -> None:
        """Set (``None``: clear) immediate forwarding; raises
        :class:`vipcall.directory.ForwardRefused` for a refused target."""
        ...


class MailboxStore(Protocol):
    """Keeps voicemail messages."""

    async def save_message(
        self, user_id: int, caller: str | None, called: str | None, audio: bytes, duration_ms: int
    ) -> int: ...


class MailboxProfiles(Protocol):
    """Reads what leaving a message needs (:mod:`vipcall.store.mailbox`)."""

    async def mailbox_profile(self, user_id: int) -> MailboxProfile | None: ...


class MediaSource(Protocol):
    """Audio kept in the database, served to Asterisk over HTTP (:mod:`vipcall.calls.media`)."""

    async def audio(self, kind: MediaKind, owner: int) -> bytes | None: ...


class ListeningStore(Protocol):
    """The listening number's mailbox access (:mod:`vipcall.store.listening`)."""

    async def mailbox_messages(self, user_id: int) -> tuple[list[Message], str]: ...

    async def message_counts(self, user_id: int) -> tuple[int, int]: ...

    async def mark_heard(self, user_id: int, message_id: int) -> None: ...

    async def mark_saved(self, user_id: int, message_id: int) -> None: ...

    async def mark_deleted(self, user_id: int, message_id: int) -> None: ...

    async def mailbox_owner(self, number: str) -> int | None: ...

    async def check_pin(self, user_id: int, pin: str) -> bool: ...

    async def log_login_failure(self, user_id: int | None, caller: str | None) -> None: ...

    async def change_pin(self, user_id: int, pin: str) -> None: ...

    async def store_recording(self, user_id: int, kind: AudioKind, wav: bytes) -> None: ...

    async def delete_recording(self, user_id: int, kind: AudioKind) -> bool: ...


class ServiceNumberStore(Protocol):
    """Service numbers and their queue (:mod:`vipcall.store.servicenumbers`)."""

    async def service_number_at(self, number: str) -> int | None: ...

    async def service_number(self, sn_id: int) -> ServiceNumberInfo | None: ...

    async def members(self, sn_id: int, call_id: int = 0) -> list[MemberLine]: ...

    async def enqueue(
        self, sn_id: int, channel_id: str, node: str, caller: str | None
    ) -> QueueCall: ...

    async def queue_call(self, call_id: int) -> QueueCall | None: ...

    async def queue_calls_on(self, node: str) -> list[QueueCall]: ...

    async def claim_offer(
        self, call: QueueCall, settings: QueueSettings, tried: frozenset[int]
    ) -> tuple[Offer | None, list[MemberLine]]: ...

    async def offer_over(self, call_id: int) -> None: ...

    async def connected(
        self, call_id: int, member_id: int, member_channel: str, bridge_id: str
    ) -> None: ...

    async def finish_queue_call(self, call_id: int) -> None: ...

    async def queue_position(self, call: QueueCall) -> int: ...

    async def set_service_login(self, user_id: int, sn_id: int, logged_in: bool) -> bool: ...


class CallStore(
    RoutingStore,
    ServiceNumberStore,
    StoppedCalls,
    PresenceStore,
    MailboxStore,
    MailboxProfiles,
    MediaSource,
    ListeningStore,
    Protocol,
):
    """Everything the call flows read and write; :class:`vipcall.store.calls.DbCallStore`
    is the PostgreSQL implementation."""


class CallRecords(Protocol):
    """Takes the call history's notes (:class:`vipcall.history.recorder.Recorder`): kept
    and written in the background, so noting never waits."""

    def note(self, note: Note) -> None: ...


class Legs(Protocol):
    """Channels a flow originates itself (a service number's member legs): registered, the
    app delivers their events to the flow's :class:`CallChannel` for them."""

    def adopt(self, ch: CallChannel) -> None: ...

    def release(self, ch: CallChannel) -> None: ...


@dataclass(frozen=True, slots=True)
class CallContext:
    store: CallStore
    policy: Policy
    region: str = "FI"
    db_timeout: float = 0.5
    """Seconds a call waits for the database before failing open."""
    max_message_seconds: int = 180
    language: str = "fi"
    """Spoken when the call is about no user."""
    menu_timeout: float = 6.0
    media_url: str = "http://127.0.0.1:9108"
    """Base URL of the app's HTTP endpoint Asterisk fetches stored audio from."""
    softphone_reachable: Callable[[str], bool] | None = None
    """Whether a softphone endpoint has a contact to ring (``None``: ring every one);
    :class:`vipcall.service.endpoints.SoftphoneStates` in the app."""
    legs: Legs | None = None
    """Where a flow registers the channels it originates so their events reach it
    (:class:`vipcall.service.stasis.StasisApp` in the app)."""
    node: str = ""
    """This node's name in shared state (``Settings.node_name``; empty: the ARI URL and app)."""
    records: CallRecords | None = None
    """Where calls are noted for the call history (``None``: no history kept)."""
