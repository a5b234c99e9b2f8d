"""mailbox notify: every change of a voicemail message that can change its mailbox's new/old
counts notifies 'vipcall_mailbox' with the owner's user id, so the call app publishes the
message waiting indicator (vipcall.store.mailbox_notify, vipcall.voicemail.mwi) whatever
changed the mailbox: the app's own flows, the web, the CLI, the expiry job, plain SQL

The counts (vipcall.store.listening: new = not heard and not saved, old = heard or saved,
deleted ones not counted) read heard, saved, deleted and the mailbox: an UPDATE notifies
only when one of those changed; an INSERT or DELETE only for a row that is not marked
deleted. A message whose mailbox is gone (the user deleted, by cascade) notifies nothing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: vipcall.store.mailbox_notify.CHANNEL
CHANNEL = "vipcall_mailbox"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION vipcall_mailbox_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            owner integer;
        BEGIN
            IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' AND NOT OLD.deleted THEN
                SELECT user_id INTO owner FROM mailboxes WHERE id = OLD.mailbox_id;
                IF owner IS NOT NULL THEN
                    PERFORM pg_notify('{CHANNEL}', owner::text);
                END IF;
            END IF;
            IF TG_OP = 'INSERT' AND NOT NEW.deleted
               OR TG_OP = 'UPDATE' AND NEW.mailbox_id <> OLD.mailbox_id THEN  -- moved
                SELECT user_id INTO owner FROM mailboxes WHERE id = NEW.mailbox_id;
                IF owner IS NOT NULL THEN
                    PERFORM pg_notify('{CHANNEL}', owner::text);
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER voicemail_messages_mailbox_notify
        AFTER INSERT OR DELETE ON voicemail_messages FOR EACH ROW
        EXECUTE FUNCTION vipcall_mailbox_notify()
        """
    )
    op.execute(
        """
        CREATE TRIGGER voicemail_messages_mailbox_notify_update
        AFTER UPDATE OF heard, saved, deleted, mailbox_id ON voicemail_messages FOR EACH ROW
        WHEN ((OLD.heard, OLD.saved, OLD.deleted, OLD.mailbox_id)
              IS DISTINCT FROM (NEW.heard, NEW.saved, NEW.deleted, NEW.mailbox_id))
        EXECUTE FUNCTION vipcall_mailbox_notify()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER voicemail_messages_mailbox_notify_update ON voicemail_messages")
    op.execute("DROP TRIGGER voicemail_messages_mailbox_notify ON voicemail_messages")
    op.execute("DROP FUNCTION vipcall_mailbox_notify()")
