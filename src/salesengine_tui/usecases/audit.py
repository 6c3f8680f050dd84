"""The audit trail: what persons and the jobs changed, read by managers."""

from __future__ import annotations

from datetime import datetime

from ..activity import audit
from ..activity.audit import Entry
from .base import UseCases


class Audit(UseCases):
    def recent(
        self,
        *,
        table: str | None = None,
        login: str | None = None,
        row_id: str | None = None,
        since: datetime | None = None,
        limit: int = audit.LIMIT,
    ) -> list[Entry]:
        """The newest changes first (managers only): of one table, by one login, to one row,
        from `since` on, at most `limit`."""
        with self.read() as session:
            return audit.recent(
                session,
                self.actor,
                table=table,
                login=login,
                row_id=row_id,
                since=since,
                limit=limit,
            )
