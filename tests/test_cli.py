"""The `salesengine` command: administration works, and every failure is one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from salesengine_tui.cli import main
from salesengine_tui.db.scratch import ScratchCluster


def _url(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_users_add_and_list(db_url: URL, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "--database-url", _url(db_url), "users", "add", "rita",
        "--name", "Rita [bold]Rep[/]", "--role", "rep", "--email", "rita@example.com",
    )  # fmt: skip
    assert (code, out.strip()) == (0, "added rep rita (initials R, database role se_rita)")
    code, out, _ = run(capsys, "--database-url", _url(db_url), "users", "list")
    assert code == 0
    assert "Rita [bold]Rep[/]" in out  # shown literally, not as markup
    assert "system" not in out.split()  # the automation user is not a login


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["users", "add", "Bad Login", "--name", "x", "--role", "rep"], "login 'Bad Login' is not valid"),
        (["users", "add", "ok", "--name", "  ", "--role", "rep"], "name is required"),
        (["users", "add", "ok", "--name", "X", "--role", "rep", "--email", "nope"], "'nope' is not a valid email"),
    ],
)  # fmt: skip
def test_users_add_rejects_bad_input(
    db_url: URL, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "--database-url", _url(db_url), *argv)
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_duplicate_login_is_one_line(db_url: URL, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--database-url", _url(db_url), "users", "add", "sam", "--name", "Sam", "--role", "rep"]
    assert run(capsys, *args)[0] == 0
    code, _, err = run(capsys, *args)
    assert code == 1
    assert err.strip() == "salesengine: error: a user with login 'sam' already exists"


def test_unknown_user_is_refused_before_the_app_opens(
    db_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--database-url", _url(db_url), "--user", "nobody")
    assert code == 1
    assert "no user 'nobody'" in err and "salesengine users add" in err


def test_unreachable_server_names_host_and_fix_without_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(
        capsys,
        "--database-url",
        "postgresql://bob:hunter2secret@127.0.0.1:1/sales",
        "db",
        "current",
    )
    assert code == 1
    assert "cannot reach PostgreSQL at 127.0.0.1:1/sales" in err
    assert "SALESENGINE_DATABASE_URL" in err
    assert "hunter2secret" not in err
    assert len(err.strip().splitlines()) == 1


def test_wrong_password_is_explained_without_echoing_it(
    pg_cluster: ScratchCluster, db_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    # A role that must authenticate with a password over the socket (the rest stays trust).
    with psycopg.connect(pg_cluster.admin_uri, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS pwuser")
        conn.execute("CREATE ROLE pwuser LOGIN PASSWORD 'right-one'")
    hba = pg_cluster.pgdata / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text("local all pwuser scram-sha-256\n" + original)
    try:
        with psycopg.connect(pg_cluster.admin_uri, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        bad = db_url.set(username="pwuser", password="wrong-secret-pw")
        code, _, err = run(capsys, "--database-url", _url(bad), "db", "current")
    finally:
        hba.write_text(original)
        with psycopg.connect(pg_cluster.admin_uri, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
    assert code == 1
    assert "refused the login for user 'pwuser': wrong password" in err
    assert "wrong-secret-pw" not in err


def test_database_behind_migrations_says_upgrade(
    empty_db_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--database-url", _url(empty_db_url), "users", "list")
    assert code == 1
    assert "run `salesengine db upgrade`" in err

    code, out, _ = run(capsys, "--database-url", _url(empty_db_url), "db", "upgrade")
    assert code == 0 and "database at 0021_database_roles" in out
    code, out, _ = run(capsys, "--database-url", _url(empty_db_url), "db", "current")
    assert out.strip() == "0021_database_roles (current)"
    code, out, _ = run(capsys, "--database-url", _url(empty_db_url), "db", "upgrade")
    assert "already current" in out
    code, out, _ = run(
        capsys, "--database-url", _url(empty_db_url), "db", "downgrade", "0001_operations_baseline"
    )
    assert out.strip() == "database at 0001_operations_baseline"
    code, _, err = run(capsys, "--database-url", _url(empty_db_url), "users", "list")
    assert code == 1 and "behind" in err and "salesengine db upgrade" in err


def test_unknown_revision_is_one_line(db_url: URL, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--database-url", _url(db_url), "db", "downgrade", "nonsense")
    assert code == 1 and err.startswith("salesengine: error: migration:")


def test_data_folder_not_writable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = run(capsys, "--data-dir", str(blocker / "data"), "db", "current")
    assert code == 1
    assert f"cannot create the data folder {blocker / 'data'}" in err
    assert "SALESENGINE_DATA_DIR" in err


def test_non_postgres_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--database-url", "sqlite:///x.db", "db", "current")
    assert code == 1 and "must start with postgresql://" in err


def test_bad_setting_from_environment_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESENGINE_BUSINESS_TIMEZONE", "Mars/Olympus")
    code, _, err = run(capsys, "db", "current")
    assert code == 1 and "unknown time zone 'Mars/Olympus'" in err


def test_console_script_runs_without_traceback(db_url: URL) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "salesengine_tui.cli", "--database-url",
         "postgresql://u:pw@127.0.0.1:1/x", "users", "list"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith("salesengine: error: cannot reach PostgreSQL")
    assert "Traceback" not in proc.stderr


def test_seed_command_loads_demo_data(
    engine: Engine, db_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "--database-url", _url(db_url), "db", "seed", "--customers", "200", "--seed", "7"
    )
    assert code == 0, err
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customers")).scalar() == 200
        assert (
            conn.execute(text("SELECT role::text FROM users WHERE login = 'demo'")).scalar()
            == "manager"
        )
    # Seeding again refuses: demo data only goes into an empty database.
    code, _, err = run(capsys, "--database-url", _url(db_url), "db", "seed", "--customers", "10")
    assert code == 1 and "error" in err


def test_existing_operations_database_is_stamped_then_upgraded(
    empty_db_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan's case: an operations database with customers, no migration history yet."""
    from salesengine_tui.db import migrate
    from salesengine_tui.db.engine import make_engine

    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0001_operations_baseline")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))  # as if created by the ops platform
        conn.execute(text("INSERT INTO customers (name) VALUES ('Existing Ernie')"))
    engine.dispose()

    url = _url(empty_db_url)
    code, out, _ = run(capsys, "--database-url", url, "db", "stamp", "0001_operations_baseline")
    assert code == 0 and "stamped at 0001_operations_baseline" in out
    code, out, _ = run(capsys, "--database-url", url, "db", "upgrade")
    assert code == 0 and "0021_database_roles" in out
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status::text FROM customers")).scalar() == "lead"
    engine.dispose()
