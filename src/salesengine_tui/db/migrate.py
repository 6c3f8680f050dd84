"""Alembic, driven from code: the migrations ship inside the package, so an installed wheel
can `salesengine db upgrade` without an alembic.ini on disk."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from ..base.errors import SchemaOutOfDate

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # env.py uses this engine's connection rather than a URL (no password in config).
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def stamp(engine: Engine, revision: str) -> None:
    """Record that the database already is at `revision` (an existing operations database)."""
    command.stamp(alembic_config(engine), revision)


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def require_current(engine: Engine) -> None:
    """Refuse to run on a database the code's migrations have not reached."""
    current, head = current_revision(engine), head_revision(engine)
    if current == head:
        return
    if current is None:
        raise SchemaOutOfDate(
            "the database has no SalesEngine tables yet: run `salesengine db upgrade`"
        )
    script = ScriptDirectory.from_config(alembic_config(engine))
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise SchemaOutOfDate(
            f"the database is at revision {current}, newer than this SalesEngine ({head}); "
            "upgrade SalesEngine"
        )
    raise SchemaOutOfDate(
        f"the database is at revision {current}, behind this SalesEngine ({head}): "
        "run `salesengine db upgrade`"
    )
