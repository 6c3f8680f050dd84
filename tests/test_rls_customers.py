"""Row-level security on customers and what hangs off them (equipment, tickets, interactions,
status and opt-out history), asked of PostgreSQL itself: each role connects directly as
itself, with no app code between, and every write it must not make is refused (an error, or
no row changed); the writes the app makes for it go through.

The rules (migration 0021, `40_customers.sql`): everyone works every lead and customer; only
managers reassign (a rep takes an unassigned lead for themselves); people add leads for
themselves or nobody (managers for anyone); technicians and managers close tickets; history
is written beside the change it records, in the person's own name, and never changed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from db_roles import assert_no_rows_changed, assert_refused, connect_as, role_of
from factories import FIXED_NOW, Desk, add_user
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlmodel import Session

from salesengine_tui.db.models import UserRole
from salesengine_tui.db.roles import GATEWAY_ROLE, JOBS_ROLE


@dataclass(frozen=True)
class Shop:
    """The desk, plus a technician, a second rep, equipment, tickets and history rows."""

    manager: uuid.UUID
    rep: uuid.UUID
    other_rep: uuid.UUID
    technician: uuid.UUID
    hank: uuid.UUID  # a lead of the rep's
    dale: uuid.UUID  # an unassigned lead
    bill: uuid.UUID  # an active customer of the manager's
    ruth: uuid.UUID  # a lead of the other rep's
    unit: uuid.UUID  # Bill's furnace
    open_ticket: int
    closed_ticket: int
    interaction: uuid.UUID
    status_change: uuid.UUID
    opt_out_change: uuid.UUID


@pytest.fixture
def shop(engine: Engine, desk: Desk) -> Shop:
    with Session(engine) as s:
        tess = add_user(s, "tess", name="Tess Tech", role=UserRole.technician)
        rita = add_user(s, "rita", name="Rita Rep")
        c = desk.customers
        ruth = s.execute(
            text(
                "INSERT INTO customers (name, status, owner_id) VALUES ('Ruth Lead', 'lead', :o) "
                "RETURNING id"
            ),
            {"o": rita.id},
        ).scalar_one()
        bill = c["Bill Dauterive"].id
        unit = s.execute(
            text(
                "INSERT INTO equipment (customer_id, kind, brand, installed_on) "
                "VALUES (:c, 'furnace', 'Carrier', '2010-05-01') RETURNING id"
            ),
            {"c": bill},
        ).scalar_one()
        tickets = [
            s.execute(
                text(
                    "INSERT INTO tickets (customer_id, equipment_id, technician_id, status, "
                    "summary, resolution, closed_at) VALUES (:c, :e, :t, "
                    "CAST(:status AS ticket_status), 'No heat', :res, :closed) RETURNING number"
                ),
                {"c": bill, "e": unit, "t": tess.id, **values},
            ).scalar_one()
            for values in (
                {"status": "open", "res": None, "closed": None},
                {"status": "closed", "res": "Replaced igniter", "closed": FIXED_NOW},
            )
        ]
        interaction = s.execute(
            text(
                "SELECT id FROM customer_interactions "
                "WHERE notes = 'Left a message about the quote'"
            )
        ).scalar_one()
        status_change = s.execute(
            text(
                "INSERT INTO customer_status_changes (customer_id, from_status, to_status, "
                "changed_by, reason) VALUES (:c, 'lead', 'active', :by, 'converted') RETURNING id"
            ),
            {"c": bill, "by": desk.manager.id},
        ).scalar_one()
        opt_out_change = s.execute(
            text(
                "INSERT INTO customer_opt_out_changes (customer_id, opted_out, via, changed_by) "
                "VALUES (:c, false, 'staff', :by) RETURNING id"
            ),
            {"c": bill, "by": desk.manager.id},
        ).scalar_one()
        s.commit()
        return Shop(
            manager=desk.manager.id,
            rep=desk.rep.id,
            other_rep=rita.id,
            technician=tess.id,
            hank=c["Hank Hill"].id,
            dale=c["Dale Gribble"].id,
            bill=bill,
            ruth=ruth,
            unit=unit,
            open_ticket=tickets[0],
            closed_ticket=tickets[1],
            interaction=interaction,
            status_change=status_change,
            opt_out_change=opt_out_change,
        )


def as_login(db_url: URL, login: str) -> psycopg.Connection:
    return connect_as(db_url, role_of(db_url, login))


def admin_value(engine: Engine, sql: str, params: dict[str, Any] | None = None) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params or {}).scalar()


# --- what nobody may write ---------------------------------------------------------------------

# Writes no person makes, whatever their role: no deletes, no history rewritten, no equipment,
# no tickets opened, the provider's suppression and a customer's identity left alone.
NOBODY = [
    ("DELETE FROM customers WHERE id = %(bill)s", "delete a customer"),
    ("DELETE FROM customers", "delete every customer"),
    ("UPDATE customers SET email_suppressed_at = now() WHERE id = %(bill)s", "suppress"),
    ("UPDATE customers SET email_suppressed_reason = 'x' WHERE id = %(bill)s", "suppress why"),
    ("UPDATE customers SET id = gen_random_uuid() WHERE id = %(bill)s", "change an id"),
    ("UPDATE customers SET created_at = now() WHERE id = %(bill)s", "backdate"),
    (
        "INSERT INTO equipment (customer_id, kind, installed_on) VALUES (%(bill)s, 'ac', "
        "'2020-01-01')",
        "add equipment",
    ),
    ("UPDATE equipment SET installed_on = '1990-01-01' WHERE id = %(unit)s", "age equipment"),
    ("DELETE FROM equipment WHERE id = %(unit)s", "delete equipment"),
    ("INSERT INTO tickets (customer_id, summary) VALUES (%(bill)s, 'x')", "open a ticket"),
    ("DELETE FROM tickets", "delete tickets"),
    ("UPDATE tickets SET summary = 'x' WHERE number = %(open_ticket)s", "reword a ticket"),
    ("UPDATE tickets SET technician_id = NULL WHERE number = %(open_ticket)s", "untech"),
    ("UPDATE customer_interactions SET notes = 'x' WHERE id = %(interaction)s", "edit a call"),
    ("UPDATE customer_interactions SET created_by = %(manager)s", "re-sign calls"),
    ("DELETE FROM customer_interactions WHERE id = %(interaction)s", "delete a call"),
    ("UPDATE customer_status_changes SET reason = 'x' WHERE id = %(status_change)s", "edit"),
    ("DELETE FROM customer_status_changes WHERE id = %(status_change)s", "delete a change"),
    (
        "UPDATE customer_opt_out_changes SET opted_out = true WHERE id = %(opt_out_change)s",
        "rewrite an opt-out",
    ),
    ("DELETE FROM customer_opt_out_changes WHERE id = %(opt_out_change)s", "delete an opt-out"),
    # A history row that is not the person's own, or records a change that did not happen.
    (
        "INSERT INTO customer_interactions (customer_id, type, direction, notes, created_by) "
        "VALUES (%(bill)s, 'call', 'outbound', 'forged', %(other_rep)s)",
        "call as someone else",
    ),
    (
        "INSERT INTO customer_status_changes (customer_id, from_status, to_status, changed_by) "
        "VALUES (%(bill)s, 'active', 'churned', %(me)s)",
        "a status change that did not happen",
    ),
    (
        "INSERT INTO customer_status_changes (customer_id, from_status, to_status, changed_by) "
        "VALUES (%(bill)s, 'lead', 'active', %(other_rep)s)",
        "a change in someone else's name",
    ),
    (
        "INSERT INTO customer_opt_out_changes (customer_id, opted_out, via, changed_by) "
        "VALUES (%(bill)s, true, 'staff', %(me)s)",
        "an opt-out that did not happen",
    ),
    (
        "INSERT INTO customer_opt_out_changes (customer_id, opted_out, via, changed_by) "
        "VALUES (%(bill)s, false, 'staff', %(other_rep)s)",
        "an opt-in in someone else's name",
    ),
    (
        "INSERT INTO customer_opt_out_changes (customer_id, opted_out, via, changed_by) "
        "VALUES (%(bill)s, false, 'unsubscribe_link', NULL)",
        "an anonymous opt-in",
    ),
    # A new customer that is not a lead, or comes suppressed.
    ("INSERT INTO customers (name, status) VALUES ('Skip', 'active')", "add an active customer"),
    ("INSERT INTO customers (name, email_suppressed_at) VALUES ('Sup', now())", "add suppressed"),
]


def params(shop: Shop, me: uuid.UUID | None) -> dict[str, Any]:
    return {**shop.__dict__, "me": me}


@pytest.mark.parametrize("login", ["sam", "dana", "tess"])
def test_no_person_deletes_rewrites_history_or_touches_equipment(
    db_url: URL, engine: Engine, shop: Shop, login: str
) -> None:
    me = {"sam": shop.rep, "dana": shop.manager, "tess": shop.technician}[login]
    before = admin_value(engine, "SELECT count(*) FROM customers")
    with as_login(db_url, login) as conn:
        made = []  # every write that went through, not just the first
        for sql, what in NOBODY:
            try:
                assert_no_rows_changed(conn, sql, params(shop, me))
            except AssertionError:
                made.append(what)
        assert made == [], f"{login} may: {', '.join(made)}"
    assert admin_value(engine, "SELECT count(*) FROM customers") == before
    assert (
        admin_value(
            engine, "SELECT notes FROM customer_interactions WHERE id = :i", {"i": shop.interaction}
        )
        == "Left a message about the quote"
    )


# --- reps ---------------------------------------------------------------------------------------


def test_a_rep_never_reassigns(db_url: URL, engine: Engine, shop: Shop) -> None:
    p = params(shop, shop.rep)
    with as_login(db_url, "sam") as conn:
        for sql in (
            "UPDATE customers SET owner_id = %(me)s WHERE id = %(bill)s",  # the manager's
            "UPDATE customers SET owner_id = %(me)s WHERE id = %(ruth)s",  # another rep's
            "UPDATE customers SET owner_id = %(manager)s WHERE id = %(hank)s",  # giving away
            "UPDATE customers SET owner_id = NULL WHERE id = %(hank)s",  # letting go
            "UPDATE customers SET owner_id = %(other_rep)s WHERE id = %(dale)s",  # unassigned
            "UPDATE customers SET owner_id = %(me)s",  # everyone's, at once
        ):
            message = assert_refused(conn, sql, p)
            assert "only managers may reassign" in message
    owners = admin_value(
        engine,
        "SELECT string_agg(coalesce(owner_id::text, '-'), ',' ORDER BY name) FROM customers",
    )
    assert owners.count(str(shop.rep)) == 2  # Hank and Peggy, as seeded


def test_a_rep_takes_an_unassigned_lead_and_works_everyones(
    db_url: URL, engine: Engine, shop: Shop
) -> None:
    p = params(shop, shop.rep)
    with as_login(db_url, "sam") as conn:
        took = conn.execute("UPDATE customers SET owner_id = %(me)s WHERE id = %(dale)s", p)
        assert took.rowcount == 1
        # A call on the manager's customer (the last touch too), an edit on another rep's lead.
        touched = conn.execute(
            "UPDATE customers SET last_interaction_at = now(), updated_at = now() "
            "WHERE id = %(bill)s",
            p,
        )
        assert touched.rowcount == 1
        conn.execute(
            "INSERT INTO customer_interactions (customer_id, type, direction, notes, created_by) "
            "VALUES (%(bill)s, 'call', 'outbound', 'about the furnace', %(me)s)",
            p,
        )
        edited = conn.execute(
            "UPDATE customers SET city = 'Arlen', version = version + 1 WHERE id = %(ruth)s", p
        )
        assert edited.rowcount == 1
        # Converting a lead, with its history row; opting a customer out, with its own.
        conn.execute("UPDATE customers SET status = 'active' WHERE id = %(hank)s", p)
        conn.execute(
            "INSERT INTO customer_status_changes (customer_id, from_status, to_status, "
            "changed_by, reason) VALUES (%(hank)s, 'lead', 'active', %(me)s, 'converted')",
            p,
        )
        conn.execute(
            "UPDATE customers SET email_opt_out = true, opted_out_at = now() WHERE id = %(bill)s",
            p,
        )
        conn.execute(
            "INSERT INTO customer_opt_out_changes (customer_id, opted_out, via, changed_by) "
            "VALUES (%(bill)s, true, 'staff', %(me)s)",
            p,
        )
        # New leads: their own, and nobody's.
        conn.execute("INSERT INTO customers (name, owner_id) VALUES ('Kahn', %(me)s)", p)
        conn.execute("INSERT INTO customers (name) VALUES ('Minh')")
        conn.commit()
    assert admin_value(
        engine, "SELECT owner_id FROM customers WHERE id = :i", {"i": shop.dale}
    ) == (shop.rep)
    status = admin_value(
        engine, "SELECT status::text FROM customers WHERE id = :i", {"i": shop.hank}
    )
    assert status == "active"
    assert admin_value(engine, "SELECT count(*) FROM customers WHERE name IN ('Kahn', 'Minh')") == 2


def test_a_rep_adds_leads_for_themselves_or_nobody(db_url: URL, shop: Shop) -> None:
    p = params(shop, shop.rep)
    with as_login(db_url, "sam") as conn:
        for owner in ("manager", "other_rep", "technician"):
            assert_refused(
                conn,
                f"INSERT INTO customers (name, owner_id) VALUES ('Given', %({owner})s)",
                p,
            )
        # A CSV import is one INSERT ... SELECT: one row for someone else refuses it all.
        assert_refused(
            conn,
            "INSERT INTO customers (name, owner_id) "
            "SELECT n, o FROM (VALUES ('A', %(me)s::uuid), ('B', %(other_rep)s::uuid)) v(n, o)",
            p,
        )


def test_a_rep_changes_a_status_only_from_lead_to_active(db_url: URL, shop: Shop) -> None:
    p = params(shop, shop.rep)
    with as_login(db_url, "sam") as conn:
        for sql in (
            "UPDATE customers SET status = 'churned' WHERE id = %(bill)s",
            "UPDATE customers SET status = 'churned' WHERE id = %(hank)s",
            "UPDATE customers SET status = 'lead' WHERE id = %(bill)s",
        ):
            assert "status only from lead to active" in assert_refused(conn, sql, p)


def test_reps_do_not_close_tickets(db_url: URL, engine: Engine, shop: Shop) -> None:
    p = params(shop, shop.rep)
    with as_login(db_url, "sam") as conn:
        assert_no_rows_changed(
            conn,
            "UPDATE tickets SET status = 'closed', resolution = 'Equipment End of Life', "
            "closed_at = now() WHERE number = %(open_ticket)s",
            p,
        )
        assert_no_rows_changed(
            conn, "SELECT 1 FROM tickets WHERE number = %(open_ticket)s FOR UPDATE", p
        )
    status = admin_value(
        engine, "SELECT status::text FROM tickets WHERE number = :n", {"n": shop.open_ticket}
    )
    assert status == "open"


# --- technicians ------------------------------------------------------------------------------


def test_a_technician_closes_a_ticket(db_url: URL, engine: Engine, shop: Shop) -> None:
    p = params(shop, shop.technician)
    with as_login(db_url, "tess") as conn:
        closed = conn.execute(
            "UPDATE tickets SET status = 'closed', resolution = 'Equipment End of Life', "
            "closed_at = now() WHERE number = %(open_ticket)s",
            p,
        )
        assert closed.rowcount == 1
        conn.commit()
    row = admin_value(
        engine, "SELECT resolution FROM tickets WHERE number = :n", {"n": shop.open_ticket}
    )
    assert row == "Equipment End of Life"


@pytest.mark.parametrize("login", ["tess", "dana"])
def test_a_ticket_is_only_closed_and_stays_closed(db_url: URL, shop: Shop, login: str) -> None:
    p = params(shop, None)
    with as_login(db_url, login) as conn:
        for sql in (
            "UPDATE tickets SET status = 'cancelled' WHERE number = %(open_ticket)s",
            "UPDATE tickets SET status = 'in_progress' WHERE number = %(open_ticket)s",
            "UPDATE tickets SET resolution = 'x' WHERE number = %(open_ticket)s",  # still open
        ):
            assert_refused(conn, sql, p)
        for sql in (
            "UPDATE tickets SET status = 'open', closed_at = NULL, resolution = NULL "
            "WHERE number = %(closed_ticket)s",  # reopened
            "UPDATE tickets SET resolution = 'Equipment End of Life' "
            "WHERE number = %(closed_ticket)s",  # rewritten (a second upsell flag)
        ):
            assert "already closed" in assert_refused(conn, sql, p)


def test_a_technician_neither_takes_nor_gives_leads(db_url: URL, shop: Shop) -> None:
    p = params(shop, shop.technician)
    with as_login(db_url, "tess") as conn:
        for sql in (
            "UPDATE customers SET owner_id = %(me)s WHERE id = %(dale)s",
            "UPDATE customers SET owner_id = %(rep)s WHERE id = %(dale)s",
            "UPDATE customers SET owner_id = NULL WHERE id = %(hank)s",
        ):
            assert "only managers may reassign" in assert_refused(conn, sql, p)
        assert_refused(conn, "UPDATE customers SET status = 'churned' WHERE id = %(bill)s", p)
        assert_refused(conn, "INSERT INTO customers (name, owner_id) VALUES ('X', %(rep)s)", p)
        # What the app lets a technician do on a customer: log a visit, opt them out.
        conn.execute(
            "INSERT INTO customer_interactions (customer_id, type, direction, notes, created_by) "
            "VALUES (%(bill)s, 'meeting', 'outbound', 'furnace check', %(me)s)",
            p,
        )
        conn.execute("UPDATE customers SET last_interaction_at = now() WHERE id = %(bill)s", p)
        # The customer's own request, relayed (`salesengine unsubscribe`): in nobody's name.
        opted = conn.execute(
            "UPDATE customers SET email_opt_out = true, opted_out_at = now() WHERE id = %(ruth)s",
            p,
        )
        assert opted.rowcount == 1
        conn.execute(
            "INSERT INTO customer_opt_out_changes (customer_id, opted_out, via) "
            "VALUES (%(ruth)s, true, 'unsubscribe_link')",
            p,
        )
        conn.commit()


# --- managers ---------------------------------------------------------------------------------


def test_a_manager_reassigns_and_adds_leads_for_anyone(
    db_url: URL, engine: Engine, shop: Shop
) -> None:
    p = params(shop, shop.manager)
    with as_login(db_url, "dana") as conn:
        moved = conn.execute(
            "UPDATE customers SET owner_id = %(other_rep)s WHERE id IN (%(hank)s, %(dale)s)", p
        )
        assert moved.rowcount == 2
        conn.execute("UPDATE customers SET owner_id = NULL WHERE id = %(ruth)s", p)
        conn.execute("INSERT INTO customers (name, owner_id) VALUES ('Given', %(rep)s)", p)
        conn.execute("UPDATE customers SET status = 'churned' WHERE id = %(bill)s", p)
        conn.commit()
    assert admin_value(
        engine, "SELECT owner_id FROM customers WHERE id = :i", {"i": shop.hank}
    ) == (shop.other_rep)
    assert (
        admin_value(engine, "SELECT owner_id FROM customers WHERE id = :i", {"i": shop.ruth})
        is None
    )


# --- people's reads; the gateway and the jobs role ---------------------------------------------


def test_people_read_every_customer_and_nobody_else_does(
    db_url: URL, engine: Engine, shop: Shop
) -> None:
    tables = ("customers", "equipment", "tickets", "customer_interactions",
              "customer_status_changes", "customer_opt_out_changes")  # fmt: skip
    counts = {t: admin_value(engine, f"SELECT count(*) FROM {t}") for t in tables}
    for login in ("sam", "dana", "tess"):
        with as_login(db_url, login) as conn:
            for t in tables:
                assert conn.execute(f"SELECT count(*) FROM {t}").fetchone() == (counts[t],)
    # A deactivated person's role writes nothing. Reads stay `true`: any other read policy
    # costs these tables their text indexes (bench_rls).
    with engine.begin() as admin:
        admin.execute(text("UPDATE users SET active = false WHERE login = 'rita'"))
    with as_login(db_url, "rita") as conn:
        assert_no_rows_changed(conn, "UPDATE customers SET city = 'x'")
        assert_refused(conn, "INSERT INTO customers (name) VALUES ('Ghost')")


def test_the_gateway_itself_reads_and_writes_nothing(db_url: URL, shop: Shop) -> None:
    p = params(shop, None)
    with connect_as(db_url, GATEWAY_ROLE) as conn:
        for sql in (
            "SELECT count(*) FROM customers",
            "SELECT count(*) FROM tickets",
            "SELECT count(*) FROM customer_interactions",
            "INSERT INTO customers (name) VALUES ('x')",
            "UPDATE customers SET owner_id = NULL WHERE id = %(hank)s",
            "UPDATE tickets SET status = 'closed', resolution = 'x', closed_at = now()",
            "DELETE FROM customer_interactions",
            "INSERT INTO customer_opt_out_changes (customer_id, opted_out) VALUES (%(bill)s, true)",
        ):
            assert_refused(conn, sql, p if "%(" in sql else None)


def test_the_jobs_role_neither_sells_nor_closes_tickets(
    db_url: URL, engine: Engine, shop: Shop
) -> None:
    """The jobs' own writes here are their file's; what no job does is checked here."""
    p = params(shop, None)
    with connect_as(db_url, JOBS_ROLE) as conn:
        for sql in (
            "UPDATE customers SET owner_id = %(rep)s WHERE id = %(dale)s",
            "UPDATE customers SET status = 'churned' WHERE id = %(bill)s",
            "UPDATE customers SET name = 'x' WHERE id = %(bill)s",
            "DELETE FROM customers WHERE id = %(bill)s",
            "UPDATE tickets SET status = 'closed', resolution = 'Equipment End of Life', "
            "closed_at = now() WHERE number = %(open_ticket)s",
            "INSERT INTO tickets (customer_id, summary) VALUES (%(bill)s, 'x')",
            "INSERT INTO equipment (customer_id, kind, installed_on) "
            "VALUES (%(bill)s, 'ac', '2020-01-01')",
            "UPDATE customer_interactions SET notes = 'x'",
            "DELETE FROM customer_interactions",
            "DELETE FROM customer_status_changes",
            "DELETE FROM customer_opt_out_changes",
            "INSERT INTO customer_status_changes (customer_id, from_status, to_status) "
            "VALUES (%(bill)s, 'active', 'churned')",
        ):
            if sql.startswith("INSERT"):
                assert_refused(conn, sql, p)
            else:
                assert_no_rows_changed(conn, sql, p)
    assert (
        admin_value(
            engine, "SELECT status::text FROM tickets WHERE number = :n", {"n": shop.open_ticket}
        )
        == "open"
    )
