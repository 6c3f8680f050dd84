"""Search at scale: p50 and p95 of one search (what the search screen runs for each pause in
typing) for the things people type, on the demo data at 100,000 customers (1,000,000 with
--big), each beside the search the palette had before (`find_customers`: name, email or
phone ILIKE '%…%'), timed in the same run; then the inbox's first page and a deep page for
the status filter (leads, active, everyone).

Target: every search under 100 ms at p95 at 1M customers. The database is only read, so it is
measured in place (the 1M demo is the dashboard benchmark's, made once when both run).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from bench_board import ms, p95
from bench_dashboard import fill_demo
from harness import Cluster, Options, Result, benchmark, engine_for
from sqlalchemy import Engine, text
from sqlmodel import Session

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.customers import leads
from salesengine_tui.db.demo import seed_demo
from salesengine_tui.db.models import Customer, CustomerStatus
from salesengine_tui.db.text_search import contains
from salesengine_tui.search import search

TARGET = 0.100  # seconds, p95 at 1M customers
SEARCH_RUNS = 40  # per case (after warming up), for a p95 worth the name
BASELINE_RUNS = 5  # the old ILIKE search is slow at 1M: fewer runs
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    what: str
    typed: str


def fill_100k(engine: Engine) -> None:
    seed_demo(engine, customers=100_000, seed=7, clock=FixedClock(NOW))


def find_customers(session: Session, text: str, limit: int = 20) -> list[tuple[object, str]]:
    """The palette's search before this one (kept here as it was, the baseline): name, email
    or phone containing the text anywhere, any case, first 20 by name."""
    text = text.strip()
    if len(text) < 2:
        return []
    stmt = (
        sa.select(Customer.id, Customer.name)
        .where(
            sa.or_(
                contains(Customer.name, text),
                contains(Customer.email, text),
                contains(Customer.phone, text),
            )
        )
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    )
    return [(row.id, row.name) for row in session.execute(stmt)]


def cases(engine: Engine) -> list[Case]:
    """What people type, taken from the data: a customer in the middle (with an email and a
    North American phone), a deal and a ticket in the middle."""
    with engine.connect() as conn:
        name, email, phone = conn.execute(
            text(
                "SELECT name, email, phone FROM customers "
                "WHERE email IS NOT NULL AND phone ~ '^\\+1[0-9]{10}$' AND name ~ '^\\S+ \\S+$' "
                "ORDER BY id OFFSET (SELECT count(*) / 2 FROM customers) / 10 LIMIT 1"
            )
        ).one()
        deal = conn.execute(
            text("SELECT number FROM estimates ORDER BY number OFFSET 1000 LIMIT 1")
        ).scalar_one()
        ticket = (
            conn.execute(
                text("SELECT number FROM tickets ORDER BY number OFFSET 100000 LIMIT 1")
            ).scalar_one_or_none()
            or conn.execute(text("SELECT max(number) FROM tickets")).scalar_one()
        )
    area, exchange, line = phone[2:5], phone[5:8], phone[8:]
    return [
        Case("name prefix", name.split()[0][:3]),
        Case("full name", name),
        Case("email", email),
        Case("phone (972) 653-2552", f"({area}) {exchange}-{line}"),
        Case("phone 972-653-2552", f"{area}-{exchange}-{line}"),
        Case("phone 6532552 (no area code)", f"{exchange}{line}"),
        Case("deal number", f"#{deal}"),
        Case("deal title word", "furnace"),
        Case("ticket number", f"T-{ticket}"),
        Case("no hit", "zzqx wvut"),
    ]


def _times(engine: Engine, run: Callable[[Session], object], runs: int) -> list[float]:
    """Seconds per call, each in its own session (as the use case opens one), after two
    warm-up calls."""
    seconds = []
    for i in range(runs + 2):
        started = time.perf_counter()
        with Session(engine) as session:
            run(session)
        if i >= 2:
            seconds.append(time.perf_counter() - started)
    return seconds


@benchmark("search", "search: p50/p95 per kind of text typed, vs the old ILIKE search", order=55)
def search_benchmark(cluster: Cluster, options: Options) -> list[Result]:
    sizes: list[tuple[str, Callable[[Engine], None], str]] = [
        ("100,000 customers", fill_100k, "search-100k")
    ]
    if options.big:
        sizes.append(("1,000,000 customers", fill_demo, "dashboard-demo-1m"))
    results: list[Result] = []
    for size, fill, label in sizes:
        template = cluster.template("head", fill, label=label)
        with engine_for(cluster, template) as engine:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM (ANALYZE)")  # as a running database is kept
            rows = [_measure(engine, case, options) for case in cases(engine)]
            print(_table(size, rows), file=sys.stderr, flush=True)
            results += [r for row in rows for r in row.results(size)]
            results += _inbox(engine, size, options)
    return results


@dataclass
class Measured:
    case: Case
    found: int
    new: list[float]
    old: list[float]
    old_found: int

    def results(self, size: str) -> list[Result]:
        note = (
            f"p50 {ms(statistics.median(self.new))}, p95 {ms(p95(self.new))}, {self.found} hits; "
            f"old ILIKE p50 {ms(statistics.median(self.old))} ({self.old_found} hits)"
        )
        return [Result(f"search: {self.case.what}", size, self.new, note=note)]


def _measure(engine: Engine, case: Case, options: Options) -> Measured:
    with Session(engine) as session:
        found = len(search(session, case.typed))
        old_found = len(find_customers(session, case.typed))
    new = _times(engine, lambda s: search(s, case.typed), max(SEARCH_RUNS, options.repeat))
    old = _times(
        engine, lambda s: find_customers(s, case.typed), max(BASELINE_RUNS, options.repeat)
    )
    return Measured(case, found, new, old, old_found)


def _table(size: str, rows: list[Measured]) -> str:
    lines = [
        f"\n| search ({size}) | typed | hits | p50 | p95 | old ILIKE p50 | old p95 | old hits |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in rows:
        flag = "" if p95(m.new) < TARGET else " ⚠"
        lines.append(
            f"| {m.case.what} | `{m.case.typed}` | {m.found} | {ms(statistics.median(m.new))} "
            f"| {ms(p95(m.new))}{flag} | {ms(statistics.median(m.old))} | {ms(p95(m.old))} "
            f"| {m.old_found} |"
        )
    return "\n".join(lines)


def _inbox(engine: Engine, size: str, options: Options) -> list[Result]:
    """The inbox with the status filter (and the due filter, from tasks): count and first
    page, and a page 100,000 deep."""
    results = []
    with engine.connect() as conn:  # the seeder's "now": tasks fall due around it
        seeded_at = conn.execute(text("SELECT max(created_at) FROM customers")).scalar_one()
    due = leads.end_of_day(seeded_at, ZoneInfo("America/Chicago"))
    for view, label in (
        (leads.LeadQuery(), "leads"),
        (leads.LeadQuery(due_before=due), "leads, next task due today"),
        (leads.LeadQuery(status=CustomerStatus.active), "active"),
        (leads.LeadQuery(status=None), "everyone"),
    ):
        runs = max(5, options.repeat)
        first = _times(
            engine,
            lambda s, view=view: (leads.lead_count(s, view), leads.lead_page(s, view)),
            runs,
        )
        deep = _times(engine, lambda s, view=view: leads.lead_page(s, view, offset=100_000), runs)
        results += [
            Result(
                f"inbox ({label}): count + first page", size, first, note=f"p95 {ms(p95(first))}"
            ),
            Result(
                f"inbox ({label}): page 100,000 rows deep", size, deep, note=f"p95 {ms(p95(deep))}"
            ),
        ]
    return results
