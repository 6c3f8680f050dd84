"""Database URLs: normalising to the psycopg 3 driver and describing them without secrets."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..base.errors import UserError

_FORM = "postgresql://USER:PASSWORD@HOST:PORT/DBNAME"


def parse_database_url(raw: str) -> URL:
    """Accept any postgresql:// URL (or postgres://) and use the psycopg 3 driver with it."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise UserError(f"the database URL is not a URL; expected {_FORM}") from None
    except ValueError:  # the port is not a number (the text is not echoed: it may hold secrets)
        raise UserError(
            f"the database URL's port is not a number from 1 to 65535; expected {_FORM}"
        ) from None
    if url.port is not None and not 1 <= url.port <= 65535:
        raise UserError(f"the database URL's port {url.port} is not between 1 and 65535")
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
