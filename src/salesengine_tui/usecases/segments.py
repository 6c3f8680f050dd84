"""Segments: count and preview as you type, saved segments, export."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy.exc import DBAPIError

from ..access import permissions
from ..customers import lead_csv
from ..customers.status import StatusSourceBreakdown, status_source_breakdown
from ..db.cancel import QueryCanceller, was_cancelled
from ..marketing import saved_segments, segments
from ..marketing.saved_segments import Saved
from ..marketing.segments import Definition, Member
from .base import UseCases
from .context import AppContext


@dataclass(frozen=True)
class Counted:
    total: int
    members: list[Member]  # the first few, for a preview


class LiveCount(UseCases):
    """Counting a segment while it is edited. One per editor: a newer edit calls `cancel`,
    which stops the older query on the server, not just the wait for it."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self._canceller = QueryCanceller()

    def cancel(self) -> None:
        self._canceller.cancel()

    def count(self, definition: Definition) -> Counted | None:
        """How many customers match and the first of them; None when a newer edit cancelled it."""
        try:
            with self._canceller.session(self.ctx.engine, prepare=self._take_role) as session:
                now = self.now()
                total = segments.count(session, definition, now=now)
                members = segments.preview(session, definition, now=now)
        except DBAPIError as error:
            if was_cancelled(error):
                return None
            raise
        return Counted(total, members)


class Segments(UseCases):
    def live_count(self) -> LiveCount:
        return LiveCount(self.ctx)

    def by_source(self) -> StatusSourceBreakdown:
        """All customers by lead source and status: where a segment usually starts."""
        with self.read() as session:
            return status_source_breakdown(session)

    # --- saved segments ---------------------------------------------------------------------

    def list_saved(self) -> list[Saved]:
        with self.read() as session:
            return saved_segments.list_saved(session)

    def save(self, name: str, definition: Definition, segment_id: uuid.UUID | None = None) -> Saved:
        """A new saved segment, or (with `segment_id`) a new name and definition for one."""
        with self.write() as session:
            return saved_segments.save(
                session, name, definition, actor=self.actor, now=self.now(), segment_id=segment_id
            )

    def refusal(self, saved: Saved, doing: str) -> str | None:
        """Why the acting user may not `doing` (rename, change, delete) `saved`, or None."""
        return permissions.segment_refusal(self.actor, saved.owner_id, doing, owner=saved.owner)

    def rename(self, segment_id: uuid.UUID, name: str) -> Saved:
        with self.write() as session:
            return saved_segments.rename(
                session, segment_id, name, actor=self.actor, now=self.now()
            )

    def duplicate(self, segment_id: uuid.UUID) -> Saved:
        with self.write() as session:
            return saved_segments.duplicate(session, segment_id, actor=self.actor, now=self.now())

    def delete(self, segment_id: uuid.UUID) -> None:
        with self.write() as session:
            saved_segments.delete(session, segment_id, actor=self.actor)

    # --- one segment by name or expression (the command line) -------------------------------

    def resolve(self, name_or_expression: str) -> tuple[Definition, str | None]:
        """A saved segment's definition and name, or else the expression parsed (no name)."""
        with self.read() as session:
            return saved_segments.resolve(session, name_or_expression)

    def count(self, definition: Definition) -> int:
        with self.read() as session:
            return segments.count(session, definition, now=self.now())

    def preview(self, definition: Definition) -> list[Member]:
        with self.read() as session:
            return segments.preview(session, definition, now=self.now())

    def export_csv(self, definition: Definition, out: TextIO) -> int:
        """The matching customers as CSV; returns how many."""
        with self.read() as session:
            where = segments.compile_definition(definition, self.now())
            return lead_csv.export_customers(session, out, where=where)
