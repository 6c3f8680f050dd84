"""Column factories: each call returns a new Column (SQLAlchemy columns belong to one table)."""

from __future__ import annotations

import sqlalchemy as sa


def uuid_pk() -> sa.Column:
    return sa.Column(
        sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()"), nullable=False
    )


def timestamptz(*, nullable: bool = False, now_default: bool = True) -> sa.Column:
    return sa.Column(
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=sa.func.now() if now_default else None,
    )


def fk(target: str, *, ondelete: str, nullable: bool = True, index: bool = False) -> sa.Column:
    return sa.Column(
        sa.Uuid, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
    )
