"""Alembic, driven from code: the migrations ship inside the package, so an installed wheel
can `salesengine db upgrade` without an alembic.ini on disk.

Only commands that migrate import this module: the app's start checks the revision with
schema_version (plain SQL, no Alembic import)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

# The revision checks live beside the start path; re-exported for the `db` commands and tests.
from .schema_version import current_revision, require_current

__all__ = [
    "MIGRATIONS",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "require_current",
    "stamp",
    "upgrade",
]

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
