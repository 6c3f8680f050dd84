"""Search that finds anything: customers by name words, email or phone in any punctuation,
deals by number or title words, tickets by number; one ranked list of typed hits.

`search(session, text, limit=...)` is the one entry (the search screen, the command palette,
the CLI if it wants one). Every source is an index lookup or an index range scan bounded by
the limit (migration 0015), so a search stays fast at a million customers. What was typed is
only ever a bound parameter, and word queries are built by PostgreSQL's own parser from the
words it finds (see `salesengine_search_query`), so no typed character is an operator.
"""

from __future__ import annotations

from .find import LIMIT, search
from .hits import Hit, Kind, Why
from .typed import Typed, read

__all__ = ["LIMIT", "Hit", "Kind", "Typed", "Why", "read", "search"]
