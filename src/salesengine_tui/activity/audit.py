"""The audit trail: what persons and the jobs changed, as the database recorded it.

PostgreSQL writes `audit_log` itself (revision 0021, `80_audit.sql`): statement-level
triggers on the tables people change record who acted (their role and login), when, what
(an insert's new row, an update's changed columns as `[old, new]`, a delete's old row) and
from where (the origin the app set, the client's address, its application name). No client
can skip it or write it; managers read it. Administration (the schema's owner, a superuser:
migrations, the demo's seed) is not recorded.

Here: reading it, managers only. PostgreSQL's policy is the backstop; this check gives the
clear message.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlmodel import Session

from ..access.users import Actor
from ..base.errors import PermissionDenied, UserError
from ..db.models import UserRole

# The tables the triggers watch (the list in 80_audit.sql).
AUDITED = (
    "users",
    "customers",
    "equipment",
    "tickets",
    "estimates",
    "deal_pipelines",
    "deal_stages",
    "customer_interactions",
    "tasks",
    "segments",
    "blasts",
)
LIMIT = 100
MAX_LIMIT = 10_000
# Columns every row has and nobody reads in a summary of an insert or a delete.
_QUIET = frozenset({"id", "created_at", "updated_at", "version"})

AUDIT_LOG = sa.table(
    "audit_log",
    sa.column("id", sa.BigInteger),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("user_id", sa.Uuid),
    sa.column("login", sa.Text),
    sa.column("db_role", sa.Text),
    sa.column("session_role", sa.Text),
    sa.column("table_name", sa.Text),
    sa.column("row_id", sa.Text),
    sa.column("op", sa.Text),
    sa.column("changes", JSONB),
    sa.column("origin", sa.Text),
    sa.column("client_addr", INET),
    sa.column("application_name", sa.Text),
    sa.column("txid", sa.BigInteger),
)


@dataclass(frozen=True)
class Entry:
    """One changed row. `changes`: an insert's or a delete's whole row; an update's changed
    columns, each as `[old, new]` (values as JSON: text, numbers, booleans, None)."""

    id: int
    at: datetime
    user_id: uuid.UUID | None  # None: the jobs (or a role that is no user's)
    login: str | None
    db_role: str  # the role that acted
    session_role: str  # the role that logged in: the person's own, or the gateway
    table: str
    row_id: str | None
    op: str  # 'insert' | 'update' | 'delete'
    changes: dict[str, Any]
    origin: str | None  # what the app said: "ssh key SHA256:... from 10.0.0.5"
    client_addr: str | None  # None over a unix socket
    application_name: str | None
    txid: int | None

    @property
    def who(self) -> str:
        """The login, or the role for the jobs; `via` the gateway when it was one."""
        who = self.login or self.db_role
        return who if self.session_role == self.db_role else f"{who} via {self.session_role}"

    @property
    def where(self) -> str:
        """Where from: the origin the app gave, the client's address (a unix socket has
        none), the program's name."""
        parts = (self.origin, self.client_addr or "local socket", self.application_name)
        return ", ".join(p for p in parts if p)

    def summary(self, *, cut: int | None = None) -> str:
        """What changed, on one line: `stage_id: a → b; version: 1 → 2`, or an insert's or
        delete's columns (`new: name=Hank Hill, status=lead`); each value cut to `cut`
        characters ("…") where given."""
        if self.op == "update":
            return "; ".join(
                f"{col}: {_value(pair[0], cut)} → {_value(pair[1], cut)}"
                for col, pair in sorted(self.changes.items())
                if isinstance(pair, list) and len(pair) == 2
            )
        shown = ", ".join(
            f"{col}={_value(value, cut)}"
            for col, value in sorted(self.changes.items())
            if value is not None and col not in _QUIET
        )
        return f"{'new' if self.op == 'insert' else 'removed'}: {shown}"


def _value(value: object, cut: int | None) -> str:
    if value is None:
        text = "—"
    else:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if cut is None or len(text) <= cut else text[: cut - 1] + "…"


def require_reader(actor: Actor) -> None:
    """Only managers read the audit trail (PostgreSQL shows nobody else a row of it)."""
    if actor.role != UserRole.manager:
        raise PermissionDenied(
            f"only managers may read the audit trail; {actor.name} ({actor.login}) is a "
            f"{UserRole(actor.role).value}"
        )


def recent(
    session: Session,
    actor: Actor,
    *,
    table: str | None = None,
    login: str | None = None,
    row_id: str | None = None,
    since: datetime | None = None,
    limit: int = LIMIT,
) -> list[Entry]:
    """The newest changes first, at most `limit`: of one table, by one user's login, to one
    row (its id as text), from `since` on."""
    require_reader(actor)
    if table is not None and table not in AUDITED:
        raise UserError(f"{table!r} is not an audited table; they are: {', '.join(AUDITED)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise UserError(f"the limit must be from 1 to {MAX_LIMIT:,}, not {limit:,}")
    log = AUDIT_LOG.c
    stmt = sa.select(
        log.id, log.at, log.user_id, log.login, log.db_role, log.session_role, log.table_name,
        log.row_id, log.op, log.changes, log.origin, log.client_addr, log.application_name,
        log.txid,
    ).order_by(log.at.desc(), log.id.desc()).limit(limit)  # fmt: skip
    if table is not None:
        stmt = stmt.where(log.table_name == table)
    if login is not None:
        stmt = stmt.where(log.login == login)
    if row_id is not None:
        stmt = stmt.where(log.row_id == row_id)
    if since is not None:
        stmt = stmt.where(log.at >= since)
    return [
        Entry(
            id=row.id,
            at=row.at,
            user_id=row.user_id,
            login=row.login,
            db_role=row.db_role,
            session_role=row.session_role,
            table=row.table_name,
            row_id=row.row_id,
            op=row.op,
            changes=row.changes or {},
            origin=row.origin,
            client_addr=None if row.client_addr is None else str(row.client_addr),
            application_name=row.application_name,
            txid=row.txid,
        )
        for row in session.execute(stmt)
    ]
