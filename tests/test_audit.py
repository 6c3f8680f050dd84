"""The audit trail PostgreSQL keeps (revision 0021, `80_audit.sql`): a board move, a deal edit
and a blast made through the use cases each leave rows saying who (login and role), when,
what (the changed columns, old and new) and from where; managers read them and nobody else;
nobody writes, changes, deletes or switches off the trail; the CLI prints it literally."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from db_roles import assert_refused, role_of
from factories import Desk, add_user, stages_of
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlmodel import Session
from test_blasts import SEGMENT, SETTINGS
from test_blasts import seed as seed_blast_audience

from salesengine_tui.access.users import Actor
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import PermissionDenied, UserError
from salesengine_tui.cli import main
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import User, UserRole
from salesengine_tui.db.roles import GATEWAY_ROLE, JOBS_ROLE
from salesengine_tui.deals import board
from salesengine_tui.usecases import AppContext
from salesengine_tui.usecases import Desk as UseCaseDesk

ORIGIN = "ssh key SHA256:k3yFingerPrint from 10.0.0.5"
RES = "Residential Replacements"


def desk_of(engine: Engine, clock: FixedClock, user: User, *, settings: Any = None) -> UseCaseDesk:
    """The use cases as `user`, over SSH (the origin the forced command would set)."""
    return UseCaseDesk(
        AppContext(engine, clock, settings or SETTINGS, Actor.of(user), origin=ORIGIN)
    )


def trail(engine: Engine, where: str = "true", params: dict[str, Any] | None = None) -> list[Any]:
    """The audit rows, oldest first, read as the superuser (who sees every row)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(f"SELECT * FROM audit_log WHERE {where} ORDER BY id"), params or {}
            ).mappings()
        )


def db_now(engine: Engine) -> datetime:
    with engine.connect() as conn:
        return conn.execute(text("SELECT clock_timestamp()")).scalar_one()


@pytest.fixture
def tina(engine: Engine, desk: Desk) -> User:
    with session_scope(engine) as s:
        return add_user(s, "tina", name="Tina Tech", role=UserRole.technician)


def estimate_of(engine: Engine, customer: str, stage: str) -> uuid.UUID:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT e.id FROM estimates e JOIN customers c ON c.id = e.customer_id "
                "JOIN deal_stages s ON s.id = e.stage_id WHERE c.name = :c AND s.name = :s"
            ),
            {"c": customer, "s": stage},
        ).scalar_one()


# --- what is recorded --------------------------------------------------------------------------


def test_administration_is_not_recorded(engine: Engine, desk: Desk) -> None:
    # The desk was seeded, and this update made, as the superuser that owns the tables: the
    # migrations', the demo's and an operator's work, which the trail leaves out.
    with engine.begin() as conn:
        conn.execute(text("UPDATE customers SET city = 'Arlen'"))
    assert trail(engine) == []


def test_a_board_move_records_who_when_what_and_where(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    peggys = estimate_of(engine, "Peggy Hill", "New")
    with engine.begin() as conn:  # Sam's deal (by the superuser: not recorded)
        conn.execute(text("UPDATE estimates SET owner_id = :sam WHERE id = :id"),
                     {"sam": desk.rep.id, "id": peggys})  # fmt: skip
    with Session(engine) as s:
        card = board.get_card(s, peggys)
        proposal = stages_of(s, RES)["Proposal Sent"].id
    before = db_now(engine)
    desk_of(engine, clock, desk.rep).deals.move(card, proposal)
    after = db_now(engine)

    rows = trail(engine, "table_name = 'estimates'")
    assert len(rows) == 1
    move = rows[0]
    # who: the rep, acting as their own role for the connection that logged in (here the
    # tests' superuser; the gateway in production: see the gateway test below)
    assert (move["login"], move["user_id"]) == ("sam", desk.rep.id)
    assert move["db_role"] == role_of(engine.url, "sam")
    assert move["session_role"] == "postgres"
    # when: the transaction's time
    assert before <= move["at"] <= after
    # what: the row, and only the columns the move changed, each as [old, new]
    assert (move["row_id"], move["op"]) == (str(peggys), "update")
    changes = move["changes"]
    assert changes["stage_id"] == [str(card.stage_id), str(proposal)]
    assert changes["version"] == [card.version, card.version + 1]
    assert "stage_entered_at" in changes
    assert not {"title", "amount", "customer_id", "owner_id"} & set(changes)
    # from where: the origin the app set; the program; no address over a unix socket
    assert move["origin"] == ORIGIN
    assert move["application_name"] == "salesengine"
    assert move["client_addr"] is None
    assert move["txid"] is not None
    # The stage history row the move wrote is not audited (the trail names the move already).
    assert {r["table_name"] for r in trail(engine)} <= {"estimates", "tasks"}


def test_a_deal_edit_records_the_changed_columns_old_and_new(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    bills = estimate_of(engine, "Bill Dauterive", "Proposal Sent")
    with Session(engine) as s:
        card = board.get_card(s, bills)
    desk_of(engine, clock, desk.manager).deals.edit(
        bills, expected_version=card.version, title="Heat pump, 4 ton", amount=Decimal("16250")
    )
    rows = trail(engine, "table_name = 'estimates' AND row_id = :id", {"id": str(bills)})
    assert len(rows) == 1
    edit = rows[0]
    assert (edit["login"], edit["op"], edit["origin"]) == ("dana", "update", ORIGIN)
    assert edit["db_role"] == role_of(engine.url, "dana")
    changes = edit["changes"]
    assert changes["title"] == [card.title, "Heat pump, 4 ton"]
    assert [Decimal(str(v)) for v in changes["amount"]] == [Decimal("15500"), Decimal("16250")]
    assert changes["version"] == [card.version, card.version + 1]
    assert changes["updated_by"][1] == str(desk.manager.id)
    assert not {"stage_id", "customer_id", "owner_id", "expected_close_on"} & set(changes)


def test_a_blast_is_recorded_and_its_outbox_rows_are_not(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_blast_audience(engine)
    dana = desk_of(engine, clock, desk.manager, settings=SETTINGS)
    check = dana.blasts.check(SEGMENT, "Hi {first_name}", "Hello")
    sent = dana.blasts.send(
        SEGMENT, "Hi {first_name}", "Hello", confirm=check.dry.recipients, saved=None
    )
    assert sent.queued == 3
    rows = trail(engine, "table_name = 'blasts'")
    assert [(r["op"], r["row_id"], r["login"]) for r in rows] == [
        ("insert", str(sent.blast_id), "dana")
    ]
    blast = rows[0]
    assert blast["changes"]["subject"] == "Hi {first_name}"
    assert blast["changes"]["recipients"] == 3
    assert blast["changes"]["created_by"] == str(desk.manager.id)
    assert (blast["origin"], blast["db_role"]) == (ORIGIN, role_of(engine.url, "dana"))
    # The outbox's rows (one per recipient) are volume, not a person's change.
    assert not trail(engine, "table_name = 'email_outbox'")


def test_insert_update_and_delete_through_the_gateway_and_as_oneself(
    engine: Engine, desk: Desk, connect: Any
) -> None:
    dana_role = role_of(engine.url, "dana")
    # Dana logged in as herself: the role that acted is the role that logged in.
    dana = connect("dana")
    stage = uuid.uuid4()
    with engine.connect() as conn:
        pipeline = conn.execute(text("SELECT id FROM deal_pipelines WHERE name = :n"),
                                {"n": RES}).scalar_one()  # fmt: skip
    dana.execute("INSERT INTO deal_stages (id, pipeline_id, name, position, probability) "
                 "VALUES (%s, %s, 'Audit', 99, 10)", (stage, pipeline))  # fmt: skip
    dana.execute("UPDATE deal_stages SET probability = probability WHERE id = %s", (stage,))
    dana.execute("UPDATE deal_stages SET probability = 20 WHERE id = %s", (stage,))
    dana.execute("DELETE FROM deal_stages WHERE id = %s", (stage,))
    dana.commit()
    rows = trail(engine, "row_id = :id", {"id": str(stage)})
    # The update that changed nothing left no row.
    assert [r["op"] for r in rows] == ["insert", "update", "delete"]
    assert {(r["db_role"], r["session_role"], r["login"]) for r in rows} == {
        (dana_role, dana_role, "dana")
    }
    assert rows[0]["changes"]["name"] == "Audit" and rows[0]["changes"]["probability"] == 10
    assert rows[1]["changes"] == {"probability": [10, 20]}
    assert rows[2]["changes"]["probability"] == 20
    assert rows[0]["origin"] is None  # nobody said where from

    # Through the gateway (SSH): the person's role acts, the gateway logged in.
    gateway = connect(GATEWAY_ROLE)
    gateway.execute(f'SET LOCAL ROLE "{role_of(engine.url, "sam")}"')
    gateway.execute("SELECT set_config('salesengine.origin', %s, true)", (ORIGIN,))
    gateway.execute("UPDATE customers SET city = 'Arlen' WHERE id = %s",
                    (desk.customers["Hank Hill"].id,))  # fmt: skip
    gateway.commit()
    (row,) = trail(engine, "table_name = 'customers'")
    assert (row["login"], row["session_role"], row["origin"]) == ("sam", GATEWAY_ROLE, ORIGIN)
    assert row["changes"] == {"city": [None, "Arlen"]}


def test_the_jobs_are_recorded_as_the_jobs_role(engine: Engine, desk: Desk, connect: Any) -> None:
    jobs = connect(JOBS_ROLE)  # as the runner marks an address the provider will not deliver to
    jobs.execute("UPDATE customers SET email_suppressed_at = now(), email_suppressed_reason = "
                 "'hard bounce' WHERE id = %s", (desk.customers["Hank Hill"].id,))  # fmt: skip
    jobs.commit()
    (row,) = trail(engine)
    assert (row["db_role"], row["session_role"]) == (JOBS_ROLE, JOBS_ROLE)
    assert (row["user_id"], row["login"]) == (None, None)
    assert set(row["changes"]) == {"email_suppressed_at", "email_suppressed_reason"}
    assert row["changes"]["email_suppressed_reason"] == [None, "hard bounce"]


# --- who reads it, and that nobody can touch it ------------------------------------------------


def test_only_managers_read_the_trail(
    engine: Engine, clock: FixedClock, desk: Desk, tina: User, connect: Any
) -> None:
    desk_of(engine, clock, desk.manager).deals.edit(
        estimate_of(engine, "Bill Dauterive", "Proposal Sent"), expected_version=1, title="X"
    )
    assert len(trail(engine)) == 1
    # The use cases: managers read; anyone else is told why not.
    entries = desk_of(engine, clock, desk.manager).audit.recent()
    assert [(e.login, e.table, e.op) for e in entries] == [("dana", "estimates", "update")]
    assert "title: AC replacement → X" in entries[0].summary()
    for user in (desk.rep, tina):
        with pytest.raises(PermissionDenied, match="only managers may read the audit trail"):
            desk_of(engine, clock, user).audit.recent()
    # PostgreSQL itself: a rep and a technician see no row, a manager sees it, the jobs role
    # and the gateway (not acting as anyone) may not read at all.
    for login in ("sam", "tina"):
        assert connect(login).execute("SELECT count(*) FROM audit_log").fetchone() == (0,)
    assert connect("dana").execute("SELECT count(*) FROM audit_log").fetchone() == (1,)
    for role in (JOBS_ROLE, GATEWAY_ROLE):
        assert_refused(connect(role), "SELECT count(*) FROM audit_log")


WRITES = (
    "INSERT INTO audit_log (db_role, session_role, table_name, op) "
    "VALUES ('se_x', 'se_x', 'customers', 'insert')",
    "UPDATE audit_log SET login = 'someone else'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
)
SWITCH_OFFS = (
    "ALTER TABLE estimates DISABLE TRIGGER estimates_audit_update",
    "ALTER TABLE estimates DISABLE TRIGGER ALL",
    "DROP TRIGGER estimates_audit_update ON estimates",
    "ALTER TABLE audit_log DISABLE ROW LEVEL SECURITY",
    "DROP TABLE audit_log",
    "SET session_replication_role = replica",  # which skips every ordinary trigger
    "CREATE OR REPLACE FUNCTION salesengine_audit() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RETURN NULL; END $$",
    "ALTER FUNCTION salesengine_audit() RESET search_path",
)
EVERYONE = ("sam", "dana", "tina", JOBS_ROLE, GATEWAY_ROLE)


@pytest.mark.parametrize("who", EVERYONE)
def test_nobody_writes_changes_or_switches_off_the_trail(
    engine: Engine, clock: FixedClock, desk: Desk, tina: User, connect: Any, who: str
) -> None:
    desk_of(engine, clock, desk.manager).deals.edit(
        estimate_of(engine, "Bill Dauterive", "Proposal Sent"), expected_version=1, title="X"
    )
    recorded = trail(engine)
    conn = connect(who)
    for statement in WRITES + SWITCH_OFFS:
        assert_refused(conn, statement)
    if who == "dana":  # the manager also through the gateway, as the app runs
        gateway = connect(GATEWAY_ROLE)
        for statement in WRITES + SWITCH_OFFS:
            gateway.execute(f'SET LOCAL ROLE "{role_of(engine.url, "dana")}"')
            assert_refused(gateway, statement)
    assert trail(engine) == recorded
    with engine.connect() as c:
        enabled = c.execute(text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\\_audit\\_%' "
                                 "AND tgenabled = 'O'")).scalar_one()  # fmt: skip
    assert enabled == 33  # 11 tables, 3 events each


def test_a_temporary_table_neither_takes_nor_fakes_the_trail(
    engine: Engine, desk: Desk, connect: Any
) -> None:
    # Anyone may create temporary tables, which a search path searches first unless told
    # otherwise: the trigger function's path puts them last.
    sam = connect("sam")
    sam.execute("CREATE TEMP TABLE audit_log AS SELECT * FROM public.audit_log WITH NO DATA")
    sam.execute("CREATE TEMP TABLE users (id uuid, login text, role text, db_role text, "
                "active boolean)")  # fmt: skip
    sam.execute("INSERT INTO pg_temp.users VALUES (%s, 'dana', 'manager', current_user, true)",
                (desk.manager.id,))  # fmt: skip
    sam.execute("UPDATE customers SET city = 'Arlen' WHERE id = %s",
                (desk.customers["Hank Hill"].id,))  # fmt: skip
    assert sam.execute("SELECT count(*) FROM pg_temp.audit_log").fetchone() == (0,)
    sam.commit()
    (row,) = trail(engine)
    assert (row["login"], row["user_id"]) == ("sam", desk.rep.id)


def test_a_temporary_users_table_does_not_make_a_rep_a_manager(
    engine: Engine, clock: FixedClock, desk: Desk, connect: Any
) -> None:
    # The policy asks `salesengine_is_manager()`, which reads `users`: a rep's temporary
    # `users` saying "I am a manager" must not be what it reads.
    desk_of(engine, clock, desk.manager).deals.edit(
        estimate_of(engine, "Bill Dauterive", "Proposal Sent"), expected_version=1, title="X"
    )
    sam = connect("sam")
    sam.execute("CREATE TEMP TABLE users (id uuid, login text, role text, db_role text, "
                "active boolean)")  # fmt: skip
    sam.execute("INSERT INTO pg_temp.users VALUES (%s, 'sam', 'manager', current_user, true)",
                (desk.rep.id,))  # fmt: skip
    assert sam.execute("SELECT count(*) FROM audit_log").fetchone() == (0,)


# --- reading it: the domain's filters and the command line ------------------------------------


def test_the_filters_narrow_the_trail(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    bills = estimate_of(engine, "Bill Dauterive", "Proposal Sent")
    dana = desk_of(engine, clock, desk.manager)
    dana.deals.edit(bills, expected_version=1, title="One")
    dana.deals.edit(bills, expected_version=2, title="Two")
    dana.deals.edit(estimate_of(engine, "Hank Hill", "New"), expected_version=1, title="Other")
    newest = dana.audit.recent()
    assert [e.summary().split(";")[0] for e in newest] == [
        "title: AC replacement → Other", "title: One → Two", "title: AC replacement → One",
    ]  # fmt: skip
    assert newest[1].summary(cut=4).startswith("title: One → Two;")
    assert newest[0].summary(cut=5).startswith("title: AC r… → Other;")
    assert len(dana.audit.recent(row_id=str(bills))) == 2
    assert len(dana.audit.recent(limit=1)) == 1
    assert dana.audit.recent(login="sam") == []
    assert len(dana.audit.recent(login="dana", table="estimates")) == 3
    assert dana.audit.recent(table="tasks") == []
    assert dana.audit.recent(since=db_now(engine)) == []
    with pytest.raises(UserError, match="'email_outbox' is not an audited table"):
        dana.audit.recent(table="email_outbox")


def _url(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def test_the_cli_prints_the_trail_literally(
    db_url: URL,
    engine: Engine,
    desk: Desk,
    connect: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per row: what is printed is checked whole
    hostile = "Hank \x1b[2J\x1b]0;pwned\x07 [bold red]Hill[/] \u202eevil"
    dana = connect("dana")
    dana.execute("UPDATE customers SET name = %s WHERE id = %s",
                 (hostile, desk.customers["Hank Hill"].id))  # fmt: skip
    dana.commit()
    code = main(["--database-url", _url(db_url), "--user", "dana", "audit", "--table",
                 "customers", "--days", "1"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "name: Hank Hill → Hank ␛[2J␛]0;pwned␇ [bold red]Hill[/] \\u202eevil" in out
    assert "dana" in out and "customers" in out and "update" in out
    # A rep is told no, in one line.
    code = main(["--database-url", _url(db_url), "--user", "sam", "audit"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.strip() == (
        "salesengine: error: only managers may read the audit trail; Sam Ortiz (sam) is a rep"
    )
    # Filters that match nothing say so.
    assert main(["--database-url", _url(db_url), "--user", "dana", "audit", "--user-login",
                 "nobody"]) == 0  # fmt: skip
    assert "no changes recorded that match" in capsys.readouterr().err
