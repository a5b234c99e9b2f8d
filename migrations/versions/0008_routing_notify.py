"""routing notify, and an index of forwardings by user: every row change of a table the routing snapshot reads notifies
'vipcall_routing', so the call app's state held in memory (vipcall.store.routing_cache)
re-reads what changed, whatever path changed it

Payloads: u<user id> (that user's facts, and the users who have them as VIP colleague),
o<organisation id>, g<group id> (a group's kind), n (service numbers), s<row id> <user id>
<microseconds since 1970> <caller> (one call the absence notice stopped, applied as is).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: vipcall.store.routing_cache.CHANNEL
CHANNEL = "vipcall_routing"

#: Tables whose rows belong to one user (column naming the user).
PER_USER = {
    "scheduled_activities": "user_id",
    "forwardings": "user_id",
    "softphones": "user_id",
    "voicemail_settings": "user_id",
    "group_members": "user_id",
    "vip_colleagues": "user_id",
    "contacts": "owner_user_id",
}


def upgrade() -> None:
    # Routing reads a user's forwardings by user (per call, and for every user when the call
    # app loads its state): without this, a scan of the whole table per user.
    op.create_index(op.f("ix_forwardings_user_id"), "forwardings", ["user_id"])
    for table, column in PER_USER.items():
        op.execute(
            f"""
            CREATE FUNCTION vipcall_routing_{table}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' AND OLD.{column} IS NOT NULL THEN
                    PERFORM pg_notify('{CHANNEL}', 'u' || OLD.{column});
                END IF;
                IF TG_OP <> 'DELETE' AND NEW.{column} IS NOT NULL THEN
                    PERFORM pg_notify('{CHANNEL}', 'u' || NEW.{column});
                END IF;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            f"""
            CREATE TRIGGER {table}_routing_notify
            AFTER INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW
            EXECUTE FUNCTION vipcall_routing_{table}()
            """
        )
    op.execute(
        f"""
        CREATE FUNCTION vipcall_routing_users() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('{CHANNEL}', 'u' || OLD.id);
            ELSIF TG_OP = 'INSERT' OR (OLD.mobile_number, OLD.landline_number, OLD.role,
                    OLD.activity, OLD.organization_id)
                  IS DISTINCT FROM (NEW.mobile_number, NEW.landline_number, NEW.role,
                    NEW.activity, NEW.organization_id) THEN
                PERFORM pg_notify('{CHANNEL}', 'u' || NEW.id);
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_routing_notify
        AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW
        EXECUTE FUNCTION vipcall_routing_users()
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION vipcall_routing_organizations() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', 'o' || NEW.id);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER organizations_routing_notify
        AFTER UPDATE ON organizations FOR EACH ROW
        WHEN ((OLD.switchboard_number, OLD.red_activities, OLD.language,
               OLD.allowed_countries, OLD.denied_prefixes)
              IS DISTINCT FROM (NEW.switchboard_number, NEW.red_activities, NEW.language,
               NEW.allowed_countries, NEW.denied_prefixes))
        EXECUTE FUNCTION vipcall_routing_organizations()
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION vipcall_routing_groups() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', 'g' || NEW.id);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER groups_routing_notify
        AFTER UPDATE OF kind ON groups FOR EACH ROW
        WHEN (OLD.kind IS DISTINCT FROM NEW.kind)
        EXECUTE FUNCTION vipcall_routing_groups()
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION vipcall_routing_service_numbers() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', 'n');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER service_numbers_routing_notify
        AFTER INSERT OR DELETE OR UPDATE OF number ON service_numbers FOR EACH ROW
        EXECUTE FUNCTION vipcall_routing_service_numbers()
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION vipcall_routing_stopped_calls() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', 's' || NEW.id || ' ' || NEW.user_id || ' '
                || floor(extract(epoch FROM NEW.at) * 1000000)::bigint || ' '
                || NEW.caller_number);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER stopped_calls_routing_notify
        AFTER INSERT OR UPDATE ON stopped_calls FOR EACH ROW
        EXECUTE FUNCTION vipcall_routing_stopped_calls()
        """
    )


def downgrade() -> None:
    for table in ("users", "organizations", "groups", "service_numbers", "stopped_calls"):
        op.execute(f"DROP TRIGGER {table}_routing_notify ON {table}")
        op.execute(f"DROP FUNCTION vipcall_routing_{table}()")
    for table in PER_USER:
        op.execute(f"DROP TRIGGER {table}_routing_notify ON {table}")
        op.execute(f"DROP FUNCTION vipcall_routing_{table}()")
    op.drop_index(op.f("ix_forwardings_user_id"), table_name="forwardings")
