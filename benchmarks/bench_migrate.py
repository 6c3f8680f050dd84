"""Migration time: the whole chain up and down, and the sales extension's backfill on a
baseline (operations-only) database that already holds customers and tickets."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from harness import Cluster, Options, Result, benchmark, timed
from sqlalchemy import Engine

from salesengine_tui.db import migrate

BASELINE = "0001_operations_baseline"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@benchmark(
    "migrate", "Alembic: upgrade, downgrade, and the status backfill on existing data", order=20
)
def migrations(cluster: Cluster, options: Options) -> list[Result]:
    results = []
    seconds = []
    for _ in range(options.repeat):
        with cluster.fresh() as engine:
            seconds.append(timed(lambda: migrate.upgrade(engine)))
    results.append(Result("migrate: upgrade empty database", "base → head", seconds))

    head = cluster.template("head")
    seconds = []
    for _ in range(options.repeat):
        with cluster.fresh(head) as engine:
            seconds.append(timed(lambda: migrate.downgrade(engine, "base")))
    results.append(Result("migrate: downgrade empty database", "head → base", seconds))

    sizes = [(100_000, options.repeat)] + ([(1_000_000, 1)] if options.big else [])
    for customers, runs in sizes:
        baseline = cluster.template(BASELINE, _filler(customers), label=f"{customers}")
        seconds = []
        for _ in range(runs):
            with cluster.fresh(baseline) as engine:
                seconds.append(timed(lambda: migrate.upgrade(engine)))
        results.append(
            Result(
                "migrate: upgrade baseline with data (backfill)",
                f"{customers:,} customers, 0001 → head",
                seconds,
                customers,
                "status backfilled from ticket history",
            )
        )
    return results


def _filler(customers: int) -> Callable[[Engine], None]:
    def fill(engine: Engine) -> None:
        fill_baseline(engine, customers)

    return fill


def fill_baseline(engine: Engine, customers: int, seed: int = 1) -> None:
    """Plain operations rows in the baseline tables (no sales columns exist yet), by COPY:
    about 70% of customers have booked or completed work, the rest none or only open or
    cancelled tickets."""
    rng = random.Random(seed)
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            number = 0
            with cur.copy(
                "COPY customers (id, name, email, phone, address, city, state, postal_code, "
                "created_at, updated_at) FROM STDIN"
            ) as customers_copy:
                tickets: list[tuple[object, ...]] = []
                for i in range(customers):
                    cid = uuid.UUID(int=rng.getrandbits(128), version=4)
                    created = NOW - timedelta(days=rng.random() * 1800)
                    customers_copy.write_row(
                        (
                            cid,
                            f"Customer {i}",
                            f"customer{i}@example.com",
                            f"+1214{rng.randrange(2_000_000, 9_999_999)}",
                            f"{rng.randrange(100, 9999)} Main St",
                            "Dallas",
                            "TX",
                            "75201",
                            created,
                            created,
                        )
                    )
                    r = rng.random()
                    statuses = (
                        ["closed"] * rng.randint(1, 3)
                        if r < 0.65
                        else ["booked"]
                        if r < 0.70
                        else [rng.choice(["open", "cancelled"])]
                        if r < 0.80
                        else []
                    )
                    for status in statuses:
                        number += 1
                        opened = created + timedelta(days=rng.random() * 30)
                        closed = opened + timedelta(hours=3) if status == "closed" else None
                        tickets.append(
                            (
                                uuid.UUID(int=rng.getrandbits(128), version=4),
                                number,
                                cid,
                                status,
                                "Service visit",
                                opened,
                                closed,
                            )
                        )
            with cur.copy(
                "COPY tickets (id, number, customer_id, status, summary, opened_at, closed_at) "
                "FROM STDIN"
            ) as tickets_copy:
                for row in tickets:
                    tickets_copy.write_row(row)
            cur.execute("SELECT setval(pg_get_serial_sequence('tickets', 'number'), %s)", (number,))
            cur.execute("ANALYZE customers")
            cur.execute("ANALYZE tickets")
        conn.commit()
    finally:
        raw.close()
