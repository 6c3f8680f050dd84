"""The search in the real app through Pilot: its key from every section, typing finds a
customer, a deal and a ticket and enter opens the right screen, the palette's entry; and the
inbox's status filter (every customer can be listed)."""

from __future__ import annotations

import pytest
from factories import Desk, app_context
from pilot_helpers import settle, wait_until
from search_data import Found, seed_search
from sqlalchemy import Engine, text
from sqlmodel import Session
from textual.command import CommandPalette
from textual.widgets import OptionList

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.screens.deal import DealScreen
from salesengine_tui.screens.picker import Picker
from salesengine_tui.screens.search import SEARCH_KEY, SearchScreen
from salesengine_tui.screens.sections import SECTIONS
from salesengine_tui.search import Kind
from salesengine_tui.widgets.leads_table import LeadsTable

SIZE = (120, 40)


@pytest.fixture
def found(engine: Engine, desk: Desk) -> Found:
    with Session(engine, expire_on_commit=False) as s:
        seeded = seed_search(s)
        s.commit()
    return seeded


@pytest.fixture
def app(engine: Engine, clock: FixedClock, desk: Desk, found: Found) -> SalesEngineApp:
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def search_screen(app: SalesEngineApp) -> SearchScreen:
    screen = app.screen
    assert isinstance(screen, SearchScreen)
    return screen


async def type_search(pilot, app: SalesEngineApp, typed: str) -> SearchScreen:
    """Type into the open search and wait until its list shows the hits for it."""
    screen = search_screen(app)
    await pilot.press(*typed)
    await wait_until(pilot, lambda: screen.shown_for == typed, what=f"hits for {typed!r}")
    return screen


def shown(screen: SearchScreen) -> list[str]:
    results = screen.query_one("#search-results", OptionList)
    return [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]


async def test_the_key_opens_the_search_from_every_section(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        for section in SECTIONS:
            await pilot.press(section.key)
            await settle(pilot)
            assert app.current_mode == section.mode
            await pilot.press(SEARCH_KEY)
            await pilot.pause()
            assert isinstance(app.screen, SearchScreen), section.title
            assert app.screen.query_one("#search-text").has_focus
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, SearchScreen)
            assert app.current_mode == section.mode


async def test_typing_finds_a_customer_and_enter_opens_the_profile(
    app: SalesEngineApp, found: Found
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(SEARCH_KEY)
        screen = await type_search(pilot, app, "(972) 653-2552")
        assert [(h.kind, h.title) for h in screen.hits] == [(Kind.customer, "Karen Smith")]
        assert "Karen Smith" in shown(screen)[0] and "(972) 653-2552" in shown(screen)[0]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.customer_id == found.customers["Karen Smith"].id


async def test_arrows_choose_among_hits_and_enter_opens_that_one(
    app: SalesEngineApp, found: Found
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(SEARCH_KEY)
        screen = await type_search(pilot, app, "karen")
        assert [h.title for h in screen.hits][:2] == ["Karen Smith", "Karen Smithers"]
        await pilot.press("down", "enter")  # the second, without leaving the box
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.customer_id == found.customers["Karen Smithers"].id


async def test_a_deal_number_opens_the_deal(app: SalesEngineApp, found: Found) -> None:
    deal = found.deals["Furnace replacement - 80k BTU"]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(SEARCH_KEY)
        screen = await type_search(pilot, app, "#249")
        assert screen.hits[0].kind is Kind.deal
        assert "#249 Furnace replacement" in shown(screen)[0]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        assert app.screen.estimate_id == deal.id


async def test_a_deal_title_word_finds_the_deal(app: SalesEngineApp, found: Found) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(SEARCH_KEY)
        screen = await type_search(pilot, app, "tankless")
        assert [(h.kind, h.number) for h in screen.hits] == [(Kind.deal, 77)]


async def test_a_ticket_number_opens_the_ticket_customer(app: SalesEngineApp, found: Found) -> None:
    ticket = found.tickets["No heat upstairs"]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press(SEARCH_KEY)
        screen = await type_search(pilot, app, "T-1234")
        assert [(h.kind, h.label) for h in screen.hits] == [(Kind.ticket, "#1234 No heat upstairs")]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.customer_id == ticket.customer_id
        assert app.current_mode == "leads"  # opened over the section it was searched from


async def test_enter_right_after_typing_opens_the_best_hit(
    app: SalesEngineApp, found: Found
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(SEARCH_KEY)
        await pilot.press(*"karen smith", "enter")  # before the pause in typing ends
        await wait_until(pilot, lambda: isinstance(app.screen, CustomerScreen), what="profile")
        assert app.screen.customer_id == found.customers["Karen Smith"].id


async def test_nothing_found_says_so_and_hostile_text_is_shown_inert(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(SEARCH_KEY)
        screen = await type_search(pilot, app, "[b]zz&|!:*(")
        assert screen.hits == []
        status = str(screen.query_one("#search-status").render())
        assert "Nothing found for “[b]zz&|!:*(”" in status
        await pilot.press("enter")  # nothing to open: the search stays
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)


async def test_palette_entry_with_nothing_typed_opens_the_search(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        palette = app.screen

        def first() -> str:
            return str(palette.query_one("CommandList").get_option_at_index(0).prompt)

        await pilot.press(*"go to customer")
        await wait_until(pilot, lambda: "Go to customer..." in first(), what="the entry")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen), what="the search")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SearchScreen | CommandPalette)


async def test_palette_typed_text_finds_every_kind(app: SalesEngineApp, found: Found) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        palette = app.screen

        def prompts() -> list[str]:
            hits = palette.query_one("CommandList")
            return [str(hits.get_option_at_index(i).prompt) for i in range(hits.option_count)]

        await pilot.press(*"1234")
        await wait_until(
            pilot,
            lambda: any(p.startswith("Ticket: #1234") for p in prompts()),
            what="a ticket hit",
        )
        assert prompts()[0].startswith("Deal: #1234 Replace 3-ton AC + coil")
        for _ in "1234":
            await pilot.press("backspace")
        await pilot.press(*"karen sm")
        karen = "Customer: Karen Smith  (lead · (972) 653-2552 · karen.smith42@gmail.com)"
        await wait_until(pilot, lambda: prompts()[0].startswith(karen), what="a customer hit")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.customer_id == found.customers["Karen Smith"].id


# --- the inbox lists every customer ----------------------------------------------------------------


def inbox_title(app: SalesEngineApp) -> str:
    return str(app.screen.query_one("#section-title").render())


async def choose_filter(pilot, app: SalesEngineApp, label: str) -> None:
    await pilot.press("f")
    await pilot.pause()
    picker = app.screen
    assert isinstance(picker, Picker)
    options = picker.query_one(OptionList)
    index = next(
        i
        for i in range(options.option_count)
        if label in str(options.get_option_at_index(i).prompt)
    )
    options.highlighted = index
    await pilot.press("enter")
    await settle(pilot)


async def test_inbox_status_filter(app: SalesEngineApp, engine: Engine) -> None:
    with Session(engine) as s:
        counts = dict(
            s.execute(text("SELECT status::text, count(*) FROM customers GROUP BY 1")).all()
        )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one(LeadsTable)
        assert table.count == counts["lead"] and f"{counts['lead']} leads" in inbox_title(app)
        await choose_filter(pilot, app, "Show: All customers")
        assert table.count == sum(counts.values())
        assert f"{sum(counts.values())} customers" in inbox_title(app)
        assert "Status" in str(app.screen.query_one("#leads-header").render())
        await choose_filter(pilot, app, "Show: Active customers")
        assert table.count == counts["active"]
        assert f"{counts['active']} active customers" in inbox_title(app)
        assert {table.item(i).status.value for i in range(table.count)} == {"active"}
        await choose_filter(pilot, app, "Show: Churned customers")
        assert table.count == counts["churned"]
        assert "churned customer" in inbox_title(app)
        await pilot.press("escape")  # clear: back to the leads
        await settle(pilot)
        assert table.count == counts["lead"]
        assert "Status" not in str(app.screen.query_one("#leads-header").render())
