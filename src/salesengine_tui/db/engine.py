"""Engines and sessions, and turning connection failures into one clear line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from ..base.errors import DatabaseUnavailable
from .urls import describe, redact


def make_engine(
    url: URL,
    *,
    pool_size: int = 1,
    max_overflow: int = 2,
    application_name: str = "salesengine",
) -> Engine:
    """An engine that keeps `pool_size` connections and opens up to `max_overflow` more
    while busy (closed again when returned): the connection budget (see Settings).

    It works through a pooler in transaction mode (PgBouncer, Supabase's pooler): no
    server-side prepared statements (psycopg would prepare a query after its fifth run, and
    the next transaction may land on another server connection), and nothing relied on
    across transactions but what every connection sets alike (the time zone, below)."""
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        connect_args={
            "application_name": application_name,
            "connect_timeout": 5,
            "prepare_threshold": None,
        },
        # Never render the password in reprs or logs.
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _utc(dbapi_conn: psycopg.Connection, _record: object) -> None:
        # Timestamps come back in UTC; display converts to the business time zone.
        with dbapi_conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
        dbapi_conn.commit()

    return engine


def explain_connect_error(exc: BaseException, url: URL) -> str:
    """One line saying what went wrong reaching the database, and how to fix it."""
    where = describe(url)
    text = redact(str(getattr(exc, "orig", exc)), url).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    low = " ".join(text).lower()
    if "password authentication failed" in low or "no password supplied" in low:
        return (
            f"PostgreSQL at {where} refused the login for user '{url.username}': wrong password "
            "or user; check the URL in --database-url / SALESENGINE_DATABASE_URL"
        )
    if "does not exist" in low and "database" in low:
        return f"PostgreSQL at {where}: database '{url.database}' does not exist; create it first"
    if any(
        s in low
        for s in ("connection refused", "could not connect", "timeout", "no such file", "resolve")
    ):
        return (
            f"cannot reach PostgreSQL at {where} ({first.split(':')[-1].strip()}); "
            "is the server running and the host right? Fix --database-url / "
            "SALESENGINE_DATABASE_URL, or leave it unset to use the embedded database"
        )
    return f"cannot use PostgreSQL at {where}: {first}"


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except (OperationalError, psycopg.OperationalError) as exc:
        raise DatabaseUnavailable(explain_connect_error(exc, engine.url)) from None


@contextmanager
def session_scope(
    engine: Engine, *, prepare: Callable[[Session], None] | None = None
) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error. `prepare` is given the
    session before it begins (the role its transactions take: `db.roles.act_as`)."""
    with Session(engine, expire_on_commit=False) as session:
        if prepare is not None:
            prepare(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
