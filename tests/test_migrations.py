"""Migrations against real PostgreSQL: the baseline upgrade with its backfill, downgrade,
and models agreeing with migrations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL

from salesengine_tui.base.errors import SchemaOutOfDate
from salesengine_tui.db import migrate
from salesengine_tui.db.engine import make_engine
from salesengine_tui.db.models import metadata

BASELINE = "0001_operations_baseline"


@pytest.fixture
def bare_engine(empty_db_url: URL) -> Iterator[Engine]:
    eng = make_engine(empty_db_url)
    yield eng
    eng.dispose()


def _operations_data(conn) -> None:
    """An operations database as the plan finds it: customers, tickets, estimates."""
    conn.execute(
        text(
            """
            INSERT INTO users (id, login, name, role) VALUES
              ('00000000-0000-4000-8000-000000000001', 'tech1', 'Tech John', 'technician'),
              ('00000000-0000-4000-8000-000000000002', 'rep1', 'Rita Rep', 'rep');
            INSERT INTO customers (id, name, email) VALUES
              ('10000000-0000-4000-8000-000000000001', 'Closed Job Carla', 'c@example.com'),
              ('10000000-0000-4000-8000-000000000002', 'Booked Job Bob', NULL),
              ('10000000-0000-4000-8000-000000000003', 'In Progress Ida', NULL),
              ('10000000-0000-4000-8000-000000000004', 'Cancelled Only Cal', NULL),
              ('10000000-0000-4000-8000-000000000005', 'Open Request Olga', NULL),
              ('10000000-0000-4000-8000-000000000006', 'No Tickets Nick', NULL);
            INSERT INTO tickets (customer_id, technician_id, status, summary, closed_at,
                                 resolution) VALUES
              ('10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001',
               'closed', 'AC not cooling', now(), 'Replaced capacitor'),
              ('10000000-0000-4000-8000-000000000002', NULL, 'booked', 'Tune-up', NULL, NULL),
              ('10000000-0000-4000-8000-000000000003', NULL, 'in_progress', 'Leak', NULL, NULL),
              ('10000000-0000-4000-8000-000000000004', NULL, 'cancelled', 'Quote', NULL, NULL),
              ('10000000-0000-4000-8000-000000000005', NULL, 'open', 'Noise', NULL, NULL);
            INSERT INTO estimates (customer_id, title, amount, status, created_by) VALUES
              ('10000000-0000-4000-8000-000000000001', 'New AC', 8200, 'sent',
               '00000000-0000-4000-8000-000000000002'),
              ('10000000-0000-4000-8000-000000000002', 'Furnace', 4100, 'accepted', NULL),
              ('10000000-0000-4000-8000-000000000004', 'Boiler', 9900, 'declined', NULL),
              ('10000000-0000-4000-8000-000000000006', 'Mini-split', 3100, 'draft', NULL);
            """
        )
    )


def test_upgrade_backfills_status_from_work_history(bare_engine: Engine) -> None:
    migrate.upgrade(bare_engine, BASELINE)
    with bare_engine.begin() as conn:
        assert "status" not in {c["name"] for c in inspect(conn).get_columns("customers")}
        _operations_data(conn)

    migrate.upgrade(bare_engine)

    with bare_engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT name, status::text FROM customers")).all())
        assert statuses == {
            "Closed Job Carla": "active",
            "Booked Job Bob": "active",
            "In Progress Ida": "active",
            "Cancelled Only Cal": "lead",
            "Open Request Olga": "lead",
            "No Tickets Nick": "lead",
        }
        assert (
            conn.execute(
                text("SELECT count(*) FROM customers WHERE lead_source IS NOT NULL")
            ).scalar()
            == 0
        )
        # Existing estimates land on the Residential board by their status, owner from creator.
        placed = conn.execute(
            text(
                """
                SELECT e.title, s.name, e.stage_entered_at = e.updated_at, u.login
                FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
                JOIN deal_pipelines p ON p.id = s.pipeline_id
                LEFT JOIN users u ON u.id = e.owner_id
                WHERE p.name = 'Residential Replacements' ORDER BY e.title
                """
            )
        ).all()
        assert placed == [
            ("Boiler", "Lost", True, None),
            ("Furnace", "Won", True, None),
            ("Mini-split", "New", True, None),
            ("New AC", "Proposal Sent", True, "rep1"),
        ]
        assert (
            conn.execute(text("SELECT role::text FROM users WHERE login = 'system'")).scalar()
            == "system"
        )


def test_default_pipelines_and_stages(bare_engine: Engine) -> None:
    migrate.upgrade(bare_engine)
    with bare_engine.connect() as conn:
        rows = conn.execute(
            text(
                """
                SELECT p.name, s.name, s.probability, s.is_won, s.is_lost, s.follow_up_after_days
                FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
                ORDER BY p.position, s.position
                """
            )
        ).all()
    residential = [r for r in rows if r[0] == "Residential Replacements"]
    assert [r[1] for r in residential] == [
        "New", "Site Visit Scheduled", "Proposal Sent", "Negotiation", "Won", "Lost",
    ]  # fmt: skip
    assert {r[0] for r in rows} == {"Residential Replacements", "Commercial Contracts"}
    # Exactly one won and one lost stage per pipeline; the follow-up rule sits on Proposal Sent.
    for pipeline in ("Residential Replacements", "Commercial Contracts"):
        stages = [r for r in rows if r[0] == pipeline]
        assert sum(r[3] for r in stages) == 1 and sum(r[4] for r in stages) == 1
        assert [(r[1], r[5]) for r in stages if r[5]] == [("Proposal Sent", 3)]


def test_downgrade_to_baseline_keeps_operations_data_then_to_base(bare_engine: Engine) -> None:
    migrate.upgrade(bare_engine, BASELINE)
    with bare_engine.begin() as conn:
        _operations_data(conn)
    migrate.upgrade(bare_engine)

    migrate.downgrade(bare_engine, BASELINE)
    with bare_engine.connect() as conn:
        inspector = inspect(conn)
        assert "deal_stages" not in inspector.get_table_names()
        assert "status" not in {c["name"] for c in inspector.get_columns("customers")}
        assert conn.execute(text("SELECT count(*) FROM customers")).scalar() == 6
        assert conn.execute(text("SELECT count(*) FROM estimates")).scalar() == 4
        enums = conn.execute(text("SELECT typname FROM pg_type WHERE typtype = 'e'")).scalars()
        assert set(enums) == {"user_role", "ticket_status", "estimate_status"}

    migrate.downgrade(bare_engine, "base")
    with bare_engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == {"alembic_version"}
    # And back up again from nothing.
    migrate.upgrade(bare_engine)
    assert migrate.current_revision(bare_engine) == migrate.head_revision(bare_engine)


# Expression indexes Alembic cannot compare (it reflects `idempotency_key COLLATE "C"` as the
# bare column); their presence is checked by name below instead.
EXPRESSION_INDEXES = {"ix_email_outbox_key_bytes"}


def _compared(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def test_models_and_migrations_agree(bare_engine: Engine) -> None:
    migrate.upgrade(bare_engine)
    with bare_engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": _compared,
            },
        )
        assert compare_metadata(context, metadata) == []
        indexes = conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_email_outbox_key_bytes'"
        ).scalar_one()
        assert 'COLLATE "C"' in indexes


def test_require_current_explains_what_to_run(bare_engine: Engine) -> None:
    with pytest.raises(SchemaOutOfDate, match="run `salesengine db upgrade`"):
        migrate.require_current(bare_engine)
    migrate.upgrade(bare_engine, BASELINE)
    with pytest.raises(SchemaOutOfDate, match=f"at revision {BASELINE}, behind"):
        migrate.require_current(bare_engine)
    migrate.upgrade(bare_engine)
    migrate.require_current(bare_engine)


def test_check_constraints_guard_ranges(engine: Engine) -> None:
    with engine.connect() as conn:
        pipeline = conn.execute(text("SELECT id FROM deal_pipelines LIMIT 1")).scalar()
        with pytest.raises(Exception, match="probability_range"):
            conn.execute(
                text(
                    "INSERT INTO deal_stages (pipeline_id, name, position, probability) "
                    "VALUES (:p, 'Bad', 99, 101)"
                ),
                {"p": pipeline},
            )
        conn.rollback()
        with pytest.raises(Exception, match="name_not_blank"):
            conn.execute(text("INSERT INTO customers (name) VALUES ('   ')"))


def test_next_steps_become_open_tasks(bare_engine: Engine) -> None:
    """A database at 0013 whose customers have next steps (text, a date, both) upgraded to
    head: each step is an open task (title, due, assignee, kind); customers without have none;
    steps already due are marked reminded (the runner does not announce history)."""
    migrate.upgrade(bare_engine, "0013_segment_owner")
    rep, lead, active = (
        "00000000-0000-4000-8000-00000000000a",
        "20000000-0000-4000-8000-000000000001",
        "20000000-0000-4000-8000-000000000002",
    )
    with bare_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, login, name, role) VALUES (:rep, 'rita', 'Rita Rep', 'rep')"
            ),
            {"rep": rep},
        )
        for name, status, owner, step, at in (
            ("Both Lead", "lead", rep, "  Call about the quote ", "2 days"),
            ("Date Only", "active", rep, None, "-3 days"),
            ("Text Only", "lead", None, "Send brochure", None),
            ("Blank Step", "lead", rep, "   ", None),
            ("No Step", "active", rep, None, None),
        ):
            conn.execute(
                text(
                    "INSERT INTO customers (id, name, status, owner_id, next_step, next_step_at) "
                    "VALUES (coalesce(CAST(:id AS uuid), gen_random_uuid()), :name, "
                    "CAST(:status AS customer_status), :owner, :step, "
                    "now() + CAST(:at AS interval))"
                ),
                {"id": {"Both Lead": lead, "Date Only": active}.get(name), "name": name,
                 "status": status, "owner": owner, "step": step, "at": at},
            )  # fmt: skip
        steps = dict(
            conn.execute(text("SELECT name, next_step_at FROM customers")).all()
        )  # the dates as stored, to compare with the tasks' due times

    migrate.upgrade(bare_engine)

    with bare_engine.connect() as conn:
        rows = conn.execute(
            text(
                """
                SELECT c.name, t.kind::text, t.title, t.due_at, t.all_day, u.login,
                       t.done_at IS NULL AS open, t.reminded_at IS NOT NULL AS reminded,
                       t.version, t.created_at IS NOT NULL
                FROM tasks t JOIN customers c ON c.id = t.customer_id
                LEFT JOIN users u ON u.id = t.assignee_id
                ORDER BY c.name
                """
            )
        ).all()
        migrated_at = conn.execute(text("SELECT min(created_at) FROM tasks")).scalar_one()
    got = {r[0]: r[1:] for r in rows}
    assert set(got) == {"Both Lead", "Date Only", "Text Only"}  # none without a step
    assert got["Both Lead"] == (
        "call", "Call about the quote", steps["Both Lead"], False, "rita", True, False, 1, True
    )  # fmt: skip
    assert got["Date Only"] == (
        "todo", "Follow up", steps["Date Only"], False, "rita", True, True, 1, True
    )  # fmt: skip
    # no date: due when migrated (on today's list), nobody's, already announced
    assert got["Text Only"][:2] == ("call", "Send brochure")
    assert got["Text Only"][2] == migrated_at and got["Text Only"][4:7] == (None, True, True)

    # and back: the soonest open task is the customer's next step again
    migrate.downgrade(bare_engine, "0013_segment_owner")
    with bare_engine.connect() as conn:
        back = dict(
            conn.execute(
                text("SELECT name, next_step FROM customers WHERE name = 'Date Only'")
            ).all()
        )
    assert back == {"Date Only": "Follow up"}
