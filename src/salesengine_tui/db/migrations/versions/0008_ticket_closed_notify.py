"""A NOTIFY when a ticket is closed as "Equipment End of Life", so the jobs runner's upsell
sync wakes at once (its every-minute run stays as the safety net).

Revision ID: 0008_ticket_closed_notify
Revises: 0007_outbox_key_prefix
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_ticket_closed_notify"
down_revision: str | None = "0007_outbox_key_prefix"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION salesengine_ticket_closed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status = 'closed' AND NEW.resolution = 'Equipment End of Life'
               AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'closed') THEN
                PERFORM pg_notify('salesengine_upsell', NEW.id::text);
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER tickets_closed_notify AFTER INSERT OR UPDATE OF status ON tickets
            FOR EACH ROW EXECUTE FUNCTION salesengine_ticket_closed();
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER tickets_closed_notify ON tickets; DROP FUNCTION salesengine_ticket_closed();"
    )
