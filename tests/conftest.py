"""Fixtures: one real PostgreSQL (the embedded wheel) per test session, a migrated template
database, and a fresh clone of it for every test (CREATE DATABASE ... TEMPLATE is fast).

The server's files live in memory (/dev/shm) when the machine has it: a clone is some 300
files, and on a disk each CREATE DATABASE took about a second, against 0.07 s in memory.

The suite runs on pytest-xdist workers (`-n auto` in pyproject's addopts; `-n0` runs it in one
process). Each worker is its own session: its own server in its own temporary folder, so tests
that change the server (pg_hba.conf, roles, terminated backends) stay as isolated as they were in
one process. The snapshot plugin (syrupy 4.8, pinned by pytest-textual-snapshot) checks for
unused snapshot files only in one process; the hooks at the end of this file do that check across
the workers."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy.exc
from factories import Desk, add_user, app_context, load_desk, seed_desk
from fake_providers import FakeProviders
from psycopg import sql
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlmodel import Session
from syrupy.constants import SNAPSHOT_UNKNOWN_FOSSIL_KEY

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import Settings, load_settings
from salesengine_tui.db import migrate
from salesengine_tui.db.engine import make_engine, session_scope
from salesengine_tui.db.models import UserRole
from salesengine_tui.db.pgbouncer import LocalPgBouncer, find_pgbouncer, local_pgbouncer
from salesengine_tui.db.scratch import ScratchCluster, scratch_cluster
from salesengine_tui.usecases.desk import Desk as UseCaseDesk

# Tests never read the developer's own config file or data folder.
os.environ["SALESENGINE_CONFIG_FILE"] = str(Path(__file__).with_name("test-config.toml"))
os.environ.pop("SALESENGINE_DATABASE_URL", None)
os.environ.pop("SALESENGINE_USER", None)

TEMPLATE = "se_template"
# The template with `factories.seed_desk` seeded: what a test using `desk` starts from (seeding
# each such test's database took a third of a second, the suite's largest fixed cost).
DESK_TEMPLATE = "se_template_desk"
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


# A test server's data is thrown away at the end of the run: it need not survive a crash of the
# machine, so nothing waits for the disk. What a session sees (commits, locks, NOTIFY, what
# another connection reads) is unchanged; DROP DATABASE, run after every test, no longer waits
# on a flush to disk, and neither do commits.
THROWAWAY_DURABILITY = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # In memory, WAL kept for a crash that never matters is RAM: checkpoint often (cheap here).
    "max_wal_size": "64MB",
    "min_wal_size": "32MB",
}
# Where the server's files go when there is room: memory, not a disk (see the module's doc).
MEMORY_FS = Path("/dev/shm")
MEMORY_FS_NEEDED = 2 << 30  # bytes free; a worker's server stays well under 1 GiB


def _throwaway_durability(cluster: ScratchCluster) -> None:
    with psycopg.connect(cluster.admin_uri, autocommit=True) as conn:
        for name, value in THROWAWAY_DURABILITY.items():
            conn.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
        conn.execute("SELECT pg_reload_conf()")


def _server_folder(tmp_path_factory: pytest.TempPathFactory, stack: ExitStack) -> Path:
    """A folder in memory when the machine has one with room, else in pytest's temporary one."""
    try:
        free = shutil.disk_usage(MEMORY_FS).free
        roomy = os.access(MEMORY_FS, os.W_OK) and free > MEMORY_FS_NEEDED
    except OSError:
        roomy = False
    if not roomy:
        return tmp_path_factory.mktemp("pg")
    folder = Path(tempfile.mkdtemp(prefix="salesengine-tests-", dir=MEMORY_FS))
    # Memory is not given back on its own: removed at the end, even after the server died (the
    # tail of its log is in the run's exit message).
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    return folder


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchCluster]:
    stack = ExitStack()
    folder = _server_folder(tmp_path_factory, stack)
    try:
        cluster = stack.enter_context(scratch_cluster(folder))
    except Exception as exc:  # the wheel raises bare exceptions
        pytest.exit(
            f"the test PostgreSQL server did not start ({type(exc).__name__}: {exc}); "
            f"{_log_tail(folder / 'pgdata')}",
            returncode=3,
        )
    try:
        with _server_alive(cluster, "setting up the server"):
            _throwaway_durability(cluster)
        with _server_alive(cluster, "migrating the template"):
            template_engine = make_engine(cluster.url(cluster.create(name=TEMPLATE)))
            migrate.upgrade(template_engine)
            # A template must have no open connections when it is cloned.
            template_engine.dispose()
        with _server_alive(cluster, "seeding the desk template"):
            desk_name = cluster.create(template=TEMPLATE, name=DESK_TEMPLATE, file_copy=True)
            desk_engine = make_engine(cluster.url(desk_name))
            with Session(desk_engine) as session:
                seed_desk(session)
                session.commit()
            desk_engine.dispose()
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
        name = cluster.create(template=template, file_copy=True)
    yield cluster.url(name)
    with _server_alive(cluster, "dropping a test database"):
        cluster.drop(name)


@pytest.fixture
def db_url(pg_cluster: ScratchCluster, request: pytest.FixtureRequest) -> Iterator[URL]:
    """A fresh, migrated database holding only the default pipelines and the system user; for
    a test that uses `desk`, with the desk already seeded (a clone of the seeded template)."""
    seeded = "desk" in request.fixturenames
    yield from _test_database(pg_cluster, DESK_TEMPLATE if seeded else TEMPLATE)


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
    """The small fixed sales desk of `factories.seed_desk`, committed (in the template the
    test's database was cloned from: see `db_url`)."""
    with Session(engine, expire_on_commit=False) as session:
        return load_desk(session)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FIXED_NOW)


# --- snapshots across xdist workers ---------------------------------------------------------
#
# Alone, syrupy fails a run that leaves a snapshot file no test used (a renamed or deleted
# snapshot test). On a worker it skips that check, since each worker runs only part of the
# tests. Each worker sends what its report saw; the controller fails the run for a snapshot
# that some worker found unused and that no worker used or set aside (a skipped test's, one
# outside the tests asked for): what syrupy alone decides in one process.

SNAPSHOTS_KEY = "salesengine_snapshots"
_SEEN = pytest.StashKey[list[dict[str, Any]]]()


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """`--snapshot-update` also deletes unused snapshots, which syrupy does only in one
    process: such a run has no workers."""
    if config.getoption("--snapshot-update", default=False) and getattr(
        config.option, "numprocesses", None
    ):
        config.option.numprocesses = 0


def _pairs(collections: Any) -> set[tuple[str, str]]:
    return {(c.location, s.name) for c in collections for s in c}


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown when xdist is not installed
def pytest_testnodedown(node: Any, error: object) -> None:
    """Controller: a worker has finished; keep what its snapshot report saw."""
    seen = getattr(node, "workeroutput", {}).get(SNAPSHOTS_KEY)
    if seen is not None:
        node.config.stash.setdefault(_SEEN, []).append(seen)


def _unused_across_workers(seen: list[dict[str, Any]]) -> list[tuple[str, str]]:
    claimed = {tuple(p) for w in seen for p in w["used"] + w["aside"]}
    # A worker that found a snapshot file and used none of it calls the whole file unknown
    # (syrupy's SnapshotUnknownCollection): claimed when another worker used or set aside any
    # snapshot in it.
    claimed_files = {location for location, _ in claimed}
    return sorted(
        (location, name)
        for location, name in {tuple(p) for w in seen for p in w["unused"]}
        if (location, name) not in claimed
        and not (name == SNAPSHOT_UNKNOWN_FOSSIL_KEY and location in claimed_files)
    )


@pytest.hookimpl(trylast=True)  # on a worker: after syrupy's own sessionfinish made its report
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # a worker: send what syrupy saw here
        report = getattr(getattr(config, "_syrupy", None), "report", None)
        if report is None:
            return
        discovered, used, unused = (
            _pairs(report.discovered),
            _pairs(report.used),
            _pairs(report.unused),
        )
        workeroutput[SNAPSHOTS_KEY] = {
            "used": sorted(used),
            "unused": sorted(unused),
            "aside": sorted(discovered - used - unused),
            "counts": {
                "passed": report.num_matched,
                "failed": report.num_failed,
                "written": report.num_created + report.num_updated,
            },
        }
        return
    seen = config.stash.get(_SEEN, None)
    if not seen or config.getoption("--snapshot-warn-unused", default=False):
        return
    if _unused_across_workers(seen) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    seen = config.stash.get(_SEEN, None)
    if not seen:
        return
    unused = _unused_across_workers(seen)
    counts = {k: sum(w["counts"][k] for w in seen) for k in ("passed", "failed", "written")}
    if not any(counts.values()) and not unused:
        return
    terminalreporter.write_sep("-", f"snapshot report summary ({len(seen)} workers)")
    terminalreporter.write_line(
        f"{counts['passed']} snapshots passed, {counts['failed']} failed, "
        f"{counts['written']} written, {len(unused)} unused."
    )
    for location, name in unused:
        terminalreporter.write_line(f"unused snapshot: {location} ({name})")
    if unused and not config.getoption("--snapshot-warn-unused", default=False):
        terminalreporter.write_line(
            "Delete it, or let `pytest -n0 --snapshot-update` delete every unused one "
            "(or pass --snapshot-warn-unused)."
        )


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    """The providers' APIs (SendGrid, Postmark) served on loopback for one test."""
    with FakeProviders() as server:
        yield server


@pytest.fixture
def with_emails(engine: Engine, desk: Desk) -> Desk:
    """The seeded desk, each customer with an address: `hank.hill@example.com`, ..."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE customers SET email = lower(replace(name, ' ', '.')) || '@example.com'")
        )
    return desk


# --- PgBouncer in transaction mode (tests marked `pgbouncer`) --------------------------------
#
# One PgBouncer per worker in front of its server, as production runs behind PgBouncer or
# Supabase's pooler: queries go through it, LISTEN goes straight to the server (listen_url).

# Server connections the pooler may open per test database: small, so that a client holding
# one across transactions, or a pool that grew past it, would show.
POOLER_SIZE = 4


@pytest.fixture(scope="session")
def pgbouncer(
    pg_cluster: ScratchCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalPgBouncer]:
    """PgBouncer (transaction pooling) in front of the worker's server. Missing, it fails the
    tests that need it, never skips them: CI must run this group."""
    if find_pgbouncer() is None:
        pytest.fail(
            "pgbouncer is not installed: install Debian's pgbouncer (.ci/run does: "
            "apt-get install pgbouncer)",
            pytrace=False,
        )
    folder = tmp_path_factory.mktemp("pgbouncer")
    with local_pgbouncer(pg_cluster.url("postgres"), folder, pool_size=POOLER_SIZE) as bouncer:
        yield bouncer


@pytest.fixture
def pooled_url(pgbouncer: LocalPgBouncer, db_url: URL) -> URL:
    """The test's database (`db_url`) through the pooler."""
    return pgbouncer.url(db_url)


@pytest.fixture
def pooled_engine(pooled_url: URL) -> Iterator[Engine]:
    eng = make_engine(pooled_url)
    yield eng
    eng.dispose()


@pytest.fixture
def pooled_settings(db_url: URL, pooled_url: URL) -> Callable[..., Settings]:
    """Settings as a site behind a pooler has them: `database_url` the pooler, `listen_url`
    the server itself; on top of `base` (the tests' own settings when None) and `changes`."""

    def build(base: Settings | None = None, **changes: object) -> Settings:
        return (base or load_settings()).model_copy(
            update={
                **changes,
                "database_url": SecretStr(pooled_url.render_as_string(hide_password=False)),
                "listen_url": SecretStr(db_url.render_as_string(hide_password=False)),
            }
        )

    return build


@pytest.fixture
def elsewhere(engine: Engine, clock: FixedClock, db_url: URL) -> Iterator[UseCaseDesk]:
    """Another terminal: Mia, a manager, on her own engine (her statements are not the open
    app's), acting through the use cases."""
    with session_scope(engine) as s:
        mia = add_user(s, "mia", name="Mia Park", role=UserRole.manager)
    other = make_engine(db_url)
    try:
        yield UseCaseDesk(app_context(other, clock, mia))
    finally:
        other.dispose()


@pytest.fixture
def connect(db_url: URL) -> Iterator[Callable[[str], psycopg.Connection]]:
    """`connect(login_or_role)`: a connection logged in as that user's database role (or as
    the jobs or gateway role), with no app code between; closed after the test."""
    from db_roles import connect_as, role_of

    from salesengine_tui.db.roles import GATEWAY_ROLE, JOBS_ROLE

    opened: list[psycopg.Connection] = []

    def _connect(who: str) -> psycopg.Connection:
        role = who if who in (JOBS_ROLE, GATEWAY_ROLE) else role_of(db_url, who)
        conn = connect_as(db_url, role)
        opened.append(conn)
        return conn

    yield _connect
    for conn in opened:
        conn.close()
