"""presence notify: PostgreSQL tells listeners (the web process's live pages) whose
activity or role may have changed, whatever path changed it (a feature code by phone, the
activity number, the CLI, the web, a scheduled activity added or removed)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The channel the web process LISTENs on (vipcall.web.live.CHANNEL); payload: user id.
CHANNEL = "vipcall_presence"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION vipcall_presence_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM pg_notify('{CHANNEL}', OLD.user_id::text);
            ELSIF TG_TABLE_NAME = 'users' THEN
                PERFORM pg_notify('{CHANNEL}', NEW.id::text);
            ELSE
                PERFORM pg_notify('{CHANNEL}', NEW.user_id::text);
                IF TG_OP = 'UPDATE' AND OLD.user_id <> NEW.user_id THEN
                    PERFORM pg_notify('{CHANNEL}', OLD.user_id::text);
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_presence_notify
        AFTER UPDATE OF activity, role ON users FOR EACH ROW
        WHEN (OLD.activity IS DISTINCT FROM NEW.activity OR OLD.role IS DISTINCT FROM NEW.role)
        EXECUTE FUNCTION vipcall_presence_notify()
        """
    )
    op.execute(
        """
        CREATE TRIGGER scheduled_activities_presence_notify
        AFTER INSERT OR UPDATE OR DELETE ON scheduled_activities FOR EACH ROW
        EXECUTE FUNCTION vipcall_presence_notify()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER scheduled_activities_presence_notify ON scheduled_activities")
    op.execute("DROP TRIGGER users_presence_notify ON users")
    op.execute("DROP FUNCTION vipcall_presence_notify()")
