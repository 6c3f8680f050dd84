"""Database URLs: normalising to the psycopg 3 driver and describing them without secrets."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..base.errors import UserError


def parse_database_url(raw: str) -> URL:
    """Accept any postgresql:// URL (or postgres://) and use the psycopg 3 driver with it."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise UserError(
            "the database URL is not a URL; expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
        ) from None
    backend = url.get_backend_name()
    if backend not in ("postgresql", "postgres"):
        raise UserError(
            f"the database URL must start with postgresql:// (got {backend}://); "
            "SalesEngine runs on PostgreSQL only"
        )
    return url.set(drivername="postgresql+psycopg")


def describe(url: URL) -> str:
    """Where the URL points, for messages: host, port and database, never the password."""
    host = url.host or url.query.get("host") or "local socket"
    if isinstance(host, tuple):
        host = host[0]
    port = f":{url.port}" if url.port else ""
    return f"{host}{port}/{url.database or ''}"


def redact(text: str, url: URL) -> str:
    """Remove the URL's password from a message (drivers sometimes echo the DSN)."""
    if url.password:
        text = text.replace(str(url.password), "***")
    return text
