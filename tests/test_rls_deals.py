"""Row-level security on the deal tables, asked of PostgreSQL itself: connected directly as a
rep, a manager, a technician, the jobs role and the gateway (no app code between), every write
each must not make on estimates, pipelines, stages and the deal's history is refused (an error,
or no row changed), and the writes each may make go through. Then the same rules seen through
the app's use cases, which run every transaction as the person's role."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy as sa
from db_roles import assert_no_rows_changed, assert_refused
from deals_edit_data import add_closed_ticket
from factories import FIXED_NOW, Desk, add_estimate, add_user, app_context, stages_of
from sqlalchemy import Engine
from sqlmodel import Session

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import PermissionDenied
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import UserRole
from salesengine_tui.db.roles import GATEWAY_ROLE, JOBS_ROLE
from salesengine_tui.deals import board
from salesengine_tui.usecases import Desk as AppDesk

RES = "Residential Replacements"
TABLES = (
    "estimates",
    "deal_pipelines",
    "deal_stages",
    "estimate_stage_history",
    "estimate_changes",
)


@dataclass(frozen=True)
class Deals:
    """The rows the tests write to: whose deal each is, and the stages they move through."""

    dana: uuid.UUID  # the manager's (every deal of the desk is hers)
    sams: uuid.UUID  # the rep's
    nobodys: uuid.UUID  # unassigned
    customer: uuid.UUID  # the customer of all three
    other_customer: uuid.UUID
    new: uuid.UUID  # stages of Residential Replacements
    negotiation: uuid.UUID
    won: uuid.UUID
    pipeline: uuid.UUID
    ticket: uuid.UUID  # an end-of-life ticket: upsell deals are the jobs'
    tina: uuid.UUID  # a technician


@pytest.fixture
def deals(engine: Engine, desk: Desk) -> Deals:
    with session_scope(engine) as s:
        stages = stages_of(s, RES)
        dale = desk.customers["Dale Gribble"]
        sams = add_estimate(s, dale, stages["New"], 3000, title="Sam's", owner=desk.rep)
        nobodys = add_estimate(s, dale, stages["New"], 2000, title="Nobody's")
        danas = add_estimate(s, dale, stages["New"], 1000, title="Dana's", owner=desk.manager)
        ticket = add_closed_ticket(s, dale, None)
        tina = add_user(s, "tina", name="Tina Tech", role=UserRole.technician)
        return Deals(
            dana=danas.id,
            sams=sams.id,
            nobodys=nobodys.id,
            customer=dale.id,
            other_customer=desk.customers["Hank Hill"].id,
            new=stages["New"].id,
            negotiation=stages["Negotiation"].id,
            won=stages["Won"].id,
            pipeline=stages["New"].pipeline_id,
            ticket=ticket.id,
            tina=tina.id,
        )


Connect = Callable[[str], psycopg.Connection]


def row(engine: Engine, estimate_id: uuid.UUID) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT title, owner_id, stage_id, version FROM estimates WHERE id = :id"),
            {"id": estimate_id},
        ).one()


def changes_one(conn: psycopg.Connection, sql: str, params: object = None) -> None:
    """An allowed write: exactly one row changed (rolled back by the caller or kept)."""
    assert conn.execute(sql, params).rowcount == 1, sql


INSERT_DEAL = (
    "INSERT INTO estimates (id, customer_id, title, amount, stage_id, stage_entered_at, owner_id,"
    " created_by, updated_by, source_ticket_id, status) VALUES (%(id)s, %(customer)s, 'New one',"
    " 100, %(stage)s, now(), %(owner)s, %(by)s, %(by)s, %(ticket)s, 'draft')"
)


def insert_deal(
    deals: Deals, by: uuid.UUID, owner: uuid.UUID | None, *, ticket: uuid.UUID | None = None
) -> tuple[str, dict[str, object]]:
    params = {
        "id": uuid.uuid4(),
        "customer": deals.customer,
        "stage": deals.new,
        "owner": owner,
        "by": by,
        "ticket": ticket,
    }
    return INSERT_DEAL, params


def stage_row(estimate: uuid.UUID, to_stage: uuid.UUID, by: uuid.UUID) -> tuple[str, tuple]:
    return (
        "INSERT INTO estimate_stage_history (id, estimate_id, to_stage_id, to_stage_name,"
        " moved_by, moved_at) VALUES (gen_random_uuid(), %s, %s, 'Somewhere', %s, now())",
        (estimate, to_stage, by),
    )


def change_row(estimate: uuid.UUID, customer: uuid.UUID, by: uuid.UUID) -> tuple[str, tuple]:
    return (
        "INSERT INTO estimate_changes (id, estimate_id, customer_id, field, old_value, new_value,"
        " changed_by, changed_at) VALUES (gen_random_uuid(), %s, %s, 'title', 'a', 'b', %s, now())",
        (estimate, customer, by),
    )


def set_(estimate: uuid.UUID, by: uuid.UUID, assignments: str, **values: object) -> tuple:
    """`UPDATE estimates SET <assignments>, updated_by = by, version = version + 1`."""
    sql = (
        f"UPDATE estimates SET {assignments}, updated_by = %(by)s, version = version + 1"
        " WHERE id = %(id)s"
    )
    return sql, {"id": estimate, "by": by, **values}


# --- reads ----------------------------------------------------------------------------------


def test_every_person_reads_the_whole_board(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect
) -> None:
    with engine.connect() as admin:
        everything = [
            admin.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES
        ]
    assert min(everything[:4]) > 0
    for who in ("sam", "dana", "tina"):
        conn = connect(who)
        seen = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES]
        assert seen == everything, who
        conn.rollback()


# --- a rep ----------------------------------------------------------------------------------


def test_a_rep_opens_deals_for_themselves_only(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect
) -> None:
    sam, dana = desk.rep.id, desk.manager.id
    conn = connect("sam")
    assert_refused(conn, *insert_deal(deals, sam, dana))  # for someone else
    assert_refused(conn, *insert_deal(deals, sam, None))  # for nobody
    assert_refused(conn, *insert_deal(deals, dana, sam))  # in someone else's name
    assert_refused(conn, *insert_deal(deals, sam, sam, ticket=deals.ticket))  # an upsell
    sql, params = insert_deal(deals, sam, sam)
    changes_one(conn, sql, params)  # their own: allowed
    changes_one(conn, *stage_row(params["id"], deals.new, sam))  # with its first stage
    conn.commit()
    assert row(engine, params["id"]).owner_id == sam


def test_a_rep_changes_their_own_and_unassigned_deals_only(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect
) -> None:
    sam, dana = desk.rep.id, desk.manager.id
    before = row(engine, deals.dana)
    conn = connect("sam")
    refused = assert_refused(conn, *set_(deals.dana, sam, "title = 'Mine now'"))
    assert "this deal is Dana Reyes's" in refused
    assert_refused(conn, *set_(deals.dana, sam, "stage_id = %(s)s", s=deals.negotiation))
    assert_refused(conn, "UPDATE estimates SET updated_by = %s", (sam,))  # all at once
    assert row(engine, deals.dana) == before
    # Changed in their own name only.
    assert_refused(conn, *set_(deals.sams, dana, "title = 'Forged'"))
    # Who a deal belongs to, who opened it and where it came from are nobody's to change.
    for column, value in (
        ("customer_id", deals.other_customer),
        ("created_by", sam),
        ("source_ticket_id", deals.ticket),
        ("equipment_id", None),
        ("created_at", FIXED_NOW),
        ("number", 999_999),
    ):
        assert_refused(conn, *set_(deals.sams, sam, f"{column} = %(v)s", v=value))
    assert_refused(conn, "DELETE FROM estimates WHERE id = %s", (deals.sams,))
    # Their own and unassigned deals: moved, edited.
    changes_one(conn, *set_(deals.sams, sam, "stage_id = %(s)s", s=deals.negotiation))
    changes_one(conn, *set_(deals.nobodys, sam, "amount = 10"))
    conn.commit()
    assert row(engine, deals.sams).stage_id == deals.negotiation


def test_a_rep_takes_unassigned_deals_but_gives_none_away(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect
) -> None:
    sam, dana = desk.rep.id, desk.manager.id
    conn = connect("sam")
    give = "owner_id = %(o)s"
    message = assert_refused(conn, *set_(deals.sams, sam, give, o=dana))  # their own away
    assert "only managers may give a deal to someone else" in message
    assert_refused(conn, *set_(deals.sams, sam, give, o=None))  # nor leave it unowned
    assert_refused(conn, *set_(deals.nobodys, sam, give, o=dana))  # an unassigned one away
    assert_refused(conn, *set_(deals.dana, sam, give, o=sam))  # nor take someone else's
    assert_refused(conn, *set_(deals.dana, sam, give, o=None))
    assert (row(engine, deals.sams).owner_id, row(engine, deals.nobodys).owner_id) == (sam, None)
    changes_one(conn, *set_(deals.nobodys, sam, give, o=sam))  # taken
    conn.commit()
    assert row(engine, deals.nobodys).owner_id == sam


def test_a_reps_win_credits_them_and_undoing_it_gives_the_credit_back(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect
) -> None:
    sam = desk.rep.id
    conn = connect("sam")
    move = "stage_id = %(s)s, owner_id = %(o)s"
    changes_one(conn, *set_(deals.nobodys, sam, move, s=deals.won, o=sam))  # won: theirs
    conn.commit()
    # Leaving it unowned is no edit of theirs, staying in Won...
    assert_refused(conn, *set_(deals.nobodys, sam, "owner_id = NULL"))
    # ...nor once someone else changed it last (no undo of theirs then).
    with engine.begin() as admin:
        admin.execute(
            sa.text("UPDATE estimates SET updated_by = :d WHERE id = :id"),
            {"d": desk.manager.id, "id": deals.nobodys},
        )
    assert_refused(conn, *set_(deals.nobodys, sam, move, s=deals.new, o=None))
    with engine.begin() as admin:
        admin.execute(
            sa.text("UPDATE estimates SET updated_by = :s WHERE id = :id"),
            {"s": sam, "id": deals.nobodys},
        )
    changes_one(conn, *set_(deals.nobodys, sam, move, s=deals.new, o=None))  # the undo
    conn.commit()
    assert row(engine, deals.nobodys).owner_id is None
    # Out of an open stage, their own deal is not let go.
    assert_refused(conn, *set_(deals.sams, sam, move, s=deals.negotiation, o=None))


def test_a_rep_writes_history_only_with_their_own_change(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect
) -> None:
    sam, dana = desk.rep.id, desk.manager.id
    conn = connect("sam")
    # Before they changed it: their deal's history is not theirs to write.
    assert_refused(conn, *stage_row(deals.sams, deals.new, sam))
    assert_refused(conn, *change_row(deals.sams, deals.customer, sam))
    changes_one(conn, *set_(deals.sams, sam, "stage_id = %(s)s", s=deals.negotiation))
    assert_refused(conn, *stage_row(deals.dana, deals.new, sam))  # someone else's deal
    assert_refused(conn, *change_row(deals.dana, deals.customer, sam))
    changes_one(conn, *set_(deals.sams, sam, "stage_id = %(s)s", s=deals.negotiation))
    assert_refused(conn, *stage_row(deals.sams, deals.negotiation, dana))  # in another's name
    changes_one(conn, *set_(deals.sams, sam, "stage_id = %(s)s", s=deals.negotiation))
    assert_refused(conn, *stage_row(deals.sams, deals.won, sam))  # a stage it is not in
    changes_one(conn, *set_(deals.sams, sam, "stage_id = %(s)s", s=deals.negotiation))
    assert_refused(conn, *change_row(deals.sams, deals.customer, dana))
    changes_one(conn, *set_(deals.sams, sam, "title = 'x'"))
    assert_refused(conn, *change_row(deals.sams, deals.other_customer, sam))  # wrong customer
    # Alongside their own move and edit: allowed.
    changes_one(conn, *set_(deals.sams, sam, "stage_id = %(s)s", s=deals.negotiation))
    changes_one(conn, *stage_row(deals.sams, deals.negotiation, sam))
    changes_one(conn, *change_row(deals.sams, deals.customer, sam))
    conn.commit()
    for table in ("estimate_stage_history", "estimate_changes"):
        assert_refused(conn, f"UPDATE {table} SET estimate_id = estimate_id")
        assert_refused(conn, f"DELETE FROM {table}")


# --- pipelines and stages -------------------------------------------------------------------

# The stages no deal is in (a stage that holds deals cannot be deleted by anyone).
DELETE_EMPTY_STAGES = (
    "DELETE FROM deal_stages s WHERE NOT EXISTS (SELECT FROM estimates e WHERE e.stage_id = s.id)"
)


@pytest.mark.parametrize("who", ["sam", "tina", JOBS_ROLE])
def test_only_managers_change_pipelines_and_stages(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect, who: str
) -> None:
    conn = connect(who)
    assert_refused(
        conn,
        "INSERT INTO deal_pipelines (id, name, position) VALUES (gen_random_uuid(), 'Mine', 9)",
    )
    assert_no_rows_changed(conn, "UPDATE deal_pipelines SET name = name || '!'")
    assert_no_rows_changed(conn, "DELETE FROM deal_pipelines")
    assert_refused(
        conn,
        "INSERT INTO deal_stages (id, pipeline_id, name, position, probability) "
        "VALUES (gen_random_uuid(), %s, 'Mine', 99, 5)",
        (deals.pipeline,),
    )
    assert_no_rows_changed(conn, "UPDATE deal_stages SET probability = 99")
    assert_no_rows_changed(
        conn, "UPDATE deal_stages SET rotting_days = 1 WHERE id = %s", (deals.negotiation,)
    )
    assert_no_rows_changed(conn, DELETE_EMPTY_STAGES)


# --- a technician, the jobs, the gateway ------------------------------------------------------


def test_a_technician_writes_no_deal(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect
) -> None:
    tina = deals.tina
    conn = connect("tina")
    assert_refused(conn, *insert_deal(deals, tina, None))
    assert_refused(conn, *insert_deal(deals, tina, tina))
    assert_refused(conn, *insert_deal(deals, tina, None, ticket=deals.ticket))  # an upsell
    for deal in (deals.nobodys, deals.sams, deals.dana):
        assert_no_rows_changed(conn, *set_(deal, tina, "title = 'Tech'"))
        assert_no_rows_changed(conn, *set_(deal, tina, "owner_id = %(o)s", o=None))
    assert_refused(conn, "DELETE FROM estimates")
    assert_refused(conn, *stage_row(deals.nobodys, deals.new, tina))
    assert_refused(conn, *change_row(deals.nobodys, deals.customer, tina))
    for table in ("estimate_stage_history", "estimate_changes"):
        assert_refused(conn, f"UPDATE {table} SET estimate_id = estimate_id")
        assert_refused(conn, f"DELETE FROM {table}")


def test_the_jobs_change_no_deal_by_hand(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect
) -> None:
    """The jobs open upsell deals (their own file's policies); they move, edit, reassign and
    delete none, and write no person's history."""
    conn = connect(JOBS_ROLE)
    before = [row(engine, d) for d in (deals.dana, deals.sams, deals.nobodys)]
    assert_no_rows_changed(conn, "UPDATE estimates SET title = 'Jobs', owner_id = NULL")
    assert_no_rows_changed(conn, "DELETE FROM estimates")
    assert_refused(conn, *change_row(deals.nobodys, deals.customer, desk.manager.id))
    for table in ("estimate_stage_history", "estimate_changes"):
        assert_no_rows_changed(conn, f"UPDATE {table} SET estimate_id = estimate_id")
        assert_no_rows_changed(conn, f"DELETE FROM {table}")
    assert [row(engine, d) for d in (deals.dana, deals.sams, deals.nobodys)] == before


def test_the_gateway_is_nobody_until_it_takes_a_persons_role(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect
) -> None:
    conn = connect(GATEWAY_ROLE)
    for table in TABLES:
        assert_refused(conn, f"SELECT 1 FROM {table} LIMIT 1")
        assert_refused(conn, f"DELETE FROM {table}")
    assert_refused(conn, *insert_deal(deals, desk.manager.id, None))
    assert_refused(conn, *set_(deals.nobodys, desk.manager.id, "title = 'Gateway'"))
    assert_refused(conn, "UPDATE deal_stages SET probability = 1")
    assert_refused(conn, *stage_row(deals.nobodys, deals.new, desk.manager.id))


# --- a manager ------------------------------------------------------------------------------


def test_a_manager_changes_every_deal_and_the_pipelines_but_not_the_past(
    engine: Engine, desk: Desk, deals: Deals, connect: Connect
) -> None:
    sam, dana = desk.rep.id, desk.manager.id
    conn = connect("dana")
    # Every deal, and who it belongs to.
    changes_one(conn, *set_(deals.sams, dana, "owner_id = %(o)s", o=dana))
    changes_one(conn, *set_(deals.dana, dana, "owner_id = %(o)s", o=sam))
    changes_one(conn, *set_(deals.nobodys, dana, "stage_id = %(s)s", s=deals.won))
    changes_one(conn, *stage_row(deals.nobodys, deals.won, dana))
    changes_one(conn, *change_row(deals.dana, deals.customer, dana))
    sql, params = insert_deal(deals, dana, sam)  # opened for someone else
    changes_one(conn, sql, params)
    changes_one(conn, *insert_deal(deals, dana, None))  # or for nobody
    changes_one(
        conn, "UPDATE deal_pipelines SET name = name || ' (old)' WHERE id = %s", (deals.pipeline,)
    )
    changes_one(
        conn,
        "INSERT INTO deal_pipelines (id, name, position) "
        "VALUES (gen_random_uuid(), 'Service plans', 9)",
    )
    changes_one(conn, "UPDATE deal_stages SET probability = 55 WHERE id = %s", (deals.negotiation,))
    changes_one(
        conn,
        "INSERT INTO deal_stages (id, pipeline_id, name, position, probability) "
        "VALUES (gen_random_uuid(), %s, 'Survey', 99, 5)",
        (deals.pipeline,),
    )
    assert conn.execute(DELETE_EMPTY_STAGES).rowcount >= 1
    conn.commit()
    assert (row(engine, deals.sams).owner_id, row(engine, deals.dana).owner_id) == (dana, sam)
    # Still in their own name, and history stays as it was written.
    assert_refused(conn, *set_(deals.sams, sam, "title = 'Forged'"))
    assert_refused(conn, *insert_deal(deals, sam, sam))
    assert_refused(conn, *stage_row(deals.sams, deals.new, sam))
    assert_refused(conn, *set_(deals.sams, dana, "customer_id = %(c)s", c=deals.other_customer))
    assert_refused(conn, "DELETE FROM estimates WHERE id = %s", (deals.sams,))
    for table in ("estimate_stage_history", "estimate_changes"):
        assert_refused(conn, f"UPDATE {table} SET estimate_id = estimate_id")
        assert_refused(conn, f"DELETE FROM {table}")


# --- through the app: the domain's messages come first ------------------------------------------


def card(engine: Engine, estimate_id: uuid.UUID) -> board.Card:
    with Session(engine) as s:
        return board.get_card(s, estimate_id)


def test_through_the_app_a_rep_is_told_whose_deal_it_is(
    engine: Engine, desk: Desk, deals: Deals, clock: FixedClock
) -> None:
    """The rep's role reaches every deal to lock it, so the domain's refusal is what they read
    (not "that estimate no longer exists"); their own win and its undo pass the policies."""
    rep = AppDesk(app_context(engine, clock, desk.rep))
    with pytest.raises(PermissionDenied, match="this deal is Dana Reyes's"):
        rep.deals.edit(deals.dana, expected_version=1, title="Mine now")
    with pytest.raises(PermissionDenied, match="this deal is Dana Reyes's"):
        rep.deals.move(card(engine, deals.dana), deals.negotiation)
    won = rep.deals.move(card(engine, deals.nobodys), deals.won, amount=Decimal("2500"))
    assert won.credited and won.card.owner_id == desk.rep.id
    back = rep.deals.undo(won)
    assert back.card.owner_id is None and back.card.stage_id == deals.new
    edited = rep.deals.edit(deals.sams, expected_version=1, title="Sam's heat pump")
    assert [c.field for c in edited.changes] == ["title"]
