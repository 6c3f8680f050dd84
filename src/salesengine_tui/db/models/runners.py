"""The jobs runners sharing one database: each registered by name with its heartbeat, and the
leases a job takes when its work spans several transactions (a pull that calls providers)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .columns import timestamptz


class JobRunner(SQLModel, table=True):
    """One `salesengine-jobs run` process per name: registered at start, `seen_at` renewed by
    its heartbeat, `stopped_at` set on a clean exit."""

    __tablename__ = "job_runners"

    name: str = Field(sa_column=sa.Column(sa.Text, primary_key=True, nullable=False))
    host: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # the machine's host name
    pid: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    version: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    jobs: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # what it schedules
    started_at: datetime = Field(sa_column=timestamptz(now_default=False))
    seen_at: datetime = Field(sa_column=timestamptz(now_default=False))
    stopped_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )


class JobLease(SQLModel, table=True):
    """A job held by one runner until `expires_at` (renewed while it works, deleted when it
    ends): a lock that spans transactions without a session (PgBouncer's transaction mode
    has no session advisory locks), and that a holder which died lets go of by itself."""

    __tablename__ = "job_leases"

    job: str = Field(sa_column=sa.Column(sa.Text, primary_key=True, nullable=False))
    holder: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    expires_at: datetime = Field(sa_column=timestamptz(now_default=False))
