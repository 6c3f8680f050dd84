"""Command palette: "Search..." (and the older "Go to customer...") opens the search when
chosen with nothing typed; typed text lists customers, deals and tickets found, as the search
screen would, best first."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from ..search import read
from ..ui.display import visible
from .search import OPENS, SEARCH_KEY, hit_line, open_hit, open_search

ENTRIES = (
    ("Search...", "Customers by name, email or phone; deals by number or title; tickets"),
    ("Go to customer...", "Type part of a name, email or phone"),
)


class CustomerSearch(Provider):
    async def discover(self) -> Hits:
        for title, help_ in ENTRIES:
            yield DiscoveryHit(
                Content(title),
                partial(open_search, self.app),
                text=title,
                help=f"{help_} (key {SEARCH_KEY})",
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_ in ENTRIES:  # the entries themselves, as the palette matches commands
            if (score := matcher.match(title)) > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),  # our own words: no data in them
                    partial(open_search, self.app),
                    text=title,
                    help=f"{help_} (key {SEARCH_KEY})",
                )
        text = query.strip()
        for title, _help in ENTRIES:  # an entry's words before the search's are not searched
            entry = title.rstrip(".").lower()
            if text.lower().startswith(entry):
                text = text[len(entry) :].strip(" .:")
        desk = getattr(self.app, "desk", None)
        if desk is None or read(text).empty:
            return
        found = await asyncio.to_thread(desk.search.find, text)
        for rank, hit in enumerate(found):
            line = hit_line(hit)
            yield Hit(
                1.0 - rank / 100,  # the search's order, above the palette's own commands
                line,
                partial(open_hit, self.app, desk, hit),
                text=line.plain,
                help=OPENS[hit.kind],
            )
        yield Hit(
            0.5 - len(found) / 100,
            Content.assemble("Search for “", visible(text), "”..."),
            partial(open_search, self.app, text),
            text=f"Search for {visible(text)}",
            help="Open the search with these words (more results, as you type)",
        )
