"""Who you are is proven by PostgreSQL: a role per person (member of a group role per
SalesEngine role), a jobs role, a gateway role; row-level security on every table people
write; an audit trail kept by a trigger.

The SQL lives beside this file in `sql/0021_database_roles/`: the upgrade runs its numbered
files in name order (roles and identity first, then each business area's grants and
policies, then the audit trail); the downgrade runs `down/`'s files in reverse name order,
each undoing its namesake.

Roles are the cluster's, not the database's: the downgrade leaves them (other databases on
the same server may use them) and takes away every grant, policy and function.

Revision ID: 0021_database_roles
Revises: 0020_job_runners
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0021_database_roles"
down_revision: str | None = "0020_job_runners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL = Path(__file__).parent.parent / "sql" / "0021_database_roles"


def _run(path: Path) -> None:
    # The driver's cursor, without parameters: PL/pgSQL's format('%I') and several statements
    # per file pass through as written (SQLAlchemy's text() would read ':name' and '%').
    raw = op.get_bind().connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(path.read_text(encoding="utf-8"))


def upgrade() -> None:
    for path in sorted(SQL.glob("[0-9]*.sql")):
        _run(path)


def downgrade() -> None:
    for path in sorted((SQL / "down").glob("[0-9]*.sql"), reverse=True):
        _run(path)
