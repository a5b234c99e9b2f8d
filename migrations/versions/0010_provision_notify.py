"""provision notify: a change of what the app pushes into Asterisk (softphones; users'
numbers, which key the fail-open map) notifies 'vipcall_provision', so the call app pushes
it at once instead of at its next periodic sync (vipcall.service.provisioning)

Statement-level triggers, no payload: the app diffs everything it pushes, and PostgreSQL
delivers one notification per transaction for equal payloads.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: vipcall.service.provisioning.CHANNEL
CHANNEL = "vipcall_provision"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION vipcall_provision_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER softphones_provision_notify
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON softphones FOR EACH STATEMENT
        EXECUTE FUNCTION vipcall_provision_notify()
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_provision_notify
        AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF mobile_number, landline_number
        ON users FOR EACH STATEMENT
        EXECUTE FUNCTION vipcall_provision_notify()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_provision_notify ON users")
    op.execute("DROP TRIGGER softphones_provision_notify ON softphones")
    op.execute("DROP FUNCTION vipcall_provision_notify()")
