"""The jobs at scale: nurture over 100,000 open estimates of which 10,000 are due, and the
upsell sync over 10,000 end-of-life tickets closed since its watermark (each customer a rep's,
each unit of a kind won 3,000 times or so in the last year: owner, median value, the rep's
notification); time and statements per run."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from harness import Cluster, Options, Result, benchmark
from sqlalchemy import Engine, event, text

from salesengine_tui.automation import nurture, upsell
from salesengine_tui.db.engine import session_scope

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
OPEN, DUE, TICKETS = 100_000, 10_000, 10_000

FILL = """
INSERT INTO users (login, name, role, email)
VALUES ('bench.rep', 'Rita Rep', 'rep', 'rita@example.com'),
       ('bench.manager', 'Max Manager', 'manager', 'max@example.com'),
       ('bench.tech', 'John Tech', 'technician', NULL);
INSERT INTO customers (name, email, status, address, city, created_at)
SELECT 'Customer ' || g, 'c' || g || '@example.com', 'active', g || ' Main St', 'Dallas',
       :now - interval '400 days'
FROM generate_series(1, :open) AS g;
-- Every estimate in an open stage of Residential Replacements; the first DUE of them in
-- Proposal Sent (3-day rule) for 5 days, the rest entered today (not due).
WITH stages AS (
    SELECT s.id, s.name, row_number() OVER (ORDER BY s.position) - 1 AS k
    FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
    WHERE p.name = 'Residential Replacements' AND NOT s.is_won AND NOT s.is_lost
), numbered AS (SELECT id, row_number() OVER (ORDER BY name) AS g FROM customers)
INSERT INTO estimates (customer_id, title, amount, status, stage_id, stage_entered_at, owner_id)
SELECT c.id, 'Heat pump ' || c.g, 9000, 'sent',
       CASE WHEN c.g <= :due THEN (SELECT id FROM stages WHERE name = 'Proposal Sent')
            ELSE (SELECT id FROM stages WHERE k = c.g % 4) END,
       CASE WHEN c.g <= :due THEN :now - interval '5 days' ELSE :now END,
       (SELECT id FROM users WHERE login = 'bench.rep')
FROM numbered c;
-- A unit of one of three kinds for each ticket's customer, who is the rep's.
WITH numbered AS (SELECT id, row_number() OVER (ORDER BY name) AS g FROM customers)
INSERT INTO equipment (customer_id, kind, installed_on)
SELECT c.id, (ARRAY['Heat pump', 'Furnace', 'AC unit'])[c.g % 3 + 1], DATE '2005-06-01'
FROM numbered c WHERE c.g <= :tickets;
UPDATE customers c SET owner_id = (SELECT id FROM users WHERE login = 'bench.rep')
WHERE EXISTS (SELECT 1 FROM equipment q WHERE q.customer_id = c.id);
-- A year of won deals on those units: what the new opportunities' medians come from.
INSERT INTO estimates (customer_id, title, amount, status, equipment_id, stage_id,
                       stage_entered_at, owner_id)
SELECT q.customer_id, 'Won ' || q.kind, 6000 + (row_number() OVER (ORDER BY q.id) % 50) * 100,
       'accepted', q.id,
       (SELECT s.id FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
        WHERE p.name = 'Residential Replacements' AND s.is_won),
       :now - make_interval(days => (row_number() OVER (ORDER BY q.id) % 360)::int),
       (SELECT id FROM users WHERE login = 'bench.rep')
FROM equipment q;
-- The upsell loop was switched on the day before: these closures are news, not history.
INSERT INTO automation_marks (name, at) VALUES ('upsell', :now - interval '1 day');
INSERT INTO tickets (customer_id, equipment_id, technician_id, status, summary, resolution,
                     opened_at, closed_at)
SELECT q.customer_id, q.id, (SELECT id FROM users WHERE login = 'bench.tech'), 'closed',
       'No cooling', 'Equipment End of Life', :now - interval '1 hour', :now
FROM equipment q;
ANALYZE
"""


def fill(engine: Engine) -> None:
    with engine.begin() as conn:
        for statement in FILL.split(";\n"):
            if statement.strip():
                conn.execute(
                    text(statement), {"now": NOW, "open": OPEN, "due": DUE, "tickets": TICKETS}
                )


def measured(engine: Engine, work) -> tuple[float, int, object]:
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        with session_scope(engine) as session:
            report = work(session)
        seconds = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seconds, statements, report


@benchmark("jobs", "nurture over 100k open estimates (10k due), upsell over 10k tickets", order=60)
def jobs(cluster: Cluster, options: Options) -> list[Result]:
    template = cluster.template("head", fill, label="jobs-100k")
    nurture_runs, upsell_runs = [], []
    for _ in range(max(1, options.repeat - 1)):
        with cluster.fresh(template) as engine:
            nurture_runs.append(measured(engine, lambda s: nurture.run(s, now=NOW)))
            upsell_runs.append(measured(engine, lambda s: upsell.sync(s, now=NOW)))
    n_report, u_report = nurture_runs[0][2], upsell_runs[0][2]
    assert n_report.emails_queued == DUE, n_report
    assert u_report.opportunities == TICKETS, u_report
    assert u_report.notifications == 2 * TICKETS, u_report  # the manager and the owner rep
    return [
        Result(
            "nurture: queue follow-ups",
            f"{OPEN:,} open estimates, {DUE:,} due",
            [t for t, _, _ in nurture_runs],
            rows=DUE,
            note=f"{nurture_runs[0][1]} statements; {n_report.emails_queued:,} emails queued",
        ),
        Result(
            "upsell: opportunities + notifications + emails",
            f"{TICKETS:,} end-of-life tickets",
            [t for t, _, _ in upsell_runs],
            rows=TICKETS,
            note=f"{upsell_runs[0][1]} statements; {u_report.opportunities:,} opportunities, "
            f"{u_report.notifications:,} notifications, {u_report.emails:,} emails",
        ),
    ]
