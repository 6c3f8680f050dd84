"""Throwaway PostgreSQL clusters for the test suite and the benchmarks.

One embedded server in a temporary folder; databases are created (optionally as clones of a
migrated template, which is fast) and dropped freely. Not used by the app itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from .embedded import _import_pgserver


@dataclass(frozen=True)
class ScratchCluster:
    admin_uri: str
    pgdata: Path

    def url(self, database: str) -> URL:
        return make_url(self.admin_uri).set(drivername="postgresql+psycopg", database=database)

    def create(
        self, template: str | None = None, *, name: str | None = None, file_copy: bool = False
    ) -> str:
        """A new database (a clone of `template` if given); returns its name. `file_copy` clones
        by copying the files (PostgreSQL 15+) instead of writing every block to the WAL: faster
        for a small template, and no WAL to keep."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                stmt += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
                if file_copy:
                    stmt += sql.SQL(" STRATEGY FILE_COPY")
            conn.execute(stmt)
        return name

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def server_version(self) -> str:
        with psycopg.connect(self.admin_uri) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


@contextmanager
def scratch_cluster(folder: Path) -> Iterator[ScratchCluster]:
    """Start a cluster under `folder`; it is stopped and deleted on exit."""
    server = _import_pgserver().get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        yield ScratchCluster(server.get_uri(), server.pgdata)
    finally:
        server.cleanup()
