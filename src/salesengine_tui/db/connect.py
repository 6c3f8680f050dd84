"""From settings to a ready engine: embedded or external server, checked and migrated."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from ..base.settings import Settings
from . import schema_version
from .embedded import start_embedded
from .engine import check_connection, make_engine
from .roles import GATEWAY_ROLE
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
    embedded_role: str | None = GATEWAY_ROLE,
) -> Engine:
    """Connect and make sure the schema is current.

    The embedded database is ours, so it is migrated on the spot (as its superuser), and the
    engine logs in as `embedded_role`: the gateway for the app and its commands, the jobs role
    for the runner, None (the superuser) for seeding. An external server's URL says who logs
    in; it is only checked, and a database behind the code is a clear error
    (`salesengine db upgrade`). Alembic is imported only when there is a migration to run
    (it costs half a second).
    """
    url = resolve_url(settings)
    embedded = is_embedded(settings)
    if embedded:
        _prepare_embedded(url, embedded_role)
        if embedded_role is not None:
            url = url.set(username=embedded_role)
    engine = make_engine(
        url,
        pool_size=settings.pool_size if pool_size is None else pool_size,
        max_overflow=settings.pool_overflow if max_overflow is None else max_overflow,
        application_name=application_name,
    )
    check_connection(engine)
    if embedded:
        return engine
    if not auto_migrate:
        schema_version.require_current(engine)
    elif not schema_version.is_current(engine):
        from . import migrate

        migrate.upgrade(engine)
    return engine


def _prepare_embedded(admin_url: URL, login_as: str | None) -> None:
    """Migrate the embedded database as its superuser, and let `login_as` (the gateway or the
    jobs role, NOLOGIN on a real server) log in: the cluster listens on a socket in the user's
    own data folder only."""
    admin = make_engine(admin_url, pool_size=1, max_overflow=0, application_name="salesengine")
    try:
        check_connection(admin)
        if not schema_version.is_current(admin):
            from . import migrate

            migrate.upgrade(admin)
        if login_as is None:
            return
        with admin.begin() as conn:
            can = conn.execute(
                text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": login_as}
            ).scalar_one()
            if not can:
                conn.exec_driver_sql(f'ALTER ROLE "{login_as}" LOGIN')
    finally:
        admin.dispose()
