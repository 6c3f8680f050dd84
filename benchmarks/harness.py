"""What every benchmark shares: a throwaway PostgreSQL cluster, a registry, timing, the table.

A benchmark is a function registered with `@benchmark(name)`; it receives the `Cluster` and
the run's `Options` and returns `Result`s (one per table row). Modules named `bench_*.py` in
this folder are imported by `run.py`, so a new benchmark is a new function in a new module.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from salesengine_tui.db import migrate
from salesengine_tui.db.engine import make_engine
from salesengine_tui.db.scratch import ScratchCluster, scratch_cluster


@dataclass(frozen=True)
class Options:
    big: bool  # include the slow, large sizes (1M customers)
    repeat: int  # runs per measurement; the table shows the best and the median


@dataclass(frozen=True)
class Result:
    name: str
    size: str
    seconds: list[float]  # one per run
    rows: int | None = None  # rows written or processed, for rows/s
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.best if self.rows else None


BenchmarkFn = Callable[["Cluster", Options], list[Result]]


@dataclass(frozen=True)
class Registered:
    name: str
    fn: BenchmarkFn
    description: str
    order: int


REGISTRY: dict[str, Registered] = {}


def benchmark(
    name: str, description: str, *, order: int = 100
) -> Callable[[BenchmarkFn], BenchmarkFn]:
    """Register a benchmark; `order` places it in the table (lower first)."""

    def register(fn: BenchmarkFn) -> BenchmarkFn:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} registered twice")
        REGISTRY[name] = Registered(name, fn, description, order)
        return fn

    return register


def registered() -> list[Registered]:
    return sorted(REGISTRY.values(), key=lambda item: (item.order, item.name))


@dataclass
class Cluster:
    """The benchmark's own embedded server: databases are created and dropped freely."""

    scratch: ScratchCluster
    _templates: dict[str, str] = field(default_factory=dict)

    def url(self, database: str) -> URL:
        return self.scratch.url(database)

    def create(self, template: str | None = None) -> str:
        return self.scratch.create(template)

    def drop(self, name: str) -> None:
        self.scratch.drop(name)

    def server_version(self) -> str:
        return self.scratch.server_version()

    def template(
        self, revision: str, fill: Callable[[Engine], None] | None = None, label: str = ""
    ) -> str:
        """A database migrated to `revision` and filled by `fill`, made once (per `label`)
        and cloned for each run."""
        key = f"{revision}:{label}"
        if key not in self._templates:
            name = self.create()
            with engine_for(self, name) as engine:
                migrate.upgrade(engine, revision)
                if fill is not None:
                    fill(engine)
            self._templates[key] = name
        return self._templates[key]

    @contextmanager
    def fresh(self, template: str | None = None) -> Iterator[Engine]:
        """An engine on a new database (a clone of `template`), dropped afterwards."""
        name = self.create(template)
        try:
            with engine_for(self, name) as engine:
                yield engine
        finally:
            self.drop(name)


@contextmanager
def engine_for(cluster: Cluster, database: str) -> Iterator[Engine]:
    engine = make_engine(cluster.url(database), application_name="salesengine-bench")
    try:
        yield engine
    finally:
        # A database cannot be cloned or dropped while connections to it stay open.
        engine.dispose()


@contextmanager
def start_cluster(folder: Path) -> Iterator[Cluster]:
    with scratch_cluster(folder) as scratch:
        yield Cluster(scratch)


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def markdown(results: list[Result]) -> str:
    lines = [
        "| Benchmark | Size | Runs | Best (s) | Median (s) | Rows | Rows/s | Notes |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        rows = f"{r.rows:,}" if r.rows else ""
        rate = f"{r.rows_per_second:,.0f}" if r.rows_per_second else ""
        lines.append(
            f"| {r.name} | {r.size} | {len(r.seconds)} | {r.best:.2f} | {r.median:.2f} "
            f"| {rows} | {rate} | {r.note} |"
        )
    return "\n".join(lines)
