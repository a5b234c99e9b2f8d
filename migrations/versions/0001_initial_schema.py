"""initial schema

Organisations, users, presence, forwarding, contacts, groups, service numbers,
voicemail settings, softphones, mailboxes and messages.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 15:42:03.617006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("switchboard_number", sa.String(length=16), nullable=True),
        sa.Column("customer_service_number", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=2), server_default="fi", nullable=False),
        sa.Column(
            "red_activities",
            postgresql.ARRAY(sa.SmallInteger()),
            server_default=sa.text("'{2,3,4,5,6}'"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("language IN ('fi', 'en')", name=op.f("ck_organizations_language")),
        sa.CheckConstraint(
            "red_activities <@ ARRAY[1,2,3,4,5,6,7,8]::smallint[]",
            name=op.f("ck_organizations_red_activities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("domain", name=op.f("uq_organizations_domain")),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), server_default="custom", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_groups_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uq_groups_organization_id_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("mobile_number", sa.String(length=16), nullable=False),
        sa.Column("landline_number", sa.String(length=16), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("is_admin", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("activity", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("role", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column(
            "activity_changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("activity BETWEEN 1 AND 8", name=op.f("ck_users_activity")),
        sa.CheckConstraint(
            "landline_number IS NULL OR landline_number <> mobile_number",
            name=op.f("ck_users_distinct_numbers"),
        ),
        sa.CheckConstraint("role BETWEEN 1 AND 5", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_users_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("landline_number", name=op.f("uq_users_landline_number")),
        sa.UniqueConstraint("mobile_number", name=op.f("uq_users_mobile_number")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(op.f("ix_users_organization_id"), "users", ["organization_id"], unique=False)
    op.create_table(
        "contacts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("is_vip", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_contacts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["users.id"],
            name=op.f("fk_contacts_owner_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index(
        op.f("ix_contacts_organization_id_number"),
        "contacts",
        ["organization_id", "number"],
        unique=False,
    )
    op.create_index(
        op.f("ix_contacts_owner_user_id_number"),
        "contacts",
        ["owner_user_id", "number"],
        unique=False,
    )
    op.create_table(
        "forwardings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("activity", sa.SmallInteger(), nullable=True),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'immediate' AND activity IS NULL) OR "
            "(kind = 'activity' AND activity BETWEEN 1 AND 8)",
            name=op.f("ck_forwardings_activity"),
        ),
        sa.CheckConstraint("kind IN ('immediate', 'activity')", name=op.f("ck_forwardings_kind")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_forwardings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forwardings")),
    )
    op.create_index(
        "uq_forwardings_activity",
        "forwardings",
        ["user_id", "activity"],
        unique=True,
        postgresql_where=sa.text("kind = 'activity'"),
    )
    op.create_index(
        "uq_forwardings_immediate",
        "forwardings",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'immediate'"),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_members_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_group_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_group_members")),
    )
    op.create_index(op.f("ix_group_members_user_id"), "group_members", ["user_id"], unique=False)
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mailboxes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("user_id", name=op.f("uq_mailboxes_user_id")),
    )
    op.create_table(
        "scheduled_activities",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("activity", sa.SmallInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "activity BETWEEN 1 AND 8", name=op.f("ck_scheduled_activities_activity")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_scheduled_activities_period")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_scheduled_activities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_activities")),
    )
    op.create_index(
        op.f("ix_scheduled_activities_user_id_ends_at"),
        "scheduled_activities",
        ["user_id", "ends_at"],
        unique=False,
    )
    op.create_table(
        "service_numbers",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('switchboard', 'customer_service', 'group')",
            name=op.f("ck_service_numbers_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_service_numbers_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_service_numbers_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_numbers")),
        sa.UniqueConstraint("number", name=op.f("uq_service_numbers_number")),
    )
    op.create_index(
        op.f("ix_service_numbers_organization_id"),
        "service_numbers",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "softphones",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.SmallInteger(), nullable=False),
        sa.Column("sip_username", sa.String(length=64), nullable=False),
        sa.Column("sip_password", sa.String(length=128), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_softphones_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_softphones")),
        sa.UniqueConstraint("sip_username", name=op.f("uq_softphones_sip_username")),
        sa.UniqueConstraint("user_id", "seq", name=op.f("uq_softphones_user_id_seq")),
    )
    op.create_table(
        "voicemail_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("greeting_mode", sa.String(length=16), server_default="default", nullable=False),
        sa.Column("announce_activity", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("offer_transfer", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("transfer_target", sa.String(length=16), nullable=True),
        sa.Column("offer_bypass", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("notify_by", sa.String(length=8), server_default="sms", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "greeting_mode IN ('default', 'name', 'personal')",
            name=op.f("ck_voicemail_settings_greeting_mode"),
        ),
        sa.CheckConstraint(
            "notify_by IN ('sms', 'email', 'both', 'none')",
            name=op.f("ck_voicemail_settings_notify_by"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_voicemail_settings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_voicemail_settings")),
    )
    op.create_table(
        "service_number_members",
        sa.Column("service_number_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("logged_in", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "logged_in_changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["service_number_id"],
            ["service_numbers.id"],
            name=op.f("fk_service_number_members_service_number_id_service_numbers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_service_number_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "service_number_id", "user_id", name=op.f("pk_service_number_members")
        ),
    )
    op.create_index(
        op.f("ix_service_number_members_user_id"),
        "service_number_members",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "voicemail_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("caller_number", sa.String(length=32), nullable=True),
        sa.Column("called_number", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("audio", sa.LargeBinary(), nullable=True),
        sa.Column("audio_format", sa.String(length=8), server_default="wav", nullable=False),
        sa.Column("heard", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.CheckConstraint(
            "duration_ms IS NULL OR duration_ms >= 0", name=op.f("ck_voicemail_messages_duration")
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_voicemail_messages_mailbox_id_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemail_messages")),
    )
    op.create_index(
        op.f("ix_voicemail_messages_mailbox_id_created_at"),
        "voicemail_messages",
        ["mailbox_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_voicemail_messages_mailbox_id_created_at"), table_name="voicemail_messages"
    )
    op.drop_table("voicemail_messages")
    op.drop_index(op.f("ix_service_number_members_user_id"), table_name="service_number_members")
    op.drop_table("service_number_members")
    op.drop_table("voicemail_settings")
    op.drop_table("softphones")
    op.drop_index(op.f("ix_service_numbers_organization_id"), table_name="service_numbers")
    op.drop_table("service_numbers")
    op.drop_index(
        op.f("ix_scheduled_activities_user_id_ends_at"), table_name="scheduled_activities"
    )
    op.drop_table("scheduled_activities")
    op.drop_table("mailboxes")
    op.drop_index(op.f("ix_group_members_user_id"), table_name="group_members")
    op.drop_table("group_members")
    op.drop_index(
        "uq_forwardings_immediate",
        table_name="forwardings",
        postgresql_where=sa.text("kind = 'immediate'"),
    )
    op.drop_index(
        "uq_forwardings_activity",
        table_name="forwardings",
        postgresql_where=sa.text("kind = 'activity'"),
    )
    op.drop_table("forwardings")
    op.drop_index(op.f("ix_contacts_owner_user_id_number"), table_name="contacts")
    op.drop_index(op.f("ix_contacts_organization_id_number"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_index(op.f("ix_users_organization_id"), table_name="users")
    op.drop_table("users")
    op.drop_table("groups")
    op.drop_table("organizations")
