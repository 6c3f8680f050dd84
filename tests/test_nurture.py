"""Nurture against real PostgreSQL with a fixed clock: exact boundaries, the cap, quiet periods,
opt-outs and "call instead", idempotent reruns, and a constant number of statements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import FIXED_NOW, Desk, add_customer, add_estimate, add_interaction, stages_of
from sqlalchemy import Engine, event, text
from sqlmodel import Session

from salesengine_tui.automation import nurture
from salesengine_tui.db.engine import session_scope


def setup_quote(engine: Engine, desk: Desk, entered_ago: timedelta, *, email="q@example.com",
                opted_out=False, touched_ago: timedelta | None = None) -> None:  # fmt: skip
    with Session(engine) as s:
        c = add_customer(s, "Quiet Quentin", owner=s.merge(desk.rep), n=77)
        c.email, c.email_opt_out = email, opted_out
        stage = stages_of(s, "Residential Replacements")["Proposal Sent"]  # follow up after 3 days
        add_estimate(s, c, stage, 9000, title="New AC, 3-ton", owner=s.merge(desk.rep),
                     entered_at=FIXED_NOW - entered_ago)  # fmt: skip
        if touched_ago is not None:
            add_interaction(s, c, s.merge(desk.rep), at=FIXED_NOW - touched_ago)
            c.last_interaction_at = FIXED_NOW - touched_ago
        s.commit()


def run(engine: Engine, at=FIXED_NOW, **kw) -> nurture.NurtureReport:
    with session_scope(engine) as s:
        return nurture.run(s, now=at, **kw)


def queued(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT idempotency_key, subject, body_text FROM email_outbox WHERE idempotency_key LIKE 'nurture:%' ORDER BY created_at"
        ))]  # fmt: skip


@pytest.mark.parametrize(
    ("entered", "touched", "emails"),
    [
        (timedelta(days=2, hours=23), None, 0),
        (timedelta(days=3), None, 1),
        (timedelta(days=10), timedelta(hours=1), 0),  # activity an hour ago
        (timedelta(days=10), timedelta(days=3), 1),
    ],
)
def test_boundary_is_exact(engine: Engine, desk: Desk, entered, touched, emails) -> None:
    setup_quote(engine, desk, entered, touched_ago=touched)
    assert run(engine).emails == emails
    assert len(queued(engine)) == emails


def test_follow_ups_space_out_and_stop_at_the_cap(engine: Engine, desk: Desk) -> None:
    setup_quote(engine, desk, timedelta(days=3))
    assert run(engine).emails == 1
    assert run(engine).emails == 0  # a rerun the same night: nothing twice
    assert run(engine, FIXED_NOW + timedelta(days=2)).emails == 0  # the email was activity
    assert run(engine, FIXED_NOW + timedelta(days=3)).emails == 1
    assert run(engine, FIXED_NOW + timedelta(days=6)).emails == 1
    assert run(engine, FIXED_NOW + timedelta(days=30)).emails == 0  # 3 per stage entry
    keys = [k for k, _, _ in queued(engine)]
    assert [k.rsplit(":", 1)[1] for k in keys] == ["1", "2", "3"]
    subject, body = queued(engine)[0][1:]
    assert subject == "Checking in on your quote: New AC, 3-ton"
    assert "Just checking in on the quote for New AC, 3-ton" in body and "Sam Ortiz" in body


@pytest.mark.parametrize(
    ("email", "opted_out"), [(None, False), ("q@example.com", True), ("not-an-email", False)]
)
def test_no_email_means_call_instead_once(engine: Engine, desk: Desk, email, opted_out) -> None:
    setup_quote(engine, desk, timedelta(days=5), email=email, opted_out=opted_out)
    first = run(engine)  # the desk's own quiet quote (Bill: no email, Dana's) is due too
    assert (first.emails, first.call_instead) == (0, 2)
    assert run(engine, FIXED_NOW + timedelta(days=4)).call_instead == 0  # once per stage entry
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT title FROM notifications WHERE kind = 'call-instead' AND user_id = :u"),
            {"u": desk.rep.id},
        ).all()
    assert len(rows) == 1 and "Quiet Quentin" in rows[0][0]


def test_dry_run_counts_and_writes_nothing(engine: Engine, desk: Desk) -> None:
    setup_quote(engine, desk, timedelta(days=4))
    assert run(engine, dry_run=True) == nurture.NurtureReport(1, 1)  # + Bill: call instead
    assert queued(engine) == []


def test_statement_count_does_not_grow_with_the_data(engine: Engine, desk: Desk) -> None:
    with Session(engine) as s:
        stage = stages_of(s, "Residential Replacements")["Proposal Sent"]
        for i in range(200):
            c = add_customer(s, f"Q{i}", n=500 + i)
            c.email = f"q{i}@example.com"
            add_estimate(s, c, stage, 100, entered_at=FIXED_NOW - timedelta(days=5))
        s.commit()
    statements: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert run(engine).emails == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) <= 4  # system user, emails, call-instead (plus the session's own)
