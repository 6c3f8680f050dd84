"""Issue 14.6: the command line meets the app's role rules for the person at the keyboard
(`--user`, else SALESENGINE_USER, else the OS login). Each refusal is one line naming the user,
their role and who may do it, exit code 1, and nothing is written. The first manager of an
empty database can still be added by anyone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from factories import FIXED_NOW, Desk, add_customer, add_user
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlmodel import Session
from test_cli import _url, run
from test_ssh import key_line, write

from salesengine_tui.db.models import Ticket, TicketStatus, UserRole


@pytest.fixture
def crew(engine: Engine, desk: Desk) -> Desk:
    """The desk (dana: manager, sam: rep) plus tina, a technician, and an open ticket #9001."""
    with Session(engine) as s:
        tina = add_user(s, "tina", name="Tina Tech", role=UserRole.technician)
        customer = add_customer(s, "Ticket Customer", n=400)
        s.add(Ticket(customer_id=customer.id, technician_id=tina.id, number=9001,
                     status=TicketStatus.open, summary="No cooling",
                     opened_at=FIXED_NOW - timedelta(hours=2)))  # fmt: skip
        s.commit()
    return desk


def users(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(text("SELECT login, role::text FROM users ORDER BY login"))
        ]


def scalar(engine: Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def refused(code: int, err: str, *phrases: str) -> None:
    """One line, exit 1, no traceback, naming what it must."""
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for phrase in phrases:
        assert phrase in err, (phrase, err)


# --- users add ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "who"),
    [("sam", "Sam Ortiz (sam) is a rep"), ("tina", "Tina Tech (tina) is a technician")],
)
def test_only_a_manager_adds_users(
    engine: Engine,
    db_url: URL,
    crew: Desk,
    capsys: pytest.CaptureFixture[str],
    login: str,
    who: str,
) -> None:
    before = users(engine)
    code, _, err = run(capsys, "--database-url", _url(db_url), "--user", login,
                       "users", "add", "boss", "--name", "Boss", "--role", "manager")  # fmt: skip
    refused(code, err, "only managers may add users", who)
    assert users(engine) == before
    code, out, _ = run(capsys, "--database-url", _url(db_url), "--user", "dana",
                       "users", "add", "boss", "--name", "Boss", "--role", "manager")  # fmt: skip
    assert (code, out.strip()) == (0, "added manager boss (initials B, database role se_boss)")


def test_the_acting_user_comes_from_the_environment_then_the_os_login(
    engine: Engine,
    db_url: URL,
    crew: Desk,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["--database-url", _url(db_url), "users", "add", "x1", "--name", "X", "--role", "rep"]
    monkeypatch.setenv("SALESENGINE_USER", "sam")
    refused(*run(capsys, *argv)[::2], "Sam Ortiz (sam) is a rep")
    monkeypatch.delenv("SALESENGINE_USER")
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):  # what getpass.getuser() reads first
        monkeypatch.setenv(name, "tina")
    refused(*run(capsys, *argv)[::2], "Tina Tech (tina) is a technician")
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "not-a-user")
    refused(*run(capsys, *argv)[::2], "'not-a-user' is not a user of this database")
    assert ("x1", "rep") not in users(engine)
    monkeypatch.setenv("SALESENGINE_USER", "dana")
    assert run(capsys, *argv)[0] == 0


def test_the_first_manager_of_an_empty_database_can_be_added_by_anyone(
    engine: Engine, db_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(db_url)
    assert users(engine) == [("system", "system")]
    # Nobody but the system user: whoever runs the command makes the first people.
    code, out, _ = run(capsys, "--database-url", url, "--user", "nobody-yet",
                       "users", "add", "rita", "--name", "Rita", "--role", "rep")  # fmt: skip
    assert (code, out.strip()) == (0, "added rep rita (initials R, database role se_rita)")
    code, out, _ = run(capsys, "--database-url", url, "--user", "rita",
                       "users", "add", "ann", "--name", "Ann", "--role", "manager")  # fmt: skip
    assert (code, out.strip()) == (0, "added manager ann (initials A, database role se_ann)")
    # From now on a manager is needed.
    code, _, err = run(capsys, "--database-url", url, "--user", "rita",
                       "users", "add", "rob", "--name", "Rob", "--role", "manager")  # fmt: skip
    refused(code, err, "only managers may add users", "Rita (rita) is a rep")
    code, _, err = run(capsys, "--database-url", url, "--user", "nobody-yet",
                       "users", "add", "rob", "--name", "Rob", "--role", "manager")  # fmt: skip
    refused(code, err, "only managers may add users", "'nobody-yet' is not a user")
    code, out, _ = run(capsys, "--database-url", url, "--user", "ann",
                       "users", "add", "rob", "--name", "Rob", "--role", "rep")  # fmt: skip
    assert code == 0
    assert users(engine) == [
        ("ann", "manager"),
        ("rita", "rep"),
        ("rob", "rep"),
        ("system", "system"),
    ]


# --- ssh-key add ------------------------------------------------------------------------------


def test_only_a_manager_gives_a_user_an_ssh_key(
    db_url: URL, crew: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keyfile = write(tmp_path / "sam.pub", key_line() + "\n")
    ak = tmp_path / "authorized_keys"
    argv = ["--database-url", _url(db_url)]
    key = ["users", "ssh-key", "add", "sam", str(keyfile), "--authorized-keys", str(ak)]
    code, _, err = run(capsys, *argv, "--user", "sam", *key)
    refused(code, err, "only managers may add users and their SSH keys", "Sam Ortiz (sam) is a rep")
    assert not ak.exists()
    code, _, err = run(capsys, *argv, "--user", "ghost", *key)
    refused(code, err, "no user 'ghost'")
    assert not ak.exists()
    code, out, _ = run(capsys, *argv, "--user", "dana", *key)
    assert code == 0 and out.startswith("added key")
    assert "--user sam" in ak.read_text()


# --- leads import --owner -----------------------------------------------------------------------


def _csv(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.csv"
    path.write_text(f"name,email\n{name},{name.lower().replace(' ', '.')}@example.com\n")
    return str(path)


def owner_of(engine: Engine, name: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT u.login FROM customers c LEFT JOIN users u ON u.id = c.owner_id "
                 "WHERE c.name = :n"), {"n": name}
        ).scalar_one()  # fmt: skip


def test_leads_belong_to_reps_and_managers_only(
    engine: Engine, db_url: URL, crew: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = scalar(engine, "SELECT count(*) FROM customers")
    for dry in ([], ["--dry-run"]):
        code, _, err = run(capsys, "--database-url", _url(db_url), "--user", "dana", "leads",
                           "import", _csv(tmp_path, "Tech Owned"), "--owner", "tina", *dry)  # fmt: skip
        refused(
            code, err, "leads belong to reps and managers only", "Tina Tech (tina) is a technician"
        )
    assert scalar(engine, "SELECT count(*) FROM customers") == before
    code, out, _ = run(capsys, "--database-url", _url(db_url), "--user", "dana", "leads",
                       "import", _csv(tmp_path, "Given"), "--owner", "sam")  # fmt: skip
    assert code == 0 and "imported 1" in out
    assert owner_of(engine, "Given") == "sam"


def test_a_rep_imports_for_themselves_or_nobody(
    engine: Engine, db_url: URL, crew: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(db_url)
    code, _, err = run(capsys, "--database-url", url, "--user", "sam", "leads", "import",
                       _csv(tmp_path, "Managers"), "--owner", "dana")  # fmt: skip
    refused(code, err, "only managers may give leads to someone else", "Sam Ortiz (sam) is a rep")
    assert scalar(engine, "SELECT count(*) FROM customers WHERE name = 'Managers'") == 0
    code, _, _ = run(capsys, "--database-url", url, "--user", "sam", "leads", "import",
                     _csv(tmp_path, "Mine"), "--owner", "sam")  # fmt: skip
    assert code == 0 and owner_of(engine, "Mine") == "sam"
    code, _, _ = run(capsys, "--database-url", url, "--user", "sam", "leads", "import",
                     _csv(tmp_path, "Nobodys"))  # fmt: skip
    assert code == 0 and owner_of(engine, "Nobodys") is None
    # A technician adds leads as in the app, for nobody; an unknown login adds none.
    code, _, _ = run(capsys, "--database-url", url, "--user", "tina", "leads", "import",
                     _csv(tmp_path, "From The Field"))  # fmt: skip
    assert code == 0 and owner_of(engine, "From The Field") is None
    code, _, err = run(capsys, "--database-url", url, "--user", "ghost", "leads", "import",
                       _csv(tmp_path, "Ghosted"))  # fmt: skip
    refused(code, err, "no user 'ghost'")
    assert scalar(engine, "SELECT count(*) FROM customers WHERE name = 'Ghosted'") == 0


# --- tickets close, unsubscribe, reads -------------------------------------------------------------


def test_technicians_and_managers_close_tickets(
    engine: Engine, db_url: URL, crew: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    close = ["tickets", "close", "9001", "--resolution", "Replaced capacitor"]
    for login, who in (("sam", "Sam Ortiz (sam) is a rep"), ("ghost", "no user 'ghost'")):
        code, _, err = run(capsys, "--database-url", _url(db_url), "--user", login, *close)
        refused(code, err, who)
        if login == "sam":
            assert "only technicians and managers may close tickets" in err
    assert scalar(engine, "SELECT status::text FROM tickets WHERE number = 9001") == "open"
    code, out, _ = run(capsys, "--database-url", _url(db_url), "--user", "tina", *close)
    assert (code, out.strip()) == (0, "closed ticket #9001: Replaced capacitor")


def test_unsubscribe_and_reads_need_no_role(
    engine: Engine, db_url: URL, crew: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    # A customer's opt-out is honoured whoever relays it; reads show what every role sees.
    code, out, _ = run(capsys, "--database-url", _url(db_url), "--user", "ghost",
                       "unsubscribe", "hank.hill@example.com")  # fmt: skip
    assert code == 0, out
    code, out, _ = run(capsys, "--database-url", _url(db_url), "--user", "sam",
                       "segments", "export", "status = lead")  # fmt: skip
    assert code == 0 and "Hank Hill" in out
