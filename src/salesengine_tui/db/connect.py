"""From settings to a ready engine: embedded or external server, checked and migrated."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from ..base.settings import Settings
from . import schema_version
from .embedded import start_embedded
from .engine import check_connection, make_engine
from .urls import parse_database_url


def resolve_url(settings: Settings) -> URL:
    """The configured server, or the embedded one (started or joined) when none is set."""
    if settings.database_url is not None:
        return parse_database_url(settings.database_url.get_secret_value())
    return start_embedded(settings.data_dir)


def is_embedded(settings: Settings) -> bool:
    return settings.database_url is None


def open_engine(
    settings: Settings,
    *,
    auto_migrate: bool = False,
    application_name: str = "salesengine",
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> Engine:
    """Connect and make sure the schema is current.

    The embedded database is ours, so it is migrated on the spot; an external server is
    only checked, and a database behind the code is a clear error (`salesengine db upgrade`).
    Alembic is imported only when there is a migration to run (it costs half a second).
    """
    engine = make_engine(
        resolve_url(settings),
        pool_size=settings.pool_size if pool_size is None else pool_size,
        max_overflow=settings.pool_overflow if max_overflow is None else max_overflow,
        application_name=application_name,
    )
    check_connection(engine)
    if not (auto_migrate or is_embedded(settings)):
        schema_version.require_current(engine)
    elif not schema_version.is_current(engine):
        from . import migrate

        migrate.upgrade(engine)
    return engine
