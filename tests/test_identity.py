"""Issue 19: who acts is proven by the database connection, not asserted.

A person's own PostgreSQL role is that person (`--user` naming someone else is refused); the
gateway role (the SSH service account, the embedded demo) chooses the person by login and
every transaction takes that person's role with SET LOCAL ROLE, which also holds through
PgBouncer's transaction pooling; the gateway itself can read and write nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from db_roles import connect_as, role_of
from factories import FIXED_NOW, Desk
from pilot_helpers import wait_until
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from test_board_app import SIZE, lane, stage_of
from test_cli import _url, run

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import NotFound, PermissionDenied, UserError
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db.engine import make_engine
from salesengine_tui.db.pgbouncer import local_pgbouncer
from salesengine_tui.db.roles import GATEWAY_ROLE, JOBS_ROLE, who_connected
from salesengine_tui.usecases import AppContext
from salesengine_tui.usecases import Desk as UseCases
from salesengine_tui.widgets.board_column import BoardColumn


def gateway_url(db_url: URL) -> URL:
    connect_as(db_url, GATEWAY_ROLE).close()  # lets the gateway log in, as the demo does
    return db_url.set(username=GATEWAY_ROLE)


@pytest.fixture
def gateway(db_url: URL) -> Iterator[Engine]:
    eng = make_engine(gateway_url(db_url))
    yield eng
    eng.dispose()


@pytest.fixture
def as_sam(db_url: URL, desk: Desk) -> Iterator[Engine]:
    """Sam's own role: how a rep connects who has their own database login."""
    eng = make_engine(db_url.set(username=role_of(db_url, "sam")))
    yield eng
    eng.dispose()


def desk_on(engine: Engine) -> UseCases:
    return UseCases(AppContext(engine, FixedClock(FIXED_NOW), load_settings(), actor=None))


def roles_in(group: object) -> tuple[str, str]:
    with group.read() as session:  # type: ignore[attr-defined]
        row = session.execute(text("SELECT current_user, session_user")).one()
    return row[0], row[1]


def create_role(db_url: URL, name: str) -> None:
    with connect_as(db_url, db_url.username or "postgres") as conn:
        conn.execute(
            f"DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') "
            f'THEN CREATE ROLE "{name}" LOGIN; END IF; END$$'
        )
        conn.commit()


# --- the connection decides who acts -----------------------------------------------------------


def test_through_the_gateway_every_transaction_is_the_chosen_person(
    gateway: Engine, desk: Desk
) -> None:
    terminal = desk_on(gateway)
    assert terminal.users.connected().kind == "gateway"
    assert terminal.users.sign_in("sam", "root").login == "sam"
    assert roles_in(terminal.deals) == ("se_sam", GATEWAY_ROLE)
    with terminal.deals.write() as session:
        assert session.execute(text("SELECT current_user")).scalar_one() == "se_sam"
    terminal.users.sign_in(None, "dana")  # no --user: the default (the OS login, the demo's)
    assert roles_in(terminal.deals) == ("se_dana", GATEWAY_ROLE)
    with pytest.raises(NotFound, match="no user 'nobody'"):
        terminal.users.sign_in("nobody", None)


def test_a_personal_role_is_that_person_and_cannot_claim_another(
    as_sam: Engine, desk: Desk, db_url: URL
) -> None:
    terminal = desk_on(as_sam)
    assert terminal.users.connected().kind == "person"
    assert terminal.users.sign_in(None, "root").login == "sam"  # the OS login is not asked
    assert terminal.users.sign_in("sam", None).login == "sam"
    assert roles_in(terminal.deals) == ("se_sam", "se_sam")
    with pytest.raises(PermissionDenied, match="cannot make you 'dana'"):
        terminal.users.sign_in("dana", None)


def test_the_jobs_run_as_the_jobs_role_and_the_owner_as_itself(engine: Engine) -> None:
    terminal = desk_on(engine)
    assert terminal.users.connected().kind == "owner"
    assert roles_in(terminal.jobs)[0] == JOBS_ROLE
    assert roles_in(terminal.email)[0] == JOBS_ROLE
    assert roles_in(terminal.users)[0] == "postgres"  # administration: nobody acts


def test_the_gateway_itself_reads_and_writes_nothing(db_url: URL, desk: Desk) -> None:
    with connect_as(db_url, GATEWAY_ROLE) as conn:
        for sql in (
            "SELECT count(*) FROM customers",
            "SELECT count(*) FROM estimates",
            "UPDATE users SET name = 'x'",
            "INSERT INTO deal_pipelines (name) VALUES ('x')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
            conn.rollback()
        # It may become a person (SET ROLE), and nothing more powerful.
        conn.execute("SET ROLE se_sam")
        conn.rollback()
        for role in ("postgres", JOBS_ROLE, "salesengine_manager"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f'SET ROLE "{role}"')
            conn.rollback()


def test_a_role_that_is_no_user_is_no_one(db_url: URL, desk: Desk) -> None:
    create_role(db_url, "stranger_19")
    eng = make_engine(db_url.set(username="stranger_19"))
    try:
        terminal = desk_on(eng)
        assert who_connected(eng).kind == "other"
        with pytest.raises(UserError, match="--db-role stranger_19"):
            terminal.users.sign_in("dana", None)
    finally:
        eng.dispose()


# --- the command line --------------------------------------------------------------------------


def test_cli_as_a_personal_role(
    db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _url(db_url.set(username="se_sam"))
    code, out, err = run(capsys, "--database-url", url, "users", "list")
    assert code == 0, err
    assert "dana" in out and "sam" in out
    code, _, err = run(capsys, "--database-url", url, "--user", "dana", "users", "list")
    assert code == 1 and "cannot make you 'dana'" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("SALESENGINE_USER", "dana")
    code, _, err = run(capsys, "--database-url", url, "users", "list")
    assert code == 1 and "the database decides who you are" in err


def test_cli_through_the_gateway(
    db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = _url(gateway_url(db_url))
    code, _, err = run(capsys, "--database-url", url, "--user", "sam", "users", "list")
    assert code == 0, err
    code, _, err = run(capsys, "--database-url", url, "--user", "nobody", "users", "list")
    assert code == 1 and "no user 'nobody'" in err
    # A rep's lead import through the gateway: the leads are the rep's, by the database's word.
    csv = tmp_path / "leads.csv"
    csv.write_text("name,email\nGale Storm,gale@example.com\n")
    code, _, err = run(
        capsys, "--database-url", url, "--user", "sam", "leads", "import", str(csv),
        "--owner", "sam",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run(
        capsys, "--database-url", url, "--user", "sam", "leads", "import", str(csv),
        "--owner", "dana",
    )  # fmt: skip
    assert code == 1 and "only managers may give leads to someone else" in err
    with connect_as(db_url, db_url.username or "postgres") as conn:
        owner = conn.execute(
            "SELECT u.login FROM customers c JOIN users u ON u.id = c.owner_id "
            "WHERE c.name = 'Gale Storm'"
        ).fetchone()
    assert owner == ("sam",)


def test_cli_users_add_attaches_an_existing_role_and_refuses_an_administrators(
    db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    create_role(db_url, "acme_rita")
    url = _url(gateway_url(db_url))
    add = ("--database-url", url, "--user", "dana", "users", "add")
    code, out, err = run(
        capsys, *add, "rita", "--name", "Rita Lane", "--role", "rep", "--db-role", "acme_rita"
    )
    assert code == 0, err
    assert "database role acme_rita" in out
    eng = make_engine(db_url.set(username="acme_rita"))
    try:
        assert desk_on(eng).users.sign_in(None, None).login == "rita"
    finally:
        eng.dispose()
    # Roles that can do more than a person: an administrator, SalesEngine's own, a member of
    # another role (the jobs' login, a server-files role), a group others belong to.
    create_role(db_url, "acme_runner")
    create_role(db_url, "acme_files")
    create_role(db_url, "acme_team")
    create_role(db_url, "acme_other")
    with connect_as(db_url, db_url.username or "postgres") as conn:
        conn.execute(f"GRANT {JOBS_ROLE} TO acme_runner")
        conn.execute("GRANT pg_write_server_files TO acme_files")
        conn.execute("GRANT acme_team TO acme_other")
        conn.commit()
    for role in ("postgres", GATEWAY_ROLE, "salesengine_new", "acme_runner", "acme_files",
                 "acme_team"):  # fmt: skip
        code, _, err = run(capsys, *add, "eve", "--name", "Eve", "--role", "rep", "--db-role", role)
        assert code == 1 and "cannot be a person's role" in err, (role, err)
    with connect_as(db_url, GATEWAY_ROLE) as conn:  # none of them reachable by the gateway
        for role in ("acme_runner", "acme_files", "acme_team"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f'SET ROLE "{role}"')
            conn.rollback()
    # A rep adds no one: the database refuses even what the domain would let through.
    code, _, err = run(
        capsys, "--database-url", url, "--user", "sam", "users", "add", "zed", "--name", "Zed",
        "--role", "rep",
    )  # fmt: skip
    assert code == 1 and "only managers" in err


# --- the app -----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["own role", "gateway"])
async def test_the_app_moves_a_card_as_the_person_the_database_knows(
    how: str, db_url: URL, engine: Engine, desk: Desk, clock: FixedClock
) -> None:
    url = db_url.set(username="se_sam") if how == "own role" else gateway_url(db_url)
    with connect_as(db_url, db_url.username or "postgres") as conn:  # deals Sam may move
        conn.execute("UPDATE estimates SET owner_id = NULL")
        conn.commit()
    eng = make_engine(url)
    try:
        terminal = desk_on(eng)
        terminal.users.sign_in("sam" if how == "gateway" else None, None)
        app = SalesEngineApp(terminal.ctx)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen.focused, BoardColumn) and lane(app).current is not None
                ),
            )
            card = lane(app).current
            await pilot.press("shift+right")
            await wait_until(
                pilot,
                lambda: stage_of(engine, card.id)[0] == "Site Visit Scheduled",
                what="the move",
            )
            await asyncio.sleep(0)
    finally:
        eng.dispose()
    # The audit trail names the person the database knew, and how they came in.
    with connect_as(db_url, db_url.username or "postgres") as conn:
        row = conn.execute(
            "SELECT login, db_role, session_role FROM audit_log WHERE table_name = 'estimates' "
            "AND row_id = %s AND op = 'update' ORDER BY id DESC LIMIT 1",
            (str(card.id),),
        ).fetchone()
    assert row == ("sam", "se_sam", GATEWAY_ROLE if how == "gateway" else "se_sam")


# --- PgBouncer's transaction pooling: SET LOCAL ROLE ends with each transaction -------------


@pytest.mark.pgbouncer
def test_the_gateway_through_pgbouncer_never_leaks_a_role(
    db_url: URL, desk: Desk, tmp_path: Path
) -> None:
    with local_pgbouncer(gateway_url(db_url), tmp_path / "bouncer", pool_size=1) as bouncer:
        pooled = bouncer.url(db_url).set(username=GATEWAY_ROLE)
        engines = [make_engine(pooled, pool_size=1, max_overflow=0) for _ in range(2)]
        try:
            sam, dana = desk_on(engines[0]), desk_on(engines[1])
            sam.users.sign_in("sam", None)
            dana.users.sign_in("dana", None)
            # Both terminals share PgBouncer's one server connection, turn by turn.
            for _ in range(5):
                assert roles_in(sam.deals)[0] == "se_sam"
                assert roles_in(dana.deals)[0] == "se_dana"
                with engines[0].connect() as conn:  # a bare statement: no role taken
                    assert conn.execute(text("SELECT current_user")).scalar_one() == GATEWAY_ROLE
        finally:
            for eng in engines:
                eng.dispose()
