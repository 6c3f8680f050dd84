"""The demo seeder on a real PostgreSQL: the data is consistent, repeatable and all-or-nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import UserError
from salesengine_tui.db.demo import SeedReport, database_is_empty, seed_demo
from salesengine_tui.db.engine import make_engine
from salesengine_tui.db.scratch import ScratchCluster

CUSTOMERS = 500
INDEXES = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"
TABLES = (
    "users",
    "customers",
    "equipment",
    "tickets",
    "estimates",
    "estimate_stage_history",
    "customer_interactions",
    "tasks",
)

# Each query counts rows that break a rule the rest of the app relies on: all must be 0.
INVARIANTS = {
    # The migration's backfill rule: booked or completed work makes a customer active.
    "active or churned without work": """
        SELECT count(*) FROM customers c WHERE c.status <> 'lead' AND NOT EXISTS (
            SELECT 1 FROM tickets t WHERE t.customer_id = c.id
              AND t.status IN ('booked', 'in_progress', 'closed'))
    """,
    "lead with work": """
        SELECT count(*) FROM customers c WHERE c.status = 'lead' AND EXISTS (
            SELECT 1 FROM tickets t WHERE t.customer_id = c.id
              AND t.status IN ('booked', 'in_progress', 'closed'))
    """,
    "last_interaction_at is not the latest interaction": """
        SELECT count(*) FROM customers c WHERE c.last_interaction_at IS DISTINCT FROM (
            SELECT max(i.created_at) FROM customer_interactions i WHERE i.customer_id = c.id)
    """,
    "estimate without a history row entering its stage": """
        SELECT count(*) FROM estimates e WHERE e.stage_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM estimate_stage_history h WHERE h.estimate_id = e.id
              AND h.to_stage_id = e.stage_id AND h.moved_at = e.stage_entered_at
              AND h.to_stage_name = (SELECT s.name FROM deal_stages s WHERE s.id = e.stage_id))
    """,
    "history row after the current stage entry": """
        SELECT count(*) FROM estimate_stage_history h JOIN estimates e ON e.id = h.estimate_id
        WHERE h.moved_at > e.stage_entered_at OR h.moved_at < e.created_at
    """,
    "won estimate not accepted": """
        SELECT count(*) FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
        WHERE s.is_won AND e.status <> 'accepted'
    """,
    "lost estimate not declined with a reason": """
        SELECT count(*) FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
        WHERE s.is_lost AND (e.status <> 'declined' OR e.lost_reason IS NULL)
    """,
    "open estimate with a decided status": """
        SELECT count(*) FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
        WHERE NOT s.is_won AND NOT s.is_lost AND e.status NOT IN ('draft', 'sent')
    """,
    "estimate linked to a ticket that is not end of life": """
        SELECT count(*) FROM estimates e JOIN tickets t ON t.id = e.source_ticket_id
        WHERE t.resolution <> 'Equipment End of Life' OR e.created_at < t.closed_at
    """,
    "won estimate for a customer who is not active": """
        SELECT count(*) FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
        JOIN customers c ON c.id = e.customer_id WHERE s.is_won AND c.status <> 'active'
    """,
    "ticket on another customer's equipment": """
        SELECT count(*) FROM tickets t JOIN equipment q ON q.id = t.equipment_id
        WHERE q.customer_id <> t.customer_id
    """,
    "ticket technician who is not a technician": """
        SELECT count(*) FROM tickets t JOIN users u ON u.id = t.technician_id
        WHERE u.role <> 'technician'
    """,
    "technician without a scheduled visit, or a scheduled visit without one": """
        SELECT count(*) FROM tickets WHERE (technician_id IS NULL) <> (scheduled_for IS NULL)
    """,
    "estimate owner or interaction author who is not a rep": """
        SELECT (SELECT count(*) FROM estimates e JOIN users u ON u.id = e.owner_id
                WHERE u.role <> 'rep')
             + (SELECT count(*) FROM customer_interactions i JOIN users u ON u.id = i.created_by
                WHERE u.role <> 'rep')
             + (SELECT count(*) FROM customers c JOIN users u ON u.id = c.owner_id
                WHERE u.role <> 'rep')
    """,
    "lead without an owner": "SELECT count(*) FROM customers WHERE status = 'lead' AND owner_id IS NULL",
    "interaction before its customer existed": """
        SELECT count(*) FROM customer_interactions i JOIN customers c ON c.id = i.customer_id
        WHERE i.created_at < c.created_at
    """,
    "outcome on a non-call or a call without one": """
        SELECT count(*) FROM customer_interactions
        WHERE (type = 'call') <> (outcome IS NOT NULL)
    """,
    "task for a deal of another customer": """
        SELECT count(*) FROM tasks t JOIN estimates e ON e.id = t.estimate_id
        WHERE e.customer_id <> t.customer_id
    """,
    "task for someone who is not a rep or a manager, or for nobody": """
        SELECT count(*) FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id
        WHERE u.role IS NULL OR u.role NOT IN ('rep', 'manager')
    """,
    "all-day task not at the start of its day in the business time zone": """
        SELECT count(*) FROM tasks
        WHERE all_day AND (due_at AT TIME ZONE 'America/Chicago')::time <> '00:00'
    """,
    "timed task already due and not marked reminded, or marked before it was due": """
        SELECT count(*) FROM tasks t, (SELECT max(created_at) AS now FROM customers) n
        WHERE NOT t.all_day AND t.done_at IS NULL
          AND ((t.due_at <= n.now - interval '1 minute') <> (t.reminded_at IS NOT NULL)
               OR t.reminded_at < t.due_at)
    """,
    "all-day task marked reminded": """
        SELECT count(*) FROM tasks WHERE all_day AND done_at IS NULL AND reminded_at IS NOT NULL
    """,
    "task created before its customer or done before it was made": """
        SELECT count(*) FROM tasks t JOIN customers c ON c.id = t.customer_id
        WHERE t.created_at < c.created_at OR t.done_at < t.created_at
           OR (t.done_at IS NULL) <> (t.done_by IS NULL)
    """,
    "phone not E.164": r"SELECT count(*) FROM customers WHERE phone !~ '^\+1[2-9]\d{9}$'",
    "email not lowercase": "SELECT count(*) FROM customers WHERE email <> lower(email)",
}


def _scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def _checksums(engine: Engine) -> dict[str, str]:
    # Every column of every row, ids and timestamps included.
    return {
        table: str(
            _scalar(engine, f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t")
        )
        for table in TABLES
    }


@pytest.fixture
def seeded(engine: Engine, clock: FixedClock) -> SeedReport:
    return seed_demo(engine, customers=CUSTOMERS, seed=7, clock=clock)


def test_counts_are_plausible(engine: Engine, seeded: SeedReport) -> None:
    counts = seeded.counts
    assert counts["customers"] == CUSTOMERS
    assert 1.6 * CUSTOMERS < counts["equipment"] < 2.4 * CUSTOMERS
    assert 0.9 * CUSTOMERS < counts["tickets"] < 1.8 * CUSTOMERS
    assert 0.8 * CUSTOMERS < counts["customer_interactions"] < 2.2 * CUSTOMERS
    assert counts["estimate_stage_history"] >= counts["estimates"] > 0.1 * CUSTOMERS
    assert counts["users"] == 1 + 1 + 6 + 8  # demo, a second manager, reps, technicians
    assert seeded.total_rows == sum(counts.values())
    assert seeded.elapsed_seconds > 0 and seeded.rows_per_second > 0
    for table in TABLES[1:]:
        assert _scalar(engine, f"SELECT count(*) FROM {table}") == counts[table], table

    statuses = dict(_rows(engine, "SELECT status::text, count(*) FROM customers GROUP BY 1"))
    assert 0.22 < statuses["lead"] / CUSTOMERS < 0.38  # type: ignore[operator]
    assert 0.52 < statuses["active"] / CUSTOMERS < 0.68  # type: ignore[operator]
    assert 0.05 < statuses["churned"] / CUSTOMERS < 0.15  # type: ignore[operator]
    open_estimates = _scalar(
        engine,
        """SELECT count(*) FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
           WHERE NOT s.is_won AND NOT s.is_lost""",
    )
    assert 0.06 * CUSTOMERS < open_estimates < 0.15 * CUSTOMERS  # type: ignore[operator]
    # Both pipelines get cards, most of them residential.
    per_pipeline = dict(
        _rows(
            engine,
            """SELECT p.name, count(*) FROM estimates e
               JOIN deal_stages s ON s.id = e.stage_id
               JOIN deal_pipelines p ON p.id = s.pipeline_id GROUP BY 1""",
        )
    )
    residential = per_pipeline["Residential Replacements"]
    assert residential > per_pipeline["Commercial Contracts"] > 0  # type: ignore[operator]


def test_invariants_hold(engine: Engine, seeded: SeedReport) -> None:
    broken = {rule: n for rule, sql in INVARIANTS.items() if (n := _scalar(engine, sql)) != 0}
    assert broken == {}


def test_people_and_special_cases(engine: Engine, seeded: SeedReport, clock: FixedClock) -> None:
    demo = _rows(engine, "SELECT name, role::text, email, active FROM users WHERE login = 'demo'")
    assert demo == [("Morgan Avery", "manager", "morgan.avery@lonestarcomfort.example", True)]
    eol = "resolution = 'Equipment End of Life'"
    assert _scalar(engine, f"SELECT count(*) FROM tickets WHERE {eol}") > 0  # type: ignore[operator]
    # Recent end-of-life closures with no opportunity yet: work for the upsell job.
    recent = _scalar(
        engine,
        f"""SELECT count(*) FROM tickets t WHERE {eol} AND t.closed_at > :since
            AND NOT EXISTS (SELECT 1 FROM estimates e WHERE e.source_ticket_id = t.id)""",
        since=clock.now() - timedelta(days=14),
    )
    assert recent > 0  # type: ignore[operator]
    # Some opportunities came from end-of-life tickets, one per ticket.
    [(linked, distinct)] = _rows(
        engine, "SELECT count(source_ticket_id), count(DISTINCT source_ticket_id) FROM estimates"
    )
    assert linked == distinct > 0  # type: ignore[operator]
    # Nothing happens after "now", except booked visits and next steps.
    for sql in (
        "SELECT max(created_at) FROM customers",
        "SELECT max(created_at) FROM customer_interactions",
        "SELECT max(moved_at) FROM estimate_stage_history",
        "SELECT max(closed_at) FROM tickets",
    ):
        assert _scalar(engine, sql) <= clock.now(), sql  # type: ignore[operator]
    # Rotting cards exist (older in their stage than its rotting_days), but are not the rule.
    rotting = _scalar(
        engine,
        """SELECT avg((e.stage_entered_at < :now - make_interval(days => s.rotting_days))::int)
           FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
           WHERE s.rotting_days IS NOT NULL""",
        now=clock.now(),
    )
    assert 0.05 < rotting < 0.5  # type: ignore[operator]


def test_tasks_are_a_realistic_mix(engine: Engine, seeded: SeedReport, clock: FixedClock) -> None:
    """Overdue, today and upcoming; timed and all-day; reps' and managers' (demo's most);
    some for a deal; some done."""
    now = clock.now()
    open_tasks = "FROM tasks t WHERE t.done_at IS NULL"
    total = _scalar(engine, f"SELECT count(*) {open_tasks}")
    assert 0.08 * CUSTOMERS < total < 0.3 * CUSTOMERS  # type: ignore[operator]
    today = "(t.due_at AT TIME ZONE 'America/Chicago')::date"
    local_today = "(CAST(:now AS timestamptz) AT TIME ZONE 'America/Chicago')::date"
    buckets = dict(
        _rows_with(
            engine,
            f"""SELECT CASE WHEN {today} < {local_today} THEN 'overdue'
                            WHEN {today} = {local_today} THEN 'today' ELSE 'upcoming' END,
                       count(*) {open_tasks} GROUP BY 1""",
            now=now,
        )
    )
    assert set(buckets) == {"overdue", "today", "upcoming"}
    assert 0.1 < buckets["overdue"] / total < 0.4  # type: ignore[operator]
    assert 0.08 < buckets["today"] / total < 0.35  # type: ignore[operator]
    shapes = dict(_rows(engine, f"SELECT t.all_day, count(*) {open_tasks} GROUP BY 1"))
    assert 0.25 < shapes[True] / total < 0.55  # type: ignore[operator]
    roles = dict(
        _rows(
            engine,
            """SELECT u.role::text, count(*) FROM tasks t JOIN users u ON u.id = t.assignee_id
               WHERE t.done_at IS NULL GROUP BY 1""",
        )
    )
    assert set(roles) == {"rep", "manager"} and roles["rep"] > roles["manager"]  # type: ignore[operator]
    demo = _scalar(
        engine, f"SELECT count(*) {open_tasks} AND t.assignee_id = "
        "(SELECT id FROM users WHERE login = 'demo')",
    )  # fmt: skip
    assert demo > 0  # type: ignore[operator]
    assert _scalar(engine, f"SELECT count(*) {open_tasks} AND t.estimate_id IS NOT NULL") > 0  # type: ignore[operator]
    assert _scalar(engine, "SELECT count(*) FROM tasks WHERE done_at IS NOT NULL") > 0  # type: ignore[operator]
    kinds = {r[0] for r in _rows(engine, f"SELECT DISTINCT t.kind::text {open_tasks}")}
    assert kinds == {"call", "email", "meeting", "site_visit", "todo"}


def _rows_with(engine: Engine, sql: str, **params: object) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def test_identity_sequences_continue_after_the_demo_rows(
    engine: Engine, seeded: SeedReport
) -> None:
    with engine.begin() as conn:
        customer = conn.execute(text("SELECT id FROM customers LIMIT 1")).scalar_one()
        number = conn.execute(
            text(
                """INSERT INTO tickets (customer_id, status, summary)
                   VALUES (:c, 'open', 'Test') RETURNING number"""
            ),
            {"c": customer},
        ).scalar_one()
    assert number == seeded.counts["tickets"] + 1


def test_same_seed_same_bytes_other_seed_other_data(
    pg_cluster: ScratchCluster, clock: FixedClock
) -> None:
    names = [pg_cluster.create(template="se_template") for _ in range(3)]
    engines = [make_engine(pg_cluster.url(name)) for name in names]
    try:
        for eng, seed in zip(engines, (11, 11, 12), strict=True):
            seed_demo(eng, customers=300, seed=seed, clock=FixedClock(clock.now()))
        first, again, other = (_checksums(eng) for eng in engines)
        assert first == again
        for table in TABLES:
            assert first[table] != other[table], table
    finally:
        for eng, name in zip(engines, names, strict=True):
            eng.dispose()
            pg_cluster.drop(name)


def test_refuses_a_database_with_customers(engine: Engine, clock: FixedClock) -> None:
    assert database_is_empty(engine)
    seed_demo(engine, customers=20, seed=1, clock=clock)
    assert not database_is_empty(engine)
    with pytest.raises(UserError, match="already holds customers"):
        seed_demo(engine, customers=20, seed=2, clock=clock)
    assert _scalar(engine, "SELECT count(*) FROM customers") == 20


def test_failure_midway_leaves_nothing(engine: Engine, clock: FixedClock) -> None:
    index_count = _scalar(engine, INDEXES)
    users = _scalar(engine, "SELECT count(*) FROM users")
    calls: list[tuple[str, int, int]] = []

    def fail_after_first_chunk(phase: str, done: int, total: int) -> None:
        calls.append((phase, done, total))
        if phase == "customers" and done > 0:
            raise RuntimeError("disk full (simulated)")

    with pytest.raises(RuntimeError, match="simulated"):
        seed_demo(engine, customers=6000, seed=3, clock=clock, progress=fail_after_first_chunk)
    assert calls == [("customers", 5000, 6000)]  # the first chunk was copied in
    for table in TABLES[1:]:
        assert _scalar(engine, f"SELECT count(*) FROM {table}") == 0, table
    assert _scalar(engine, "SELECT count(*) FROM users") == users
    # The dropped keys and indexes came back with the rollback.
    assert _scalar(engine, INDEXES) == index_count
    assert database_is_empty(engine)


def test_missing_default_stage_is_a_clear_error(engine: Engine, clock: FixedClock) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                """DELETE FROM deal_stages WHERE name = 'Negotiation' AND pipeline_id =
                   (SELECT id FROM deal_pipelines WHERE name = 'Commercial Contracts')"""
            )
        )
    with pytest.raises(UserError, match="'Commercial Contracts' has no 'Negotiation' stage"):
        seed_demo(engine, customers=10, seed=1, clock=clock)
    assert database_is_empty(engine)


def test_progress_reports_every_phase(engine: Engine, clock: FixedClock) -> None:
    calls: list[tuple[str, int, int]] = []
    seed_demo(engine, customers=12_000, seed=5, clock=clock, progress=lambda *a: calls.append(a))
    loading = [c for c in calls if c[0] == "customers"]
    assert loading == [
        ("customers", 5000, 12000),
        ("customers", 10000, 12000),
        ("customers", 12000, 12000),
    ]
    phases = [c[0] for c in calls]
    assert phases.index("indexes") < phases.index("statistics")
    assert calls[-1] == ("statistics", 7, 7)


@pytest.mark.parametrize("customers", [0, -5])
def test_rejects_a_bad_customer_count(engine: Engine, clock: FixedClock, customers: int) -> None:
    with pytest.raises(UserError, match="number of demo customers"):
        seed_demo(engine, customers=customers, seed=1, clock=clock)
