"""SQLAlchemy 2 models: the whole state of the service.

Conventions
-----------
* Every phone number column holds E.164 (``+358401234567``); normalise with
  :func:`vipcall.numbers.normalize` before writing.
* Every timestamp is ``timestamptz`` (UTC in, UTC out).
* Server-side defaults are set for everything that has a default, so rows inserted by raw SQL,
  by the migration or by another process look the same as rows inserted through the ORM.
* Later issues add columns to these tables; the shapes here are meant to stay.

Presence model
--------------
``users.activity`` is the activity the user set by hand (feature code, activity number, CLI).
``scheduled_activities`` override it while ``starts_at <= now < ends_at``; when a scheduled
activity ends the user is back at ``users.activity`` ("returns to the previous activity")
without anything having to be written at the end time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

from vipcall.presence.model import ACTIVITY_MAX, ACTIVITY_MIN, ROLE_MAX, ROLE_MIN
from vipcall.presence.model import DEFAULT_RED_ACTIVITIES as RED_DEFAULT

# Activities and roles: their one definition is vipcall.presence.model.
DEFAULT_RED_ACTIVITIES: tuple[int, ...] = tuple(sorted(RED_DEFAULT))
LANGUAGES = ("fi", "en")
NOTIFY_BY = ("sms", "email", "both", "none")
GREETING_MODES = ("default", "name", "personal")
SERVICE_NUMBER_KINDS = ("switchboard", "customer_service", "group")
SERVICE_NUMBER_STRATEGIES = ("ring_all", "longest_idle")
SERVICE_NUMBER_OVERFLOWS = ("number", "voicemail", "announcement")
QUEUE_CALL_STATES = ("waiting", "offering", "connected")
FORWARDING_KINDS = ("immediate", "activity")
GROUP_KIND_NO_VOICEMAIL = "no_voicemail"
NOTICE_CHANNELS = ("sms", "email")
NOTICE_STATES = ("pending", "sent", "failed")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(_in("language", LANGUAGES), name="language"),
        CheckConstraint(
            "red_activities <@ ARRAY[1,2,3,4,5,6,7,8]::smallint[]", name="red_activities"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    domain: Mapped[str] = mapped_column(String(253), nullable=False, unique=True)
    switchboard_number: Mapped[str | None] = mapped_column(String(16))
    customer_service_number: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2), nullable=False, server_default="fi")
    # Which activities are "red" (not reachable) in this organisation.
    red_activities: Mapped[list[int]] = mapped_column(
        ARRAY(SmallInteger), nullable=False, server_default=text("'{2,3,4,5,6}'")
    )
    time_zone: Mapped[str] = mapped_column(Text, nullable=False, server_default="Europe/Helsinki")
    # Voicemail limits, as the operator's own voicemail sets them.
    vm_max_message_seconds: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default="180"
    )
    vm_max_messages: Mapped[int] = mapped_column(Integer, nullable=False, server_default="100")
    vm_keep_unheard_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="28")
    vm_keep_heard_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="29")
    # Toll-fraud guard (vipcall.presence.forwarding.DialPolicy): where the service may send a
    # call on a user's behalf. allowed_countries NULL: any country; denied_prefixes: E.164
    # prefixes never called.
    allowed_countries: Mapped[list[str] | None] = mapped_column(ARRAY(String(2)))
    denied_prefixes: Mapped[list[str]] = mapped_column(
        ARRAY(String(16)), nullable=False, server_default="{}"
    )
    created_at: Mapped[datetime] = _created_at()

    users: Mapped[list[User]] = relationship(back_populates="organization")

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.domain}>"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"activity BETWEEN {ACTIVITY_MIN} AND {ACTIVITY_MAX}", name="activity"),
        CheckConstraint(f"role BETWEEN {ROLE_MIN} AND {ROLE_MAX}", name="role"),
        CheckConstraint(
            "landline_number IS NULL OR landline_number <> mobile_number", name="distinct_numbers"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # fi<mobile national digits>@<domain>, e.g. fi0401234567@taipalsaari.fi
    username: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(Text, nullable=False)
    mobile_number: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    landline_number: Mapped[str | None] = mapped_column(String(16), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(Text)  # argon2id (argon2-cffi)
    is_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    # Manually set activity (see module docstring for scheduled activities).
    activity: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="1")
    role: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="1")
    activity_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    created_at: Mapped[datetime] = _created_at()

    organization: Mapped[Organization] = relationship(back_populates="users")
    softphones: Mapped[list[Softphone]] = relationship(
        back_populates="user", order_by="Softphone.seq", cascade="all, delete-orphan"
    )
    forwardings: Mapped[list[Forwarding]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    scheduled_activities: Mapped[list[ScheduledActivity]] = relationship(
        back_populates="user", order_by="ScheduledActivity.starts_at", cascade="all, delete-orphan"
    )
    voicemail_settings: Mapped[VoicemailSettings | None] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    mailbox: Mapped[Mailbox | None] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}>"


class ScheduledActivity(Base):
    __tablename__ = "scheduled_activities"
    __table_args__ = (
        CheckConstraint(f"activity BETWEEN {ACTIVITY_MIN} AND {ACTIVITY_MAX}", name="activity"),
        CheckConstraint("ends_at > starts_at", name="period"),
        Index(None, "user_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    activity: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = _created_at()

    user: Mapped[User] = relationship(back_populates="scheduled_activities")


class Forwarding(Base):
    """Immediate forwarding (``kind='immediate'``, at most one per user) or activity-bound
    forwarding (``kind='activity'``, at most one per user and activity)."""

    __tablename__ = "forwardings"
    __table_args__ = (
        CheckConstraint(_in("kind", FORWARDING_KINDS), name="kind"),
        CheckConstraint(
            "(kind = 'immediate' AND activity IS NULL) OR "
            f"(kind = 'activity' AND activity BETWEEN {ACTIVITY_MIN} AND {ACTIVITY_MAX})",
            name="activity",
        ),
        Index(
            "uq_forwardings_immediate",
            "user_id",
            unique=True,
            postgresql_where=text("kind = 'immediate'"),
        ),
        Index(
            "uq_forwardings_activity",
            "user_id",
            "activity",
            unique=True,
            postgresql_where=text("kind = 'activity'"),
        ),
        # Every forwarding of one user (routing reads them per user; migration 0008).
        Index(None, "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    activity: Mapped[int | None] = mapped_column(SmallInteger)
    target: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = _created_at()

    user: Mapped[User] = relationship(back_populates="forwardings")


class Contact(Base):
    """Organisation directory entry (``owner_user_id`` NULL) or a user's personal contact."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index(None, "organization_id", "number"),
        Index(None, "owner_user_id", "number"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text, nullable=False)
    number: Mapped[str] = mapped_column(String(16), nullable=False)
    is_vip: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[datetime] = _created_at()


class VipColleague(Base):
    """A user marks another user of the organisation's directory as VIP (internal contact):
    calls from any of the colleague's numbers bypass the user's absence notice."""

    __tablename__ = "vip_colleagues"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    colleague_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = _created_at()


class StoppedCall(Base):
    """A call to a user that the absence notice or the red-landline rule kept from ringing:
    what "repeat caller breaks through" counts."""

    __tablename__ = "stopped_calls"
    __table_args__ = (Index(None, "user_id", "caller_number", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    caller_number: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class Group(Base):
    """A group of users. ``kind``: ``no_voicemail`` (members never get voicemail),
    ``service`` (members of a service number), ``custom``; later issues may add kinds."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, server_default="custom")
    created_at: Mapped[datetime] = _created_at()

    members: Mapped[list[GroupMember]] = relationship(cascade="all, delete-orphan")


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ServiceNumber(Base):
    __tablename__ = "service_numbers"
    __table_args__ = (
        CheckConstraint(_in("kind", SERVICE_NUMBER_KINDS), name="kind"),
        CheckConstraint(_in("strategy", SERVICE_NUMBER_STRATEGIES), name="strategy"),
        CheckConstraint(_in("overflow_kind", SERVICE_NUMBER_OVERFLOWS), name="overflow_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    number: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _created_at()
    # 0003: how calls are offered to the members (vipcall.servicenumbers.rules)
    strategy: Mapped[str] = mapped_column(String(16), nullable=False, server_default="ring_all")
    member_ring_seconds: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default="20"
    )
    max_wait_seconds: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, server_default="120"
    )
    overflow_kind: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default="announcement"
    )
    overflow_target: Mapped[str | None] = mapped_column(Text)
    """A number (E.164) for ``number``, a user id for ``voicemail``, a prompt id (or none:
    the default) for ``announcement``."""
    announce_position: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")

    members: Mapped[list[ServiceNumberMember]] = relationship(cascade="all, delete-orphan")


class ServiceNumberMember(Base):
    __tablename__ = "service_number_members"

    service_number_id: Mapped[int] = mapped_column(
        ForeignKey("service_numbers.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    logged_in: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    logged_in_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    last_call_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the member's last call through the service number ended (longest idle)."""


class ServiceNumberCall(Base):
    """A call to a service number in the app's hands: waiting for a member, being offered
    to members, or connected to one. Kept here (not only in the app's memory) so a waiting
    caller survives an app restart and any node's app can take it over."""

    __tablename__ = "service_number_calls"
    __table_args__ = (CheckConstraint(_in("state", QUEUE_CALL_STATES), name="state"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    service_number_id: Mapped[int] = mapped_column(
        ForeignKey("service_numbers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    channel_id: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    node: Mapped[str] = mapped_column(Text, nullable=False)
    """The Asterisk node and ARI app holding the caller's channel (``<node>/<app>``)."""
    caller_number: Mapped[str | None] = mapped_column(String(32))
    entered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="waiting")
    offered_to: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), nullable=False, server_default=text("'{}'")
    )
    """Members whose phones ring for this call now (busy for other queue calls)."""
    member_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """The member the caller is connected to."""
    member_channel_id: Mapped[str | None] = mapped_column(Text)
    bridge_id: Mapped[str | None] = mapped_column(Text)


class VoicemailSettings(Base):
    __tablename__ = "voicemail_settings"
    __table_args__ = (
        CheckConstraint(_in("greeting_mode", GREETING_MODES), name="greeting_mode"),
        CheckConstraint(_in("notify_by", NOTIFY_BY), name="notify_by"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    greeting_mode: Mapped[str] = mapped_column(String(16), nullable=False, server_default="default")
    announce_activity: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    offer_transfer: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    transfer_target: Mapped[str | None] = mapped_column(String(16))
    offer_bypass: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    notify_by: Mapped[str] = mapped_column(String(8), nullable=False, server_default="sms")
    announce_end_time: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    # Absence notice key 1: "connect to customer service".
    offer_customer_service: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )
    customer_service_number: Mapped[str | None] = mapped_column(String(16))
    # A scheduled red activity alone switches the absence notice on (without role 5).
    notice_on_scheduled_red: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )
    repeat_breakthrough: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )
    repeat_calls: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="3")
    repeat_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="10")
    pin_hash: Mapped[str | None] = mapped_column(Text)  # argon2id
    greeting_audio: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    name_audio: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

    user: Mapped[User] = relationship(back_populates="voicemail_settings")


class Softphone(Base):
    """A SIP softphone of a user. ``sip_username`` is also the Asterisk endpoint id,
    ``sp-<user_id>-<seq>`` (design contract); the password is kept in clear because it is
    pushed to Asterisk as a PJSIP auth object."""

    __tablename__ = "softphones"
    __table_args__ = (UniqueConstraint("user_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    seq: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    sip_username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    sip_password: Mapped[str] = mapped_column(String(128), nullable=False)
    label: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()

    user: Mapped[User] = relationship(back_populates="softphones")

    @property
    def endpoint_id(self) -> str:
        return self.sip_username


class Mailbox(Base):
    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    created_at: Mapped[datetime] = _created_at()

    user: Mapped[User] = relationship(back_populates="mailbox")
    messages: Mapped[list[VoicemailMessage]] = relationship(
        back_populates="mailbox",
        order_by="VoicemailMessage.created_at",
        cascade="all, delete-orphan",
    )


class VoicemailMessage(Base):
    __tablename__ = "voicemail_messages"
    __table_args__ = (
        Index(None, "mailbox_id", "created_at"),
        CheckConstraint("duration_ms IS NULL OR duration_ms >= 0", name="duration"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="CASCADE"), nullable=False
    )
    caller_number: Mapped[str | None] = mapped_column(String(32))
    called_number: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[datetime] = _created_at()
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # Deferred: listing messages must not pull the audio.
    audio: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    audio_format: Mapped[str] = mapped_column(String(8), nullable=False, server_default="wav")
    heard: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    heard_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    saved: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")

    mailbox: Mapped[Mailbox] = relationship(back_populates="messages")


class Notice(Base):
    """A new-message notice to send (SMS or email): a durable queue, retried with backoff.
    Sending never holds up the message itself."""

    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint(_in("channel", NOTICE_CHANNELS), name="channel"),
        CheckConstraint(_in("state", NOTICE_STATES), name="state"),
        Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("voicemail_messages.id", ondelete="CASCADE"), nullable=False, index=True
    )
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    recipient: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(8), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MailboxLoginFailure(Base):
    """A wrong PIN at the listening number (logged, counted, three in a row hang up)."""

    __tablename__ = "mailbox_login_failures"
    __table_args__ = (Index(None, "user_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    caller_number: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class WebSession(Base):
    """A logged-in browser: the cookie holds a random token, the table its SHA-256 (a stolen
    table opens no session). Idle sessions expire; logout deletes the row."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index(None, "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = _created_at()
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    client_addr: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token for the softphone/mobile apps (shown once; only its SHA-256 is kept)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    label: Mapped[str] = mapped_column(Text, nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = _created_at()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PasswordCode(Base):
    """A one-time code sent by email/SMS to set a new password: expires, single use, a few
    wrong tries at most."""

    __tablename__ = "password_codes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_hash: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wrong_tries: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class AuthEvent(Base):
    """Logged authentication events (failed logins, codes sent and failed, passwords set):
    the audit trail and the counts the rate limits are taken from."""

    __tablename__ = "auth_events"
    __table_args__ = (Index(None, "kind", "at"), Index(None, "client_addr", "at"))

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    username: Mapped[str | None] = mapped_column(String(320))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    client_addr: Mapped[str | None] = mapped_column(String(64))


# -- call history (issue 9) ------------------------------------------------------------
from vipcall.history.rules import Route  # noqa: E402

CALL_ROUTES = tuple(r.value for r in Route)


class CallRecord(Base):
    """One call as vipcall routed it (the call history): noted by the app once the decision
    is carried out, ended by the app (a call it kept) or by the dialplan's report
    (``[vipcall-ended]``, a call handed off to ring). Keyed by the Asterisk channel id of
    the call's first leg, so the notes of one call, in any order, make one row.
    ``ended_at`` NULL: the end was never reported (the app was away)."""

    __tablename__ = "call_records"
    __table_args__ = (
        CheckConstraint(_in("route", CALL_ROUTES), name="route"),
        Index(None, "caller_user_id", "started_at"),
        Index(None, "callee_user_id", "started_at"),
        Index(None, "caller_org_id", "started_at"),
        Index(None, "callee_org_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    channel_id: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When a person answered (talk started); NULL: nobody did."""
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    route: Mapped[str] = mapped_column(String(16), nullable=False)
    caller_number: Mapped[str | None] = mapped_column(String(32))
    called_number: Mapped[str | None] = mapped_column(String(32))
    caller_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    callee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The parties' organisations when the call was made (admins' totals outlive users).
    caller_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    callee_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    service_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_numbers.id", ondelete="SET NULL")
    )
    dial_status: Mapped[str | None] = mapped_column(String(16))
