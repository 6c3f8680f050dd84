"""Tech upsell sync against real PostgreSQL: once per ticket, re-close, leads too, managers
notified and emailed in the same transaction, two runners at once never double anything."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from factories import FIXED_NOW, Desk, add_customer, add_user
from sqlalchemy import Engine, text
from sqlmodel import Session

from salesengine_tui.automation import upsell
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import END_OF_LIFE_RESOLUTION, Equipment, Ticket, UserRole


def close_ticket(engine: Engine, desk: Desk, *, resolution=END_OF_LIFE_RESOLUTION, n=1) -> object:
    with Session(engine, expire_on_commit=False) as s:
        tech = add_user(s, f"tech{n}", name=f"John Tech{n}", role=UserRole.technician)
        customer = add_customer(s, f"Upsell Customer {n}", n=300 + n)
        customer.address, customer.city = "123 Main St", "Dallas"
        unit = Equipment(customer_id=customer.id, kind="Heat pump", installed_on=date(2004, 5, 1))
        s.add(unit)
        s.flush()
        ticket = Ticket(customer_id=customer.id, equipment_id=unit.id, technician_id=tech.id,
                        status="closed", summary="No heat", resolution=resolution,
                        opened_at=FIXED_NOW - timedelta(hours=3), closed_at=FIXED_NOW)  # fmt: skip
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


def sync(engine: Engine, at=FIXED_NOW) -> upsell.UpsellReport:
    with session_scope(engine) as s:
        return upsell.sync(s, now=at)


def test_end_of_life_ticket_becomes_one_opportunity(engine: Engine, desk: Desk) -> None:
    ticket = close_ticket(engine, desk)
    close_ticket(engine, desk, resolution="Replaced capacitor", n=2)  # not end of life
    report = sync(engine)
    assert report == upsell.UpsellReport(1, 1, 1)  # one manager: Dana
    with engine.connect() as conn:
        est = conn.execute(text(
            "SELECT e.title, s.name, e.created_by, e.equipment_id IS NOT NULL, c.status::text "
            "FROM estimates e JOIN deal_stages s ON s.id = e.stage_id JOIN customers c ON c.id = e.customer_id "
            "WHERE e.source_ticket_id = :t"), {"t": ticket.id}).one()  # fmt: skip
        note = conn.execute(
            text("SELECT title, user_id FROM notifications WHERE kind = 'upsell'")
        ).one()
        mail = conn.execute(text("SELECT to_email, body_text FROM email_outbox")).one()
    assert est[0] == "Replace Heat pump (end of life)" and est[1] == "New" and est[3]
    assert est[4] == "lead"  # a customer who is still a lead gets an opportunity too
    assert (
        note[0] == "Tech John Tech1 just flagged a system for replacement at 123 Main St, Dallas."
    )
    assert note[1] == desk.manager.id
    assert mail[0] == "dana@example.com" and "123 Main St, Dallas" in mail[1]
    # again, and after a re-open and re-close: nothing new
    assert sync(engine) == upsell.UpsellReport(0, 0, 0)
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


def test_two_runners_at_once_never_double(engine: Engine, desk: Desk) -> None:
    for n in range(1, 30):
        close_ticket(engine, desk, n=n)
    barrier = threading.Barrier(2)
    results = []

    def runner() -> None:
        barrier.wait()
        try:
            results.append(sync(engine))
        except Exception as exc:  # a unique-key clash is the loser's only possible failure
            results.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts(engine) == (29, 29, 29)
    assert sum(r.opportunities for r in results if isinstance(r, upsell.UpsellReport)) == 29


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
