"""Connecting to a test database directly as one role, with no app code between: how the
row-level security tests ask PostgreSQL itself what each role may write."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import URL

from salesengine_tui.db.roles import GATEWAY_ROLE, JOBS_ROLE

# The group roles are NOLOGIN in production (an administrator gives a login to the role or
# grants it to a login role); the test cluster lets them log in, as the embedded demo does.
_LOGIN_FOR_TESTS = (JOBS_ROLE, GATEWAY_ROLE)


def _conninfo(db_url: URL, role: str) -> str:
    host = db_url.query.get("host") or db_url.host
    return psycopg.conninfo.make_conninfo(
        dbname=db_url.database, user=role, host=host, port=db_url.port or None
    )


def connect_as(db_url: URL, role: str) -> psycopg.Connection:
    """A connection logged in as `role` (trust auth on the test cluster's socket)."""
    if role in _LOGIN_FOR_TESTS:
        admin = _conninfo(db_url, db_url.username or "postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER ROLE "{role}" LOGIN')
    return psycopg.connect(_conninfo(db_url, role))


def role_of(db_url: URL, login: str) -> str:
    """The database role of the SalesEngine user `login`."""
    admin = _conninfo(db_url, db_url.username or "postgres")
    with psycopg.connect(admin) as conn:
        row = conn.execute("SELECT db_role FROM users WHERE login = %s", (login,)).fetchone()
    assert row is not None and row[0], f"{login} has no database role"
    return row[0]


def assert_refused(conn: psycopg.Connection, sql: str, params: Any = None) -> str:
    """PostgreSQL refuses the statement (no privilege, or a row-level security check);
    returns the message. The transaction is rolled back either way."""
    try:
        with pytest.raises(
            (psycopg.errors.InsufficientPrivilege, psycopg.errors.CheckViolation)
        ) as caught:
            conn.execute(sql, params)
    finally:
        conn.rollback()
    return str(caught.value)


def assert_no_rows_changed(conn: psycopg.Connection, sql: str, params: Any = None) -> None:
    """An UPDATE or DELETE that row-level security filters out silently: nothing changed
    (or refused outright, which is as good). Rolled back either way."""
    try:
        cur = conn.execute(sql, params)
        assert cur.rowcount == 0, f"{cur.rowcount} row(s) changed by: {sql}"
    except psycopg.errors.InsufficientPrivilege:
        pass
    finally:
        conn.rollback()
