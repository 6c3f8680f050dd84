"""Fixtures: one real PostgreSQL (the embedded wheel) per test session, a migrated template
database, and a fresh clone of it for every test (CREATE DATABASE ... TEMPLATE is fast)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import Desk, seed_desk
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlmodel import Session

from salesengine_tui.clock import FixedClock
from salesengine_tui.db import migrate
from salesengine_tui.db.engine import make_engine
from salesengine_tui.db.scratch import ScratchCluster, scratch_cluster

# Tests never read the developer's own config file or data folder.
os.environ["SALESENGINE_CONFIG_FILE"] = str(Path(__file__).with_name("test-config.toml"))
os.environ.pop("SALESENGINE_DATABASE_URL", None)
os.environ.pop("SALESENGINE_USER", None)

TEMPLATE = "se_template"
FIXED_NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchCluster]:
    with scratch_cluster(tmp_path_factory.mktemp("pg")) as cluster:
        template_engine = make_engine(cluster.url(cluster.create(name=TEMPLATE)))
        migrate.upgrade(template_engine)
        # A template must have no open connections when it is cloned.
        template_engine.dispose()
        yield cluster


@pytest.fixture
def db_url(pg_cluster: ScratchCluster) -> Iterator[URL]:
    """A fresh, migrated database holding only the default pipelines and the system user."""
    name = pg_cluster.create(template=TEMPLATE)
    yield pg_cluster.url(name)
    pg_cluster.drop(name)


@pytest.fixture
def empty_db_url(pg_cluster: ScratchCluster) -> Iterator[URL]:
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
def desk(engine: Engine) -> Desk:
    """The small fixed sales desk of `factories.seed_desk`, committed."""
    with Session(engine, expire_on_commit=False) as session:
        seeded = seed_desk(session)
        session.commit()
    return seeded


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FIXED_NOW)
