"""Seeding speed: `seed_demo` into an empty migrated database, as `salesengine db seed` does."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from harness import Cluster, Options, Result, benchmark

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.demo import SeedReport, seed_demo

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SEED = 42


@benchmark("seed", "demo data: seed_demo into an empty migrated database", order=10)
def seed(cluster: Cluster, options: Options) -> list[Result]:
    sizes = [(10_000, options.repeat), (100_000, options.repeat)]
    if options.big:
        sizes.append((1_000_000, 1))  # a minute a run: once is enough
    template = cluster.template("head")
    results = []
    for customers, runs in sizes:
        seconds: list[float] = []
        reports: list[SeedReport] = []
        for _ in range(runs):
            with cluster.fresh(template) as engine:
                started = time.perf_counter()
                reports.append(
                    seed_demo(engine, customers=customers, seed=SEED, clock=FixedClock(NOW))
                )
                seconds.append(time.perf_counter() - started)
        counts = reports[-1].counts
        note = (
            f"{counts['equipment']:,} equipment, {counts['tickets']:,} tickets, "
            f"{counts['estimates']:,} estimates, {counts['customer_interactions']:,} interactions"
        )
        results.append(
            Result("seed_demo", f"{customers:,} customers", seconds, reports[-1].total_rows, note)
        )
    return results
