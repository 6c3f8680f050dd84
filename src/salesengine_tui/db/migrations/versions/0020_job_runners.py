"""Jobs runners on several machines: each runner registered by name with its heartbeat, the
runner that did each job run, and leases for jobs whose work spans transactions (the
suppression pull held a session advisory lock, which PgBouncer's transaction mode forbids).

Revision ID: 0020_job_runners
Revises: 0019_outreach_events
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_job_runners"
down_revision: str | None = "0019_outreach_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runners",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("jobs", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_job_runners"),
    )
    op.create_table(
        "job_leases",
        sa.Column("job", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", name="pk_job_leases"),
    )
    op.add_column("job_runs", sa.Column("runner", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("job_runs", "runner")
    op.drop_table("job_leases")
    op.drop_table("job_runners")
