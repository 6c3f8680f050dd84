"""Initials unique on the desk: "JW" is one person. Picked from the name on every insert (the
CLI, the seeders, SQL), filled by migration 0017 for existing users (oldest first), chosen with
`users add --initials`, and shown on the board's cards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from factories import Desk, add_estimate, add_user, app_context, days_before, stages_of
from pilot_helpers import settle
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlmodel import Session
from test_cli import _url, run
from test_won_lost_app import lane_text

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import UserError
from salesengine_tui.db import migrate
from salesengine_tui.db.engine import make_engine
from salesengine_tui.usecases import Desk as AppDesk

CLASHING = ["Jane Walker", "John Williams", "Jim Wu", "Jo Walsh", "Jack W", "Joe Williamson"]


def initials(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT name, initials FROM users")).all())


def test_clashing_names_get_different_initials(engine: Engine, desk: Desk) -> None:
    with Session(engine) as s:
        for n, name in enumerate(CLASHING, 10):
            add_user(s, f"user{n}", name=name)  # no initials given: the insert picks them
        s.commit()
    got = initials(engine)
    assert [got[name] for name in CLASHING] == ["JW", "JWi", "JWu", "JWa", "JW2", "JWil"]
    assert got["Dana Reyes"] == "DR" and got["Sam Ortiz"] == "SO"
    assert len(set(got.values())) == len(got)


def test_names_without_two_words_or_letters(engine: Engine, desk: Desk) -> None:
    with Session(engine) as s:
        add_user(s, "cher", name="Cher")
        add_user(s, "cher2", name="Cher")
        add_user(s, "amp", name="& Co")  # no word starts with a letter or digit
        add_user(s, "maryjane", name="mary-jane  o'neil")
        add_user(s, "maryjane2", name="Mary-Jane O'Neil")
        s.commit()
    got = {login: i for login, i in _by_login(engine).items()}
    assert (got["cher"], got["cher2"]) == ("C", "Ch")
    assert got["amp"] == "Co"  # "Co" is its only word
    assert (got["maryjane"], got["maryjane2"]) == ("MO", "MOn")


def _by_login(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT login, initials FROM users")).all())


def test_users_add_picks_or_takes_initials(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    users = AppDesk(app_context(engine, clock, desk.manager)).users
    assert users.add("jw1", name="Jane Walker", role="rep").initials == "JW"
    assert users.add("jw2", name="John Williams", role="rep").initials == "JWi"
    assert users.add("jw3", name="Jim Wu", role="rep", initials="Jim").initials == "Jim"
    with pytest.raises(UserError, match="initials 'jw' are jw1's already"):
        users.add("jw4", name="Jo Walsh", role="rep", initials="jw")
    with pytest.raises(UserError, match="use 1 to 5 letters or digits"):
        users.add("jw4", name="Jo Walsh", role="rep", initials="J.W.")
    with pytest.raises(UserError, match="use 1 to 5 letters or digits"):
        users.add("jw4", name="Jo Walsh", role="rep", initials="JWALSH")
    with pytest.raises(UserError, match="a user with login 'jw1' already exists"):
        users.add("jw1", name="Jo Walsh", role="rep")
    assert {p.login: p.initials for p in users.people()}["jw2"] == "JWi"


def test_the_cli_says_and_lists_initials(
    db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(db_url)
    code, out, _ = run(
        capsys, "--database-url", url, "--user", "dana", "users", "add", "jwil",
        "--name", "John Williams", "--role", "rep",
    )  # fmt: skip
    assert (code, out.strip()) == (0, "added rep jwil (initials JW, database role se_jwil)")
    code, out, _ = run(
        capsys, "--database-url", url, "--user", "dana", "users", "add", "jwal",
        "--name", "Jane Walker", "--role", "rep",
    )  # fmt: skip
    assert (code, out.strip()) == (0, "added rep jwal (initials JWa, database role se_jwal)")
    code, out, _ = run(
        capsys, "--database-url", url, "--user", "dana", "users", "add", "jwu",
        "--name", "Jim Wu", "--role", "rep", "--initials", "JWa",
    )  # fmt: skip
    assert code == 1
    code, out, _ = run(capsys, "--database-url", url, "users", "list")
    assert code == 0 and "initials" in out.splitlines()[0]
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert "JWa" in rows["jwal"] and "JW" in rows["jwil"]


async def test_the_board_shows_each_owners_own_initials(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    with Session(engine) as s:
        jane = add_user(s, "jane", name="Jane Walker", n=20)
        john = add_user(s, "john", name="John Williams", n=21)
        new = stages_of(s, "Residential Replacements")["New"]
        add_estimate(s, desk.customers["Hank Hill"], new, 5000, owner=jane,
                     entered_at=days_before(40), n=90)  # fmt: skip
        add_estimate(s, desk.customers["Peggy Hill"], new, 6000, owner=john,
                     entered_at=days_before(39), n=91)  # fmt: skip
        s.commit()
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        cards = lane_text(app, "New")
    assert "JW" in cards.split() and "JWi" in cards.split()


# --- migration 0017 on a desk that has clashing names ------------------------------------------


@pytest.fixture
def bare_engine(empty_db_url: URL) -> Iterator[Engine]:
    eng = make_engine(empty_db_url)
    yield eng
    eng.dispose()


def test_the_migration_gives_existing_users_unique_initials_oldest_first(
    bare_engine: Engine,
) -> None:
    migrate.upgrade(bare_engine, "0016_drop_next_step")
    with bare_engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO users (login, name, role, created_at) VALUES
                  ('newer', 'John Williams', 'rep', '2026-02-01'),
                  ('older', 'Jane Walker', 'rep', '2025-01-01'),
                  ('sam', 'Sam Spade', 'manager', '2025-06-01'),
                  ('sal', 'Sal Austin', 'rep', '2030-01-01')
                """
            )
        )
    migrate.upgrade(bare_engine, "0017_phones_initials")
    got = _by_login(bare_engine)
    # The system user ("SalesEngine automation", revision 0002) comes after the people.
    assert (got["older"], got["newer"], got["sam"]) == ("JW", "JWi", "SS")
    assert (got["sal"], got["system"]) == ("SA", "SAu")
    with bare_engine.begin() as conn, pytest.raises(Exception, match="uq_users_initials"):
        conn.execute(
            text("INSERT INTO users (login, name, role, initials) VALUES ('x', 'X', 'rep', 'JW')")
        )
