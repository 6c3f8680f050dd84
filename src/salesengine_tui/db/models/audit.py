"""The audit trail (revision 0021): written only by the database's triggers
(`salesengine_audit()`), read by managers (`activity.audit`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlmodel import Field, SQLModel

from .columns import timestamptz


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.CheckConstraint("op IN ('insert', 'update', 'delete')", name="op"),
        sa.Index("ix_audit_log_at_id", "at", "id"),
        sa.Index("ix_audit_log_table_name_row_id_at", "table_name", "row_id", "at"),
    )

    id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.BigInteger, sa.Identity(always=True), primary_key=True),
    )
    at: datetime | None = Field(default=None, sa_column=timestamptz())  # the transaction's time
    user_id: uuid.UUID | None = Field(default=None, sa_column=sa.Column(sa.Uuid))
    login: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    db_role: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    session_role: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    table_name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    row_id: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    op: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    changes: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB))
    origin: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    client_addr: str | None = Field(default=None, sa_column=sa.Column(INET))
    application_name: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    txid: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
