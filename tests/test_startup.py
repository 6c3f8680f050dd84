"""Start-up stays light: the app's path imports no Alembic (the schema's revision is checked with
plain SQL against the head read from the migration files), nor what only other commands or later
screens need. Each check runs in a fresh interpreter, since this one has imported everything.
The time itself is benchmarks/bench_startup.py's (a real terminal, against the stack's floor)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from factories import Desk
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from salesengine_tui.base.errors import SchemaOutOfDate
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db import migrate, schema_version
from salesengine_tui.db.connect import open_engine

# Imported only when needed: migrations (alembic, and mako through it), email providers (httpx),
# phone numbers, demo data (faker), the jobs' scheduler, the outreach service (starlette,
# uvicorn and its httptools and uvloop, python-multipart under both its names) and SendGrid's
# signature check (cryptography).
DEFERRED = (
    "alembic", "mako", "httpx", "phonenumbers", "faker", "schedule",
    "starlette", "uvicorn", "httptools", "uvloop", "multipart", "python_multipart",
    "cryptography",
)  # fmt: skip
# What `salesengine` imports before the app's first screen: the entry point, the desk, the app.
START_PATH = (
    "salesengine_tui.cli",
    "salesengine_tui.db.connect",
    "salesengine_tui.usecases",
    "salesengine_tui.app",
)
SUBPROCESS_SECONDS = 120


def _loaded(script: str) -> list[str]:
    """Which DEFERRED packages a fresh interpreter has imported after running `script`."""
    report = (
        "\nimport json, sys\n"
        f"print(json.dumps([m for m in {list(DEFERRED)!r} if m in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script + report],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_SECONDS,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _url(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def test_the_heads_read_from_the_files_is_alembics() -> None:
    script = ScriptDirectory(str(migrate.MIGRATIONS))
    scanned = schema_version.scan()
    assert scanned.head == script.get_current_head()
    assert scanned.known == {revision.revision for revision in script.walk_revisions()}


def test_every_migration_names_its_revisions_as_plain_strings() -> None:
    # A computed `down_revision` still works (Alembic is asked), but every start then pays for
    # importing Alembic: write the parent's id out.
    try:
        schema_version.scan()
    except schema_version.Unreadable as exc:
        pytest.fail(f"a migration's revision is not a plain string: {exc}")


def test_a_new_migration_moves_the_head(tmp_path: Path) -> None:
    for name, body in {
        "a.py": 'revision = "a"\ndown_revision = None\n',
        "b.py": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
        "c.py": "revision = 'c'\ndown_revision = ('b',)  # a merge of one\n",
        "helpers.py": "X = 1\n",
    }.items():
        (tmp_path / name).write_text(body)
    assert schema_version.scan(tmp_path) == schema_version.Migrations("c", frozenset("abc"))
    (tmp_path / "d.py").write_text('revision = "d"\ndown_revision = "b"\n')
    with pytest.raises(RuntimeError, match="2 heads"):
        schema_version.scan(tmp_path)
    (tmp_path / "d.py").write_text('revision = "d"\ndown_revision = parent()\n')
    with pytest.raises(schema_version.Unreadable):
        schema_version.scan(tmp_path)


def test_the_start_path_imports_nothing_deferred() -> None:
    assert _loaded("".join(f"import {module}\n" for module in START_PATH)) == []


def test_the_app_paints_its_first_screen_without_anything_deferred(db_url: URL, desk: Desk) -> None:
    """The whole start, in a fresh interpreter: `salesengine`'s own way to a desk (an external
    server: the revision is checked), then the app headless until the board has its cards."""
    script = f"""
import argparse, asyncio
from salesengine_tui.cli.common import open_desk
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.widgets.board_column import BoardColumn

args = argparse.Namespace(database_url={_url(db_url)!r}, user=None, data_dir=None, config=None)

async def first_paint(app):
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3000):
            await pilot.pause(0.01)
            lanes = [c for c in app.screen.query(BoardColumn) if c.count]
            if lanes and all(c.current is not None for c in lanes):
                return
        raise SystemExit("the board never showed its cards")

with open_desk(args, acting=True, default_login={desk.manager.login!r}) as desk:
    asyncio.run(first_paint(SalesEngineApp(desk.ctx)))
"""
    assert _loaded(script) == []


def test_an_external_database_behind_the_code_is_refused(empty_db_url: URL) -> None:
    settings = load_settings(database_url=_url(empty_db_url))
    with pytest.raises(SchemaOutOfDate, match="no SalesEngine tables yet"):
        open_engine(settings)
    engine = open_engine(settings, auto_migrate=True)  # migrates only when behind
    try:
        assert schema_version.is_current(engine)
        migrate.downgrade(engine, "0001_operations_baseline")
        with pytest.raises(SchemaOutOfDate, match="behind this SalesEngine"):
            schema_version.require_current(engine)
    finally:
        engine.dispose()


def test_a_database_ahead_of_the_code_says_upgrade_salesengine(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(SchemaOutOfDate, match="newer than this SalesEngine"):
        schema_version.require_current(engine)
