"""Tech upsell sync against real PostgreSQL: once per ticket, re-close, leads too, managers
notified and emailed in the same transaction, two runners at once never double anything; the
watermark (history is not news), the owner and the median value of a new opportunity, and the
backfill of history on request."""

from __future__ import annotations

import statistics
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from factories import (
    FIXED_NOW,
    Desk,
    add_customer,
    add_estimate,
    add_user,
    pipeline_by_name,
    stages_of,
)
from sqlalchemy import Engine, text
from sqlmodel import Session

from salesengine_tui.automation import upsell
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db import live
from salesengine_tui.db.demo import seed_demo
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import (
    END_OF_LIFE_RESOLUTION,
    Equipment,
    Ticket,
    User,
    UserRole,
)
from salesengine_tui.deals import board

TZ = ZoneInfo("America/Chicago")  # tests/test-config.toml's business time zone
SWITCHED_ON = FIXED_NOW - timedelta(days=1)  # when close_ticket's upsell loop was switched on


def set_watermark(engine: Engine, at: datetime) -> None:
    """The upsell loop was switched on at `at` (unless it already was)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO automation_marks (name, at) VALUES ('upsell', :at) "
                "ON CONFLICT (name) DO NOTHING"
            ),
            {"at": at},
        )


def close_ticket(
    engine: Engine,
    desk: Desk,
    *,
    resolution: str = END_OF_LIFE_RESOLUTION,
    n: int = 1,
    closed_at: datetime = FIXED_NOW,
    kind: str | None = "Heat pump",
    owner: User | None = None,
    switched_on: bool = True,
) -> Ticket:
    """A technician closes a ticket on a new customer's unit. `switched_on`: the upsell loop
    already runs (its watermark is before the close), so the close is news, not history."""
    if switched_on:
        set_watermark(engine, SWITCHED_ON)
    with Session(engine, expire_on_commit=False) as s:
        tech = add_user(s, f"tech{n}", name=f"John Tech{n}", role=UserRole.technician)
        customer = add_customer(s, f"Upsell Customer {n}", n=300 + n, owner=owner)
        customer.address, customer.city = "123 Main St", "Dallas"
        unit = None
        if kind is not None:
            unit = Equipment(customer_id=customer.id, kind=kind, installed_on=date(2004, 5, 1))
            s.add(unit)
            s.flush()
        ticket = Ticket(customer_id=customer.id, equipment_id=unit.id if unit else None,
                        technician_id=tech.id, status="closed", summary="No heat",
                        resolution=resolution, opened_at=closed_at - timedelta(hours=3),
                        closed_at=closed_at)  # fmt: skip
        s.add(ticket)
        s.commit()
        return ticket


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(text(q)).scalar_one()
            for q in (
                "SELECT count(*) FROM estimates WHERE source_ticket_id IS NOT NULL",
                "SELECT count(*) FROM notifications WHERE kind = 'upsell'",
                "SELECT count(*) FROM email_outbox WHERE idempotency_key LIKE 'upsell:%'",
            )
        )


def sync(engine: Engine, at: datetime = FIXED_NOW) -> upsell.UpsellReport:
    with session_scope(engine) as s:
        return upsell.sync(s, now=at)


def backfill(engine: Engine, since: date, at: datetime = FIXED_NOW) -> upsell.UpsellReport:
    with session_scope(engine) as s:
        return upsell.backfill(s, since=since, tz=TZ, now=at)


def made(report: upsell.UpsellReport) -> tuple[int, int, int]:
    return report.opportunities, report.notifications, report.emails


def opportunity(engine: Engine, ticket: Ticket) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text(
                    "SELECT e.title, s.name AS stage, e.amount, e.amount_estimated, e.owner_id, "
                    "c.status::text AS customer_status, e.equipment_id IS NOT NULL AS unit "
                    "FROM estimates e JOIN deal_stages s ON s.id = e.stage_id "
                    "JOIN customers c ON c.id = e.customer_id WHERE e.source_ticket_id = :t"
                ),
                {"t": ticket.id},
            )
            .one()
            ._mapping
        )


def notes_of(engine: Engine) -> list[tuple[str, str, str]]:
    """(login, title, body) of every upsell notification, by login then title."""
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT u.login, n.title, n.body FROM notifications n "
                    "JOIN users u ON u.id = n.user_id WHERE n.kind = 'upsell' ORDER BY 1, 2"
                )
            )
        ]


def test_end_of_life_ticket_becomes_one_opportunity(engine: Engine, desk: Desk) -> None:
    ticket = close_ticket(engine, desk)
    close_ticket(engine, desk, resolution="Replaced capacitor", n=2)  # not end of life
    report = sync(engine)
    assert made(report) == (1, 1, 1)  # one manager: Dana; no owner
    assert report.watermark == SWITCHED_ON and not report.watermark_set
    est = opportunity(engine, ticket)
    assert est["title"] == "Replace Heat pump (end of life)" and est["stage"] == "New"
    assert est["unit"] and est["customer_status"] == "lead"  # a lead gets an opportunity too
    # No won heat pump in the last year: $0, not an estimate, and nobody's.
    assert est["amount"] == 0 and not est["amount_estimated"] and est["owner_id"] is None
    [(login, title, body)] = notes_of(engine)
    assert login == "dana"
    assert title == "Tech John Tech1 just flagged a system for replacement at 123 Main St, Dallas."
    assert "unassigned (the customer has no active owner)" in body
    assert "$0.00 until someone sets its value" in body
    with engine.connect() as conn:
        mail = conn.execute(text("SELECT to_email, body_text FROM email_outbox")).one()
    assert mail[0] == "dana@example.com" and "123 Main St, Dallas" in mail[1]
    # again, and after a re-open and re-close: nothing new
    assert made(sync(engine)) == (0, 0, 0)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE tickets SET status = 'open', closed_at = NULL WHERE id = :t"),
            {"t": ticket.id},
        )
        conn.execute(
            text("UPDATE tickets SET status = 'closed', closed_at = now() WHERE id = :t"),
            {"t": ticket.id},
        )
    assert sync(engine, FIXED_NOW + timedelta(minutes=5)).opportunities == 0
    assert counts(engine) == (1, 1, 1)


def test_the_first_run_sets_the_watermark_and_history_stays_history(
    engine: Engine, desk: Desk
) -> None:
    old = [
        close_ticket(
            engine, desk, n=n, closed_at=FIXED_NOW - timedelta(days=days), switched_on=False
        )
        for n, days in ((1, 900), (2, 30), (3, 0))
    ]
    first = sync(engine, FIXED_NOW + timedelta(seconds=1))
    assert made(first) == (0, 0, 0)
    assert first.watermark_set and first.watermark == FIXED_NOW + timedelta(seconds=1)
    with engine.connect() as conn:
        mark = conn.execute(text("SELECT at, set_at FROM automation_marks")).one()
    assert mark.at == FIXED_NOW + timedelta(seconds=1)
    # Later runs keep the watermark; history stays untouched.
    later = sync(engine, FIXED_NOW + timedelta(hours=1))
    assert made(later) == (0, 0, 0) and not later.watermark_set
    assert later.watermark == first.watermark
    # A close after it is news: exactly one opportunity, one notification per manager.
    fresh = close_ticket(engine, desk, n=4, closed_at=FIXED_NOW + timedelta(minutes=30))
    assert made(sync(engine, FIXED_NOW + timedelta(hours=2))) == (1, 1, 1)
    assert counts(engine) == (1, 1, 1)
    with engine.connect() as conn:
        linked = conn.execute(
            text("SELECT source_ticket_id FROM estimates WHERE source_ticket_id IS NOT NULL")
        ).scalar_one()
    assert linked == fresh.id and fresh.id not in {t.id for t in old}


def test_a_close_older_than_a_day_is_not_just_flagged(engine: Engine, desk: Desk) -> None:
    """The runner was down for days: the closes since the watermark are news, told with the
    day they happened (where the business is), never as "just flagged"."""
    set_watermark(engine, FIXED_NOW - timedelta(days=7))
    close_ticket(engine, desk, closed_at=FIXED_NOW - timedelta(days=3))
    with session_scope(engine) as s:
        assert upsell.sync(s, now=FIXED_NOW, tz=TZ).notifications == 1
    [(_, title, _)] = notes_of(engine)
    assert title == (
        "Tech John Tech1 flagged a system for replacement at 123 Main St, Dallas on Nov 21, 2026."
    )
    with engine.connect() as conn:
        body = conn.execute(text("SELECT body_text FROM email_outbox")).scalar_one()
    assert body.startswith("Tech John Tech1 flagged a system for replacement at 123 Main St")


def test_a_run_takes_at_most_its_limit_and_the_next_one_the_rest(
    engine: Engine, desk: Desk
) -> None:
    for n in range(1, 6):
        close_ticket(engine, desk, n=n, closed_at=FIXED_NOW - timedelta(minutes=n))
    with session_scope(engine) as s:
        assert upsell.sync(s, now=FIXED_NOW, limit=3).opportunities == 3
    assert sync(engine).opportunities == 2
    assert counts(engine) == (5, 5, 5)


def won_deal(
    s: Session, desk: Desk, kind: str, amount: int, days_ago: float, *, stage: str = "Won",
    pipeline: str = "Residential Replacements", n: int,
) -> None:  # fmt: skip
    customer = add_customer(s, f"Won Customer {n}", n=500 + n, status="active")
    unit = Equipment(customer_id=customer.id, kind=kind, installed_on=date(2010, 1, 1))
    s.add(unit)
    s.flush()
    estimate = add_estimate(s, customer, stages_of(s, pipeline)[stage], amount, owner=desk.rep,
                            entered_at=FIXED_NOW - timedelta(days=days_ago))  # fmt: skip
    estimate.equipment_id = unit.id


def test_the_owner_gets_it_and_the_value_is_the_median_won_value(
    engine: Engine, desk: Desk
) -> None:
    with session_scope(engine) as s:
        for n, (kind, amount, days, stage, pipeline) in enumerate(
            [
                ("heat pump", 8000, 10, "Won", "Residential Replacements"),  # any case
                ("HEAT PUMP", 9000, 100, "Won", "Residential Replacements"),
                ("Heat pump", 12000, 200, "Won", "Residential Replacements"),
                ("Heat Pump", 13000, 364, "Won", "Residential Replacements"),
                ("Heat pump", 50000, 366, "Won", "Residential Replacements"),  # over a year ago
                ("Heat pump", 0, 5, "Won", "Residential Replacements"),  # $0 says nothing
                ("Heat pump", 90000, 5, "Negotiation", "Residential Replacements"),  # not won
                ("Heat pump", 125000, 5, "Won", "Commercial Contracts"),  # another pipeline
                ("Furnace", 4000, 5, "Won", "Residential Replacements"),  # another kind
            ],
            start=1,
        ):
            won_deal(s, desk, kind, amount, days, stage=stage, pipeline=pipeline, n=n)
    ticket = close_ticket(engine, desk, owner=desk.rep)  # Sam, a rep
    assert made(sync(engine)) == (1, 2, 1)  # Dana (manager) and Sam (the owner); Dana's email
    est = opportunity(engine, ticket)
    assert est["owner_id"] == desk.rep.id
    assert est["amount"] == Decimal("10500.00") and est["amount_estimated"]  # (9000+12000)/2
    [dana, sam] = notes_of(engine)
    assert dana[0] == "dana" and sam[0] == "sam"
    assert "just flagged" in dana[1] and sam[1].endswith(": the opportunity is yours.")
    assert "assigned to Sam Ortiz (the customer's owner, told too)" in dana[2]
    assert "estimated at $10,500.00 (the median won value" in dana[2]
    assert sam[2] == dana[2]


@pytest.mark.parametrize(
    ("role", "active", "owned", "notified"),
    [
        (UserRole.manager, True, True, 1),  # a manager owner hears of it with the managers
        (UserRole.rep, False, False, 1),  # an inactive rep: nobody's
        (UserRole.technician, True, False, 1),  # not a seller: nobody's
    ],
)
def test_who_owns_a_new_opportunity(
    engine: Engine, desk: Desk, role: UserRole, active: bool, owned: bool, notified: int
) -> None:
    with session_scope(engine) as s:
        owner = add_user(s, "olive", name="Olive Owner", role=role)
        owner.active = active
    ticket = close_ticket(engine, desk, owner=owner, kind=None)  # no unit: "system", $0
    report = sync(engine)
    est = opportunity(engine, ticket)
    assert est["owner_id"] == (owner.id if owned else None)
    assert est["title"] == "Replace system (end of life)" and est["amount"] == 0
    managers = 1 + (role is UserRole.manager and active)
    assert made(report) == (1, managers * notified, managers)


def test_backfill_turns_history_into_opportunities_with_one_summary_each(
    engine: Engine, desk: Desk
) -> None:
    with session_scope(engine) as s:
        add_user(s, "mia", name="Mia Park", role=UserRole.manager)
        add_user(s, "old", name="Old Boss", role=UserRole.manager).active = False
    # Chicago is UTC-5 in January: 05:00 UTC on the 10th is the first minute of that day there.
    day = date(2026, 1, 10)
    cases = {
        1: datetime(2026, 1, 10, 4, 59, tzinfo=ZoneInfo("UTC")),  # the 9th where the business is
        2: datetime(2026, 1, 10, 6, 0, tzinfo=ZoneInfo("UTC")),
        3: FIXED_NOW - timedelta(days=30),
        4: FIXED_NOW - timedelta(minutes=1),
    }
    tickets = {
        n: close_ticket(engine, desk, n=n, closed_at=at, switched_on=False)
        for n, at in cases.items()
    }
    assert made(sync(engine)) == (0, 0, 0)  # the first run: the watermark, at FIXED_NOW
    after = close_ticket(engine, desk, n=5, closed_at=FIXED_NOW + timedelta(minutes=5))

    report = backfill(engine, day, FIXED_NOW + timedelta(hours=1))
    assert made(report) == (3, 2, 0)  # tickets 2-4; Dana and Mia; no email
    assert report.watermark == FIXED_NOW
    with engine.connect() as conn:
        linked = set(conn.execute(text("SELECT source_ticket_id FROM estimates")).scalars())
    assert {t.id for t in tickets.values() if t.id in linked} == {tickets[n].id for n in (2, 3, 4)}
    assert after.id not in linked  # after the watermark: the regular run's
    notes = notes_of(engine)
    assert [(login, title) for login, title, _ in notes] == [
        ("dana", "3 replacement opportunities from tickets closed since 2026-01-10"),
        ("mia", "3 replacement opportunities from tickets closed since 2026-01-10"),
    ]
    assert "just flagged" not in notes[0][2] and "No email was sent" in notes[0][2]
    # Again: nothing new, and nobody told twice.
    assert made(backfill(engine, day, FIXED_NOW + timedelta(hours=2))) == (0, 0, 0)
    # An earlier date takes the rest, one summary each for it.
    assert made(backfill(engine, date(2026, 1, 1), FIXED_NOW + timedelta(hours=3))) == (1, 2, 0)
    assert (
        notes_of(engine)[0][1] == "1 replacement opportunity from tickets closed since 2026-01-01"
    )
    # The regular run still takes the fresh close, as news.
    assert made(sync(engine, FIXED_NOW + timedelta(hours=4))) == (1, 2, 2)
    assert counts(engine) == (5, 6, 2)


def test_a_backfill_before_any_run_sets_the_watermark_first(engine: Engine, desk: Desk) -> None:
    close_ticket(engine, desk, closed_at=FIXED_NOW - timedelta(days=3), switched_on=False)
    report = backfill(engine, date(2026, 11, 1))
    assert made(report) == (1, 1, 0) and report.watermark_set and report.watermark == FIXED_NOW
    assert made(sync(engine, FIXED_NOW + timedelta(minutes=1))) == (0, 0, 0)


def in_parallel(work, times: int = 2) -> list[object]:
    """`work()` on `times` threads released together; what each returned (or raised)."""
    barrier = threading.Barrier(times)
    results: list[object] = []

    def runner() -> None:
        barrier.wait()
        try:
            results.append(work())
        except Exception as exc:  # a unique-key clash is the loser's only possible failure
            results.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_runners_at_once_never_double(engine: Engine, desk: Desk) -> None:
    for n in range(1, 30):
        close_ticket(engine, desk, n=n)
    results = in_parallel(lambda: sync(engine))
    assert counts(engine) == (29, 29, 29)
    assert sum(r.opportunities for r in results if isinstance(r, upsell.UpsellReport)) == 29


def test_two_first_runs_agree_on_one_watermark(engine: Engine, desk: Desk) -> None:
    for n in range(1, 6):
        close_ticket(engine, desk, n=n, switched_on=False)
    times = iter([FIXED_NOW + timedelta(seconds=1), FIXED_NOW + timedelta(seconds=2)])
    results = in_parallel(lambda: sync(engine, next(times)))
    assert all(isinstance(r, upsell.UpsellReport) for r in results), results
    assert sorted(r.watermark_set for r in results) == [False, True]
    assert len({r.watermark for r in results}) == 1
    assert counts(engine) == (0, 0, 0)


def test_two_backfills_at_once_never_double(engine: Engine, desk: Desk) -> None:
    for n in range(1, 20):
        close_ticket(engine, desk, n=n, closed_at=FIXED_NOW - timedelta(days=n), switched_on=False)
    sync(engine)
    results = in_parallel(lambda: backfill(engine, date(2026, 1, 1)))
    reports = [r for r in results if isinstance(r, upsell.UpsellReport)]
    assert sum(r.opportunities for r in reports) == 19
    assert counts(engine) == (19, 1, 0)  # one summary for Dana


def test_the_watermark_query_uses_the_end_of_life_index(engine: Engine, desk: Desk) -> None:
    """The sync reads only end-of-life tickets closed since the watermark, through the
    partial index, however many other tickets there are."""
    close_ticket(engine, desk)
    with engine.begin() as conn:
        customer = conn.execute(text("SELECT id FROM customers LIMIT 1")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO tickets (customer_id, status, summary, resolution, closed_at) "
                "SELECT :c, 'closed', 'Tune-up', 'Done', now() - make_interval(mins => g) "
                "FROM generate_series(1, 20000) g"
            ),
            {"c": customer},
        )
        conn.execute(text("ANALYZE tickets"))
    select = upsell.flagged_sql(before=False) + "SELECT count(*) FROM flagged"
    with engine.connect() as conn:
        plan = "\n".join(
            conn.execute(
                text("EXPLAIN " + select),
                {
                    "pipeline": upsell.PIPELINE,
                    "since": SWITCHED_ON,
                    "limit": 10,
                    "unsafe": "x",
                    "won_since": FIXED_NOW,
                    "now": FIXED_NOW,
                },
            ).scalars()
        )
    assert "ix_tickets_end_of_life" in plan, plan


def test_tickets_close_command_then_sync(engine: Engine, db_url, desk: Desk, capsys) -> None:
    from test_cli import _url, run

    ticket = close_ticket(engine, desk, resolution="pending")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE tickets SET status = 'open', closed_at = NULL WHERE id = :t"),
            {"t": ticket.id},
        )
        number = conn.execute(
            text("SELECT number FROM tickets WHERE id = :t"), {"t": ticket.id}
        ).scalar_one()
    as_tech = ["--database-url", _url(db_url), "--user", "tech1"]  # technicians close tickets
    code, out, _ = run(capsys, *as_tech, "tickets", "close", str(number),
                       "--resolution", END_OF_LIFE_RESOLUTION)  # fmt: skip
    assert code == 0 and f"closed ticket #{number}" in out
    code, _, err = run(capsys, *as_tech, "tickets", "close", str(number),
                       "--resolution", "again")  # fmt: skip
    assert code == 1 and "already closed" in err
    code, _, err = run(capsys, *as_tech, "tickets", "close", "999999", "--resolution", "x")
    assert code == 1 and "no ticket #999999" in err
    assert sync(engine).opportunities == 1


def test_on_the_demo_data_history_is_not_news_a_fresh_close_is(engine: Engine) -> None:
    """The demo holds years of end-of-life closures: the first run makes nothing of them, a
    ticket closed after it makes exactly one opportunity (the owner's, at the median won value
    of its kind), and a backfill turns the history into opportunities, told once, unmailed."""
    seed_demo(engine, customers=500, seed=7, clock=FixedClock(FIXED_NOW))
    history = f"""
        SELECT count(*) FROM tickets t WHERE t.resolution = '{END_OF_LIFE_RESOLUTION}'
        AND t.closed_at < :mark
        AND NOT EXISTS (SELECT 1 FROM estimates e WHERE e.source_ticket_id = t.id)"""
    with engine.connect() as conn:
        waiting = conn.execute(text(history), {"mark": FIXED_NOW}).scalar_one()
        managers, mailable = conn.execute(
            text("SELECT count(*), count(email) FROM users WHERE role = 'manager' AND active")
        ).one()
    assert waiting > 20 and managers == 2 and mailable == 2

    first = sync(engine)
    assert made(first) == (0, 0, 0) and first.watermark_set
    assert counts(engine)[1:] == (0, 0)

    # A rep's customer with a unit of a kind won in the last year: a technician closes its
    # ticket as end of life after the watermark.
    later = FIXED_NOW + timedelta(hours=2)
    with engine.connect() as conn:
        pick = conn.execute(
            text(
                """
                SELECT c.id AS customer_id, c.owner_id, q.id AS unit_id, q.kind,
                       (SELECT id FROM users WHERE role = 'technician' LIMIT 1) AS tech
                FROM customers c JOIN users o ON o.id = c.owner_id AND o.role = 'rep' AND o.active
                JOIN equipment q ON q.customer_id = c.id
                WHERE EXISTS (
                    SELECT 1 FROM estimates e JOIN deal_stages s ON s.id = e.stage_id AND s.is_won
                    JOIN equipment w ON w.id = e.equipment_id
                    WHERE lower(w.kind) = lower(q.kind) AND e.amount > 0
                      AND e.stage_entered_at >= :year_ago)
                ORDER BY c.name, q.id LIMIT 1
                """
            ),
            {"year_ago": later - timedelta(days=365)},
        ).one()
        won = (
            conn.execute(
                text(
                    """
                SELECT e.amount FROM estimates e
                JOIN deal_stages s ON s.id = e.stage_id AND s.is_won
                JOIN deal_pipelines p ON p.id = s.pipeline_id AND p.name = :pipeline
                JOIN equipment w ON w.id = e.equipment_id
                WHERE lower(w.kind) = lower(:kind) AND e.amount > 0
                  AND e.stage_entered_at >= :year_ago
                """
                ),
                {
                    "kind": pick.kind,
                    "pipeline": upsell.PIPELINE,
                    "year_ago": later - timedelta(days=365),
                },
            )
            .scalars()
            .all()
        )
    assert won
    with session_scope(engine) as s:
        ticket = Ticket(customer_id=pick.customer_id, equipment_id=pick.unit_id,
                        technician_id=pick.tech, status="closed", summary="No cooling",
                        resolution=END_OF_LIFE_RESOLUTION, opened_at=FIXED_NOW,
                        scheduled_for=FIXED_NOW, closed_at=FIXED_NOW + timedelta(hours=1))  # fmt: skip
        s.add(ticket)
    assert made(sync(engine, later)) == (1, managers + 1, mailable)  # + the owner rep
    est = opportunity(engine, ticket)
    assert est["owner_id"] == pick.owner_id
    assert est["amount"] == statistics.median(won) and est["amount_estimated"]
    assert counts(engine)[1:] == (managers + 1, mailable)

    # History on request: since long before the demo began, every waiting closure.
    report = backfill(engine, date(2020, 1, 1), later + timedelta(hours=1))
    assert made(report) == (waiting, managers, 0)
    assert made(backfill(engine, date(2020, 1, 1), later + timedelta(hours=2))) == (0, 0, 0)
    assert made(sync(engine, later + timedelta(hours=3))) == (0, 0, 0)
    assert counts(engine)[1:] == (managers + 1 + managers, mailable)  # no email for history


def test_open_boards_hear_one_change_per_pipeline_per_run(engine: Engine, desk: Desk) -> None:
    for n in range(1, 6):
        close_ticket(engine, desk, n=n)
    with psycopg.connect(live.conninfo(engine.url), autocommit=True) as listener:
        listener.execute(f"LISTEN {board.BOARD_CHANNEL}")
        assert sync(engine).opportunities == 5
        heard = list(listener.notifies(timeout=0.5))
        assert made(sync(engine)) == (0, 0, 0)  # nothing new: nothing said
        assert list(listener.notifies(timeout=0.3)) == []
    [change] = [board.BoardChange.from_json(n.payload) for n in heard]
    with Session(engine) as s:
        assert change.pipeline_id == pipeline_by_name(s, upsell.PIPELINE).id
