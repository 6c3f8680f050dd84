"""Command palette: "Go to customer..." finds customers by name, email or phone, anywhere."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from ..ui.display import visible
from .customer import CustomerScreen


class CustomerSearch(Provider):
    async def discover(self) -> Hits:
        yield DiscoveryHit(
            Content("Go to customer..."),
            lambda: None,
            text="Go to customer...",
            help="Type part of a name, email or phone",
        )

    async def search(self, query: str) -> Hits:
        text = query.removeprefix("Go to customer").strip(" .:")
        desk = getattr(self.app, "desk", None)
        if desk is None or len(text) < 2:
            return
        found = await asyncio.to_thread(desk.customers.find, text)
        for rank, (customer_id, name) in enumerate(found):
            shown = visible(name)
            yield Hit(
                1.0 - rank / 100,
                Content.assemble("Customer: ", shown),
                partial(self.app.push_screen, CustomerScreen(desk.ctx, customer_id)),  # type: ignore[arg-type]
                text=f"Customer: {shown}",
                help="Open the profile and timeline",
            )
