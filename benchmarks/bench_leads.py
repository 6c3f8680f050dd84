"""Leads: the inbox's first paint at 100 and 100,000 leads (a bare Textual app beside it, in
the same run), key to paint in the inbox, a customer timeline of 5,000 entries, and the CSV
import rate."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_board import ms, p95, probe
from harness import Cluster, Options, Result, benchmark
from sqlalchemy import Engine, text
from sqlmodel import Session

from salesengine_tui.activity import feed as activity
from salesengine_tui.customers import lead_csv as lead_import
from salesengine_tui.db.engine import session_scope

SIZES = (100, 100_000)
TIMELINE = 5_000
IMPORT_ROWS = 100_000
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

FILL = """
INSERT INTO users (login, name, role, email)
VALUES ('bench.manager', 'Bench Manager', 'manager', 'bench@example.com'),
       ('bench.rep', 'Rita Rep', 'rep', 'rita@example.com');
INSERT INTO customers (name, email, phone, status, lead_source, last_interaction_at, created_at,
                       owner_id)
SELECT 'Lead ' || g, 'lead' || g || '@example.com', '+1214' || lpad(g::text, 7, '0'), 'lead',
       (ARRAY['Website', 'Referral', 'Google Ads', 'Yelp'])[1 + g % 4],
       CASE WHEN g % 3 = 0 THEN now() - (g % 30) * interval '1 day' END,
       now() - (g % 900) * interval '1 hour',
       (SELECT id FROM users WHERE login = 'bench.rep')
FROM generate_series(1, :n) AS g;
-- one customer with a long history
INSERT INTO customer_interactions (customer_id, type, direction, notes, created_by, created_at)
SELECT (SELECT id FROM customers WHERE name = 'Lead 1'), 'call', 'outbound',
       'Call number ' || g || ': talked about the heat pump quote and financing options',
       (SELECT id FROM users WHERE login = 'bench.rep'), now() - g * interval '1 hour'
FROM generate_series(1, :timeline) AS g;
ANALYZE;
"""


def fill_for(n: int):
    def fill(engine: Engine) -> None:
        with engine.begin() as conn:
            for statement in FILL.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), {"n": n, "timeline": TIMELINE})

    return fill


def timed_ms(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


@benchmark("leads", "leads inbox paint, timeline of 5,000, CSV import rate", order=40)
def leads(cluster: Cluster, options: Options) -> list[Result]:
    results: list[Result] = []
    bare = [probe("", "--bare")[0]["first_paint"] for _ in range(options.repeat)]
    results.append(Result("bare Textual app: start → first paint", "one Static", bare))
    for n in SIZES:
        template = cluster.template("head", fill_for(n), label=f"leads-{n}")
        with cluster.fresh(template) as engine:
            url = engine.url.render_as_string(hide_password=False)
            runs = [probe(url, "--leads", "--keys", "60") for _ in range(options.repeat)]
            keys = [k for r, _ in runs for k in r["cursor"]]
            size = f"{n:,} leads"
            results += [
                Result(
                    "leads inbox: start → first paint",
                    size,
                    [r["first_paint"] for r, _ in runs],
                    note=f"peak RSS {max(r['peak_rss_mib'] for r, _ in runs):.0f} MiB",
                ),
                Result(
                    "leads inbox: key → paint (j/k)",
                    size,
                    keys,
                    note=f"p95 {ms(p95(keys))}, {len(keys)} presses",
                ),
            ]
            if n == SIZES[-1]:
                results += _timeline(engine, options)
    results.append(_import_rate(cluster, options))
    return results


def _timeline(engine: Engine, options: Options) -> list[Result]:
    with Session(engine) as session:
        customer_id = session.execute(
            text("SELECT id FROM customers WHERE name = 'Lead 1'")
        ).scalar_one()

        def first() -> None:
            activity.timeline_count(session, customer_id)
            activity.recent_activity(session, 100, customer_id=customer_id)

        def walk() -> None:
            before = None
            while True:
                page = activity.recent_activity(
                    session, 100, customer_id=customer_id, before=before
                )
                if len(page) < 100:
                    return
                before = page[-1].key

        def jump() -> None:
            activity.recent_activity(session, 100, customer_id=customer_id, offset=TIMELINE - 100)

        size, runs = f"{TIMELINE:,} entries", range(options.repeat)
        return [
            Result("timeline: count + first page", size, [timed_ms(first) for _ in runs]),
            Result(
                "timeline: every page by keyset", size, [timed_ms(walk) for _ in runs], TIMELINE
            ),
            Result("timeline: jump to the oldest page", size, [timed_ms(jump) for _ in runs]),
        ]


def _import_rate(cluster: Cluster, options: Options) -> Result:
    template = cluster.template("head", label="import-empty")
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "leads.csv"
        lines = ["Full Name,Email,Phone,City,Lead Source"]
        lines += [
            f"Imported Lead {i},imported{i}@example.com,(214) 5{i:06d},Dallas,Trade show"
            for i in range(IMPORT_ROWS)
        ]
        path.write_text("\n".join(lines) + "\n")
        for _ in range(max(1, options.repeat - 1)):
            with cluster.fresh(template) as engine, session_scope(engine) as session:
                started = time.perf_counter()
                report = lead_import.import_leads(session, path, now=NOW)
                session.commit()
                seconds.append(time.perf_counter() - started)
                assert report.imported == IMPORT_ROWS, report
    return Result(
        "leads import: CSV → customers (validate, de-duplicate, COPY, commit)",
        f"{IMPORT_ROWS:,} rows",
        seconds,
        rows=IMPORT_ROWS,
        note=f"median {statistics.median(seconds):.1f} s",
    )
