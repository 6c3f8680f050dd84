"""Is the database's schema the one this code expects? Answered without Alembic.

Importing Alembic costs about half a second, paid by every start of the app only to compare two
strings. The database's revision is one row of `alembic_version`, read with plain SQL; the code's
head is read from the migration files' text (`revision = "..."`, `down_revision = "..."`), so a
new migration needs no constant bumped. tests/test_startup.py checks that this head is Alembic's.
Alembic itself (db/migrate.py) is imported only when there is a migration to run.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine

from ..base.errors import SchemaOutOfDate

VERSIONS = Path(__file__).with_name("migrations") / "versions"

# `revision: str = "0016_drop_next_step"` and `down_revision: str | None = "0015_search"`, the
# shape of script.py.mako (annotation optional); a tuple of parents is a merge.
_ASSIGN = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Migrations:
    head: str
    known: frozenset[str]


class Unreadable(ValueError):
    """A migration whose revision or parent is computed, not written out."""


def _literal(text: str) -> tuple[str, ...]:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise Unreadable(text) from None
    if value is None:
        return ()
    values = (value,) if isinstance(value, str) else value
    if not isinstance(values, tuple | list) or not all(isinstance(v, str) for v in values):
        raise Unreadable(text)
    return tuple(values)


def scan(folder: Path = VERSIONS) -> Migrations:
    """Every revision in `folder` and the one head, read from the files' text."""
    parents: dict[str, tuple[str, ...]] = {}
    for path in sorted(folder.glob("*.py")):
        values = dict(_ASSIGN.findall(path.read_text(encoding="utf-8")))
        if "revision" not in values:
            continue  # not a migration (a helper module)
        (revision,) = _literal(values["revision"])
        parents[revision] = _literal(values.get("down_revision", "None"))
    heads = set(parents) - {parent for down in parents.values() for parent in down}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations in {folder} have {len(heads)} heads: {sorted(heads)}")
    return Migrations(head=heads.pop(), known=frozenset(parents))


def _ask_alembic(folder: Path) -> Migrations:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(folder.parent))
    head = script.get_current_head()
    assert head is not None
    return Migrations(head=head, known=frozenset(r.revision for r in script.walk_revisions()))


@cache
def migrations(folder: Path = VERSIONS) -> Migrations:
    """The migrations this code ships; Alembic is asked only when a file's revisions are not
    plain strings (tests/test_startup.py makes sure they are)."""
    try:
        return scan(folder)
    except Unreadable:
        return _ask_alembic(folder)


def read_revision(conn: Connection) -> str | None:
    """The revision recorded in the database (None: no Alembic table, or an empty one)."""
    if conn.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar() is None:
        return None
    rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    if len(rows) > 1:  # branches: this project's history is one line
        raise SchemaOutOfDate(f"the database records several revisions: {', '.join(rows)}")
    return rows[0] if rows else None


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return read_revision(conn)


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == migrations().head


def require_current(engine: Engine) -> None:
    """Refuse to run on a database the code's migrations have not reached (or have passed)."""
    current, shipped = current_revision(engine), migrations()
    head = shipped.head
    if current == head:
        return
    if current is None:
        raise SchemaOutOfDate(
            "the database has no SalesEngine tables yet: run `salesengine db upgrade`"
        )
    if current not in shipped.known:
        raise SchemaOutOfDate(
            f"the database is at revision {current}, newer than this SalesEngine ({head}); "
            "upgrade SalesEngine"
        )
    raise SchemaOutOfDate(
        f"the database is at revision {current}, behind this SalesEngine ({head}): "
        "run `salesengine db upgrade`"
    )
