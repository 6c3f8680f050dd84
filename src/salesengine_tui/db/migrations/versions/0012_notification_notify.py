"""A NOTIFY when a notification is written, so an open app shows it (toast, unread count)
within a second of the writer's commit, whoever the writer is (jobs runner, app, SQL).

Revision ID: 0012_notification_notify
Revises: 0011_dashboard_indexes
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_notification_notify"
down_revision: str | None = "0011_dashboard_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION salesengine_notification_written() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('salesengine_notifications', json_build_object(
                'id', NEW.id, 'user_id', NEW.user_id, 'title', left(NEW.title, 200))::text);
            RETURN NULL;
        END $$;
        CREATE TRIGGER notifications_notify AFTER INSERT ON notifications
            FOR EACH ROW EXECUTE FUNCTION salesengine_notification_written();
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER notifications_notify ON notifications; "
        "DROP FUNCTION salesengine_notification_written();"
    )
