"""Command palette: "Go to customer..." finds customers by name, email or phone, anywhere."""

from __future__ import annotations

import asyncio
from functools import partial

from sqlmodel import Session
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from ..display import visible
from ..profile import find_customers
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
        ctx = getattr(self.app, "ctx", None)
        if ctx is None or len(text) < 2:
            return

        def lookup() -> list[tuple[object, str]]:
            with Session(ctx.engine) as session:
                return find_customers(session, text)  # type: ignore[return-value]

        for rank, (customer_id, name) in enumerate(await asyncio.to_thread(lookup)):
            shown = visible(name)
            yield Hit(
                1.0 - rank / 100,
                Content.assemble("Customer: ", shown),
                partial(self.app.push_screen, CustomerScreen(ctx, customer_id)),  # type: ignore[arg-type]
                text=f"Customer: {shown}",
                help="Open the profile and timeline",
            )
