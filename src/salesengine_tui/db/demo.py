"""Deterministic demo data: a believable HVAC company for demos, benchmarks and screenshots.

`seed_demo` fills an empty database (no customers) in one transaction. The rows come from
`demo_gen` as COPY text and go in over one psycopg connection; before loading, the keys and
indexes of the loaded tables are dropped and afterwards rebuilt, because building an index from
sorted data is several times cheaper than maintaining it row by row (measured: 1M customers
load in 3 s bare against 14.5 s with their indexes, and rebuilding them all takes 5 s). Foreign
keys are re-checked in one join per key instead of one lookup per row. Rows are generated on
a background thread while the caller's thread copies the previous chunk in, so Python and the
server work at the same time. A failure anywhere rolls everything back, including the dropped
indexes (PostgreSQL DDL is transactional).
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa

from ..base.clock import Clock
from ..base.errors import UserError
from .demo_company import COLUMNS, TABLES, Pipeline, Staff, Stage
from .demo_gen import DemoGenerator
from .demo_pools import copy_text

Progress = Callable[[str, int, int], None]

RESIDENTIAL = "Residential Replacements"
COMMERCIAL = "Commercial Contracts"
# The open stages the generator spreads estimates over, by position; Won and Lost besides.
_OPEN_STAGES = {
    RESIDENTIAL: ("New", "Site Visit Scheduled", "Proposal Sent", "Negotiation"),
    COMMERCIAL: ("Qualified", "Site Survey", "Proposal Sent", "Negotiation"),
}
# Customers per generated chunk: big enough that per-COPY overhead vanishes, small enough
# that a chunk's rows (about 6 per customer) stay a few megabytes.
CHUNK = 5_000
MAX_CUSTOMERS = 20_000_000


@dataclass(frozen=True)
class SeedReport:
    counts: dict[str, int]  # rows written per table, users included
    total_rows: int
    elapsed_seconds: float
    rows_per_second: float


def database_is_empty(engine: sa.Engine) -> bool:
    """True when the database holds no customers (`salesengine demo` then loads demo data)."""
    with engine.connect() as conn:
        return not conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM customers)")).scalar_one()


def seed_demo(
    engine: sa.Engine,
    *,
    customers: int,
    seed: int,
    clock: Clock,
    progress: Progress | None = None,
) -> SeedReport:
    """Fill an empty database with `customers` demo customers and everything around them.

    The same seed and the same `clock.now()` give byte-identical rows, ids included.
    `progress(phase, done, total)` is called as work advances: phase "customers" while rows
    load (done/total customers; all tables load customer by customer), then "indexes" and
    "statistics" (steps done/total: rebuilding keys and indexes, then ANALYZE). An
    exception raised by `progress` aborts the seeding and rolls everything back.
    """
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise UserError(f"the number of demo customers must be 1 to {MAX_CUSTOMERS:,}")
    started = time.perf_counter()
    report = progress or (lambda _phase, _done, _total: None)
    gen = DemoGenerator(seed=seed, now=clock.now(), customers=customers)

    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, psycopg.Connection)
        try:
            counts = _load(conn, gen, customers, report)
            conn.commit()
        except BaseException:
            # A broken connection cannot roll back, and the server drops its transaction
            # anyway: keep the original error rather than the rollback's.
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
            raise
    finally:
        raw.close()

    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    return SeedReport(counts, total, elapsed, total / elapsed if elapsed else 0.0)


def _load(
    conn: psycopg.Connection, gen: DemoGenerator, customers: int, report: Progress
) -> dict[str, int]:
    with conn.cursor() as cur:
        # Index rebuilds sort in memory when they can; the setting ends with the transaction.
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cur.execute("SET LOCAL statement_timeout = 0")
        # Taken first so two seeders cannot both find the database empty.
        cur.execute("LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE")
        cur.execute("SELECT EXISTS (SELECT 1 FROM customers)")
        if _one(cur):
            raise UserError(
                "the database already holds customers; demo data only goes into an empty "
                "database (point --database-url at a new one)"
            )
        pipelines = {name: _pipeline(cur, name) for name in _OPEN_STAGES}
        staff, new_users = _insert_staff(cur, gen)
        gen.attach(staff, pipelines[RESIDENTIAL], pipelines[COMMERCIAL])

        restore = _drop_keys_and_indexes(cur, TABLES)
        with _Producer(gen, customers) as producer:
            for done, payload in producer:
                for table in TABLES:
                    if table in payload:
                        with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                            copy.write(payload[table])
                report("customers", done, customers)

        for i, statement in enumerate(restore):
            cur.execute(statement)
            report("indexes", i + 1, len(restore))
        # The numbers were given explicitly: move the identity sequences past them.
        for table, last in (("tickets", gen.ticket_no), ("estimates", gen.estimate_no)):
            if last:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'number'), %s)", (last,)
                )
        # Fresh statistics, or the planner guesses on a million rows it has never seen.
        for i, table in enumerate(TABLES):
            cur.execute(f"ANALYZE {table}")
            report("statistics", i + 1, len(TABLES))
    return {"users": new_users, **gen.counts}


class _Producer:
    """Generates chunks on a background thread while the caller's thread copies them in.

    Generating is pure Python and the server parses COPY data in its own process, so the two
    overlap on a two-core machine (measured: the load phase drops from gen + copy to about
    the larger of the two). The thread only touches the generator: all database work stays
    on the caller's thread. Leaving the `with` block early stops the thread.
    """

    def __init__(self, gen: DemoGenerator, customers: int) -> None:
        self.gen, self.customers = gen, customers
        self.queue: queue.Queue[tuple[int, dict[str, str]] | BaseException | None]
        self.queue = queue.Queue(maxsize=2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="demo-rows", daemon=True)

    def __enter__(self) -> _Producer:
        # COPY writes wait for the socket with the GIL released and then need it back
        # promptly; the default 5 ms switch interval stalls the copy behind the generator.
        self.switch = sys.getswitchinterval()
        sys.setswitchinterval(0.0005)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        sys.setswitchinterval(self.switch)

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        while (item := self.queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def _run(self) -> None:
        try:
            done = 0
            while done < self.customers and not self.stop.is_set():
                n = min(CHUNK, self.customers - done)
                rows = self.gen.chunk(n)
                done += n
                self._put((done, {t: "\n".join(r) + "\n" for t, r in rows.items() if r}))
            self._put(None)
        except BaseException as exc:
            self._put(exc)

    def _put(self, item: tuple[int, dict[str, str]] | BaseException | None) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


def _one(cur: psycopg.Cursor) -> object:
    row = cur.fetchone()
    assert row is not None
    return row[0]


def _pipeline(cur: psycopg.Cursor, name: str) -> Pipeline:
    cur.execute(
        """
        SELECT s.id, s.name, s.rotting_days, s.is_won, s.is_lost
        FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
        WHERE p.name = %s ORDER BY s.position
        """,
        (name,),
    )
    found = {row[1]: row for row in cur.fetchall()}

    def stage(stage_name: str, flag: int | None = None) -> Stage:
        row = found.get(stage_name)
        if row is None or (flag is not None and not row[flag]):
            raise UserError(
                f"the pipeline {name!r} has no {stage_name!r} stage: demo data needs the "
                "default pipelines as the migrations create them (seed a new database)"
            )
        return Stage(row[0].hex, copy_text(row[1]), row[2])

    return Pipeline(
        open=tuple(stage(s) for s in _OPEN_STAGES[name]),
        won=stage("Won", flag=3),
        lost=stage("Lost", flag=4),
    )


def _insert_staff(cur: psycopg.Cursor, gen: DemoGenerator) -> tuple[Staff, int]:
    """The demo staff, and how many of them were new."""
    cur.execute("SELECT id FROM users WHERE login = 'system'")
    system = cur.fetchone()
    if system is None:
        raise UserError("the system user is missing: run `salesengine db upgrade`")
    # A login that already exists is kept as it is (the database may have real users).
    cur.executemany(
        """
        INSERT INTO users (id, login, name, email, role, active, created_at)
        VALUES (%s, %s, %s, %s, %s, true, %s) ON CONFLICT (login) DO NOTHING
        """,
        [(m.id, m.login, m.name, m.email, m.role, m.created_at) for m in gen.staff_plan],
    )
    inserted = cur.rowcount
    cur.execute(
        "SELECT login, id FROM users WHERE login = ANY(%s)", ([m.login for m in gen.staff_plan],)
    )
    ids = {login: uid.hex for login, uid in cur.fetchall()}
    staff = Staff(
        reps=tuple(ids[m.login] for m in gen.staff_plan if m.role == "rep"),
        technicians=tuple(ids[m.login] for m in gen.staff_plan if m.role == "technician"),
        system=system[0].hex,
        managers=tuple(ids[m.login] for m in gen.staff_plan if m.role == "manager"),
    )
    return staff, inserted


def _drop_keys_and_indexes(cur: psycopg.Cursor, tables: tuple[str, ...]) -> list[str]:
    """Drop the keys and indexes of `tables` (and foreign keys pointing at them).

    Returns the statements that recreate them, keys first so foreign keys find them. Read
    from the catalog rather than listed here, so a later migration's index is rebuilt too.
    """
    names = list(tables)
    cur.execute(
        """
        SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid), contype
        FROM pg_constraint
        WHERE (contype = 'f' AND (conrelid = ANY(%(t)s::regclass[])
                                  OR confrelid = ANY(%(t)s::regclass[])))
           OR (contype IN ('p', 'u') AND conrelid = ANY(%(t)s::regclass[]))
        ORDER BY contype = 'f' DESC, 1, 2
        """,
        {"t": names},
    )
    constraints = cur.fetchall()
    cur.execute(
        """
        SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
        FROM pg_index i
        WHERE indrelid = ANY(%(t)s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
        ORDER BY 1
        """,
        {"t": names},
    )
    indexes = cur.fetchall()
    # Foreign keys go first (they depend on the keys they reference).
    for table, name, _definition, _kind in constraints:
        cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for index, _definition in indexes:
        cur.execute(f"DROP INDEX {index}")
    keys = [(t, n, d) for t, n, d, kind in constraints if kind != "f"]
    foreign = [(t, n, d) for t, n, d, kind in constraints if kind == "f"]
    return [
        *(f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}" for t, n, d in keys),
        *(definition for _index, definition in indexes),
        *(f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}" for t, n, d in foreign),
    ]
