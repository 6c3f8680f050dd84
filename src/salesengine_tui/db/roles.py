"""The database roles SalesEngine runs as, and how a transaction takes one.

Who acts is PostgreSQL's knowledge (revision 0021): a person connects as their own role, or
through the gateway role, which may only `SET ROLE` to a person; the jobs run as
`salesengine_jobs`. Row-level security decides every row by the role in force, so each
transaction the app begins takes its role first (`act_as`): `SET LOCAL`, which ends with the
transaction and so works through PgBouncer's transaction pooling too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import psycopg
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

JOBS_ROLE = "salesengine_jobs"
GATEWAY_ROLE = "salesengine_gateway"

ConnectionKind = Literal["owner", "gateway", "person", "jobs", "other"]


@dataclass(frozen=True)
class Connected:
    """Who the engine's connections log in as, and what that lets them be."""

    role: str
    kind: ConnectionKind
    # A person's own role: whose it is (their login).
    login: str | None = None


_TAKE = text(
    "SELECT set_config('role', :role, true), set_config('salesengine.origin', :origin, true)"
)
_ORIGIN = text("SELECT set_config('salesengine.origin', :origin, true)")


def act_as(session: Session, role: str | None, origin: str | None) -> None:
    """Every transaction `session` begins runs as `role` (None: the connection's own) and
    tells the audit trail where the action comes from (`origin`)."""
    if role is None and origin is None:
        return

    @event.listens_for(session, "after_begin")
    def _begin(_session: Session, _transaction: object, connection: Connection) -> None:
        if role is None:
            connection.execute(_ORIGIN, {"origin": origin or ""})
        else:
            connection.execute(_TAKE, {"role": role, "origin": origin or ""})


_WHO = text(
    """
    SELECT session_user AS role,
           r.rolsuper AS superuser,
           session_user = (SELECT tableowner FROM pg_tables
                            WHERE schemaname = current_schema() AND tablename = 'users') AS owner,
           pg_has_role(session_user, :gateway, 'MEMBER') AS gateway,
           pg_has_role(session_user, :jobs, 'MEMBER') AS jobs
      FROM pg_roles r WHERE r.rolname = session_user
    """
)
_PERSON = text("SELECT login FROM users WHERE db_role = session_user AND active")


def who_connected(engine: Engine) -> Connected:
    """What the engine's login role is: the schema's owner (or a superuser: administration,
    and the tests), the gateway, a person's own role, the jobs role, or none of these."""
    with engine.connect() as conn:
        row = conn.execute(_WHO, {"gateway": GATEWAY_ROLE, "jobs": JOBS_ROLE}).one()
        if row.superuser or row.owner:
            return Connected(row.role, "owner")
        if row.gateway:
            return Connected(row.role, "gateway")
        try:
            login = conn.execute(_PERSON).scalar_one_or_none()
        except DBAPIError as exc:
            if not isinstance(exc.orig, psycopg.errors.InsufficientPrivilege):
                raise
            login = None
        if login is not None:
            return Connected(row.role, "person", login)
        return Connected(row.role, "jobs" if row.jobs else "other")
