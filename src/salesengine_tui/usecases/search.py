"""Search that finds anything: customers, deals and tickets from one box (the search screen
and the command palette)."""

from __future__ import annotations

from ..search import LIMIT, Hit, search
from .base import UseCases


class Search(UseCases):
    def find(self, text: str, *, limit: int = LIMIT) -> list[Hit]:
        """Customers by name, email or phone; deals by number or title; tickets by number:
        best first."""
        with self.read() as session:
            return search(session, text, limit=limit)
