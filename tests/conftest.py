"""Fixtures: one real PostgreSQL (the embedded wheel) per test session, a migrated template
database, and a fresh clone of it for every test (CREATE DATABASE ... TEMPLATE is fast)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import sqlalchemy.exc
from factories import Desk, seed_desk
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlmodel import Session

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db import migrate
from salesengine_tui.db.engine import make_engine
from salesengine_tui.db.scratch import ScratchCluster, scratch_cluster

# Tests never read the developer's own config file or data folder.
os.environ["SALESENGINE_CONFIG_FILE"] = str(Path(__file__).with_name("test-config.toml"))
os.environ.pop("SALESENGINE_DATABASE_URL", None)
os.environ.pop("SALESENGINE_USER", None)

TEMPLATE = "se_template"
FIXED_NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
LOG_TAIL_LINES = 40  # of the server's log, shown when it dies mid-run


def _server_gone(cluster: ScratchCluster) -> str | None:
    """Why the session's server cannot serve any more tests, or None while it answers."""
    try:
        with psycopg.connect(cluster.admin_uri, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        return str(exc).strip() or type(exc).__name__
    return None


def _log_tail(pgdata: Path) -> str:
    log = pgdata / "log"
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"(no server log at {log}: {exc.strerror})"
    return f"last lines of {log}:\n" + "\n".join(lines[-LOG_TAIL_LINES:])


@contextmanager
def _server_alive(cluster: ScratchCluster, doing: str) -> Iterator[None]:
    """Stop the whole run when the session's server has died: every later test would only
    error the same way. Checked where each test's database is made and dropped."""
    try:
        yield
    except (psycopg.OperationalError, sqlalchemy.exc.OperationalError):
        gone = _server_gone(cluster)
        if gone is None:
            raise  # the server is up: this failure is the test's own
        pytest.exit(
            f"the test PostgreSQL server died ({doing}: {gone}); {_log_tail(cluster.pgdata)}",
            returncode=3,
        )


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchCluster]:
    folder = tmp_path_factory.mktemp("pg")
    stack = ExitStack()
    try:
        cluster = stack.enter_context(scratch_cluster(folder))
    except Exception as exc:  # the wheel raises bare exceptions
        pytest.exit(
            f"the test PostgreSQL server did not start ({type(exc).__name__}: {exc}); "
            f"{_log_tail(folder / 'pgdata')}",
            returncode=3,
        )
    try:
        with _server_alive(cluster, "migrating the template"):
            template_engine = make_engine(cluster.url(cluster.create(name=TEMPLATE)))
            migrate.upgrade(template_engine)
            # A template must have no open connections when it is cloned.
            template_engine.dispose()
        yield cluster
    finally:
        try:
            stack.close()
        except Exception:
            # A server that died cannot be stopped; its folder stays behind, log and all.
            if _server_gone(cluster) is None:
                raise


def _test_database(cluster: ScratchCluster, template: str | None) -> Iterator[URL]:
    with _server_alive(cluster, "creating a test database"):
        name = cluster.create(template=template)
    yield cluster.url(name)
    with _server_alive(cluster, "dropping a test database"):
        cluster.drop(name)


@pytest.fixture
def db_url(pg_cluster: ScratchCluster) -> Iterator[URL]:
    """A fresh, migrated database holding only the default pipelines and the system user."""
    yield from _test_database(pg_cluster, TEMPLATE)


@pytest.fixture
def empty_db_url(pg_cluster: ScratchCluster) -> Iterator[URL]:
    """A fresh database with no tables at all (for migration tests)."""
    yield from _test_database(pg_cluster, None)


@pytest.fixture
def engine(db_url: URL) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def desk(engine: Engine) -> Desk:
    """The small fixed sales desk of `factories.seed_desk`, committed."""
    with Session(engine, expire_on_commit=False) as session:
        seeded = seed_desk(session)
        session.commit()
    return seeded


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FIXED_NOW)
