"""Segments at scale: count and preview of four typical segments on demo data with two units
of equipment per customer (100,000 customers; 1,000,000 with --big), each count beside a
hand-written query for the same question, timed in turns in the same run, and the plans.

Targets: each count within 1.2x of the hand-written query and under 0.5 s at 1M
customers and 2M units. The hand-written queries run twice, with the server's settings and
in one process (`segments.one_process`, which segments joining equipment or tickets use),
and the count is held to the faster of the two. The database is only read, so it is
measured in place rather than cloned.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from harness import Cluster, Options, Result, benchmark, engine_for
from sqlalchemy import Engine, select, text
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db.demo import seed_demo
from salesengine_tui.db.models import User, UserRole
from salesengine_tui.marketing import blasts, segments

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SEED = 42
UNITS_PER_CUSTOMER = 2
COUNT_TARGET = 0.5  # seconds, at 1M customers
RATIO_TARGET = 1.2
T = TypeVar("T")


def _months_ago(months: float) -> datetime:
    return NOW - timedelta(days=months * 30.44)  # a segment's month, as segments.py counts it


def _years_ago(years: float) -> date:
    return NOW.date() - timedelta(days=round(years * 365.25))


@dataclass(frozen=True)
class Case:
    segment: str
    sql: str  # how an expert would ask the same question by hand
    params: dict[str, object]


# closed_at is set exactly when a ticket is closed (check closed_at_iff_closed), so an expert
# leaves the status out; email <> '' is false for NULL too.
CASES = (
    Case(
        "equipment.age > 10 and last_service > 6mo",  # the plan's example
        """SELECT count(*) FROM customers c
           WHERE EXISTS (SELECT 1 FROM equipment e
                         WHERE e.customer_id = c.id AND e.installed_on < :installed)
             AND NOT EXISTS (SELECT 1 FROM tickets t
                             WHERE t.customer_id = c.id AND t.closed_at >= :serviced)""",
        {"installed": _years_ago(10), "serviced": _months_ago(6)},
    ),
    Case(
        "status = lead and has_email = yes and city = Plano",
        """SELECT count(*) FROM customers
           WHERE status = 'lead' AND email <> '' AND lower(city) = 'plano'""",
        {},
    ),
    Case(
        "equipment.kind = furnace and all_equipment.age >= 15",
        """SELECT count(*) FROM customers c
           WHERE EXISTS (SELECT 1 FROM equipment e
                         WHERE e.customer_id = c.id AND lower(e.kind) = 'furnace')
             AND NOT EXISTS (SELECT 1 FROM equipment e
                             WHERE e.customer_id = c.id AND e.installed_on > :installed)""",
        {"installed": _years_ago(15)},
    ),
    Case(
        "open_estimates >= 1 and last_interaction > 30d",
        """SELECT count(*) FROM customers c
           WHERE (c.last_interaction_at < :touched OR c.last_interaction_at IS NULL)
             AND EXISTS (SELECT 1 FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
                         WHERE e.customer_id = c.id AND NOT s.is_won AND NOT s.is_lost)""",
        {"touched": _months_ago(30 / 30.44)},
    ),
)

# The demo seeder makes about 2.0 units per customer (1,995,630 at 1M); the rest are added
# like its own: the usual kinds, installed over the last 25 years, at customers who are
# not leads.
TOP_UP = """
INSERT INTO equipment (customer_id, kind, brand, model, serial_number, installed_on, created_at)
SELECT c.id,
       (ARRAY['Central AC', 'Central AC', 'Central AC', 'Furnace', 'Furnace', 'Water Heater',
              'Water Heater', 'Heat Pump', 'Air Handler', 'Ductless Mini-Split',
              'Boiler'])[1 + c.g % 11],
       (ARRAY['Carrier', 'Trane', 'Lennox', 'Rheem', 'Goodman', 'York', 'Daikin'])[1 + c.g % 7],
       'BENCH-' || c.g, 'BU' || lpad(c.g::text, 8, '0'),
       CAST(:today AS date) - (c.g * 7919 % (25 * 365))::int,
       CAST(:now AS timestamptz) - (c.g % 1800) * interval '1 day'
FROM (SELECT id, row_number() OVER () AS g FROM customers WHERE status <> 'lead'
      LIMIT greatest(0, :units - (SELECT count(*) FROM equipment))) AS c
"""


def fill_for(customers: int) -> Callable[[Engine], None]:
    def fill(engine: Engine) -> None:
        started = time.perf_counter()
        seed_demo(engine, customers=customers, seed=SEED, clock=FixedClock(NOW))
        with engine.begin() as conn:
            conn.execute(
                text(TOP_UP),
                {"today": NOW.date(), "now": NOW, "units": customers * UNITS_PER_CUSTOMER},
            )
        # As autovacuum leaves a database that has been running: statistics, and the
        # visibility map that lets index-only scans skip the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
        print(
            f"  seeded {customers:,} customers in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    return fill


@benchmark("segments", "segments: count and preview of four segments vs hand-written SQL", order=50)
def segments_benchmark(cluster: Cluster, options: Options) -> list[Result]:
    sizes = [100_000] + ([1_000_000] if options.big else [])
    results: list[Result] = []
    for customers in sizes:
        template = cluster.template("head", fill_for(customers), label=f"segments-{customers}")
        with engine_for(cluster, template) as engine, Session(engine) as session:
            size = f"{customers:,} customers"
            units = session.execute(text("SELECT count(*) FROM equipment")).scalar_one()
            session.rollback()
            size_units = f"{size}, {units:,} units"

            # --- segments: count and preview, against hand-written SQL -------------------
            measured = [_measure(session, case, options.repeat) for case in CASES]
            print(_table(size_units, measured, check=customers >= 1_000_000), flush=True)
            for m in measured:
                print(_plans(session, m.case), flush=True)
            results += [r for m in measured for r in m.results(size_units)]

            # --- enqueue a blast of about 100,000 recipients ------------------------------
            results += _blast(session, BLAST_SEGMENTS[customers], size_units, options.repeat)
    return results


# About 100,000 recipients at each size.
BLAST_SEGMENTS = {
    100_000: "has_email = yes",
    1_000_000: "equipment.kind = furnace and all_equipment.age >= 15",
}
BLAST_SETTINGS = load_settings(
    company_postal_address="1 Main St, Dallas TX 75201",
    unsubscribe_url="https://example.com/unsubscribe",
    signing_key="benchmark-signing-key",
)


def _blast(session: Session, source: str, size: str, repeat: int) -> list[Result]:
    """The dry run, then the send (one INSERT ... SELECT of every outbox row, rendered in
    SQL); each send is rolled back so every run writes all the rows."""
    definition = segments.parse(source)
    manager = session.execute(
        select(User).where(User.role == UserRole.manager, User.active).limit(1)
    ).scalar_one()
    actor = Actor.of(manager)
    session.rollback()
    dry_times, send_times, queued = [], [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        dry = blasts.dry_run(session, definition, now=NOW)
        dry_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        sent = blasts.send(
            session,
            actor=actor,
            definition=definition,
            subject="{first_name}, is your {equipment_kind} ready for another year?",
            body=blasts.TEMPLATES[0].body,
            confirm=dry.recipients,
            now=NOW,
            settings=BLAST_SETTINGS,
        )
        session.flush()
        send_times.append(time.perf_counter() - started)
        queued = sent.queued
        session.rollback()
    excluded = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in dry.excluded.items() if v)
    print(
        f"\n| blast to `{source}` ({size}) | best (s) | median (s) |\n| --- | ---: | ---: |\n"
        f"| dry run: {dry.recipients:,} recipients ({excluded}) | {min(dry_times):.2f} | "
        f"{statistics.median(dry_times):.2f} |\n"
        f"| send: {queued:,} outbox rows queued | {min(send_times):.2f} | "
        f"{statistics.median(send_times):.2f} |\n",
        flush=True,
    )
    return [
        Result("blast dry run", size, dry_times, dry.members, note=source),
        Result("blast enqueue", size, send_times, queued, note=f"{queued:,} outbox rows"),
    ]


@dataclass
class Measured:
    case: Case
    matched: int
    first: list[str]  # the preview's first names
    count: list[float] = field(default_factory=list)
    hand: list[float] = field(default_factory=list)  # with the server's settings
    hand_serial: list[float] = field(default_factory=list)  # in one process
    preview: list[float] = field(default_factory=list)

    @property
    def baseline(self) -> list[float]:
        """The faster way to run the hand-written query, by median."""
        return min(self.hand, self.hand_serial, key=statistics.median)

    @property
    def ratio_best(self) -> float:
        return min(self.count) / min(self.baseline)

    @property
    def ratio_median(self) -> float:
        return statistics.median(self.count) / statistics.median(self.baseline)

    def meets(self) -> bool:
        return self.ratio_best <= RATIO_TARGET and statistics.median(self.count) < COUNT_TARGET

    def results(self, size: str) -> list[Result]:
        segment = f"`{self.case.segment}`"
        return [
            Result(
                f"segment count: {segment}",
                size,
                self.count,
                note=f"{self.matched:,} match; {self.ratio_best:.2f}x the faster hand-written "
                f"(best), {self.ratio_median:.2f}x (median)",
            ),
            Result(f"hand-written count, server settings: {segment}", size, self.hand),
            Result(f"hand-written count, one process: {segment}", size, self.hand_serial),
            Result(f"segment preview (first {segments.PREVIEW}): {segment}", size, self.preview),
        ]


def _measure(session: Session, case: Case, repeat: int) -> Measured:
    definition = segments.parse(case.segment)

    def count() -> int:
        return segments.count(session, definition, now=NOW)

    def hand() -> int:
        return int(session.execute(text(case.sql), case.params).scalar_one())

    def hand_serial() -> int:
        with segments.one_process(session):
            return hand()

    def preview() -> list[segments.Member]:
        return segments.preview(session, definition, now=NOW)

    def timed(run: Callable[[], T]) -> tuple[float, T]:
        started = time.perf_counter()
        value = run()
        seconds = time.perf_counter() - started
        session.rollback()  # each run in its own transaction, as the app's are
        return seconds, value

    # One untimed round warms the cache for all; then the queries take turns (in a
    # rotating order), so that whatever else the machine is doing falls on all alike.
    matched = timed(count)[1]
    assert matched == timed(hand)[1] == timed(hand_serial)[1], case.segment
    m = Measured(case, matched, [member.name for member in timed(preview)[1][:3]])
    runs = [(m.count, count), (m.hand, hand), (m.hand_serial, hand_serial)]
    for i in range(repeat):
        for into, run in runs[i % 3 :] + runs[: i % 3]:
            into.append(timed(run)[0])
        m.preview.append(timed(preview)[0])
    return m


def _table(size: str, measured: list[Measured], *, check: bool) -> str:
    def s(seconds: list[float], digits: int = 3) -> str:
        return f"{min(seconds):.{digits}f} / {statistics.median(seconds):.{digits}f}"

    lines = [
        f"\n### Segments, {size}\n",
        "| Segment | Matched | Count (s) | Hand-written, server settings (s) "
        "| Hand-written, one process (s) | Count / faster hand-written | Preview (s) | Targets |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for m in measured:
        verdict = ("met" if m.meets() else "MISSED") if check else "(at 1M)"
        lines.append(
            f"| `{m.case.segment}` | {m.matched:,} | {s(m.count)} | {s(m.hand)} "
            f"| {s(m.hand_serial)} | {m.ratio_best:.2f}x / {m.ratio_median:.2f}x "
            f"| {s(m.preview, 4)} | {verdict} |"
        )
    lines.append(
        "\nTimes are best / median. Targets: the count within "
        f"{RATIO_TARGET}x of the faster hand-written run (best against best) and its median "
        f"under {COUNT_TARGET} s. Preview's first members: "
        + "; ".join(f"{', '.join(m.first)} …" for m in measured)
        + ".\n\nPlans: EXPLAIN (ANALYZE, BUFFERS OFF) with the settings `segments.count` and "
        "`.preview` use; its times include timing every row, so they run above the table's."
    )
    return "\n".join(lines)


_COSTS = re.compile(r"\s+\((?:cost|actual)[^)]*\)")


def _plans(session: Session, case: Case) -> str:
    """EXPLAIN ANALYZE of the segment's count and preview: the plan nodes, costs removed,
    and the indexes they use."""
    definition = segments.parse(case.segment)
    out = [f"\n`{case.segment}`"]
    for label, stmt in (
        ("count", segments.count_query(definition, NOW)),
        ("preview", segments.preview_query(definition, NOW)),
    ):
        compiled = stmt.compile(dialect=session.get_bind().dialect)
        with segments.planned(session, definition):
            rows = session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS OFF) " + compiled.string, compiled.params
            )
            plan = [row[0] for row in rows]
        session.rollback()
        nodes, indexes = [], []
        for line in plan:
            if line.lstrip().startswith("->") or not line.startswith(" "):
                if line.startswith(("Planning", "Execution")):
                    continue
                node = _COSTS.sub("", line).strip().removeprefix("->").strip()
                # EXPLAIN indents children by 6 more spaces a level, the first by 2.
                depth = (len(line) - len(line.lstrip()) + 4) // 6
                nodes.append("    " + "  " * depth + node)
                used = re.search(r"(?: using|Bitmap Index Scan on) (\w+)", node)
                if used and used[1] not in indexes:
                    indexes.append(used[1])
        took = next((line for line in plan if line.startswith("Execution Time")), "")
        out.append(f"  {label}: {took.lower()}; indexes: {', '.join(indexes) or 'none'}")
        out += nodes
    return "\n".join(out)
