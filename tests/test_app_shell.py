"""The app shell against a real database: sections, keys, help, palette, safe rendering.

Plus the domain queries the sections show (they are the shell's data sources).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from factories import (
    FIXED_NOW,
    Desk,
    add_customer,
    add_interaction,
    app_context,
    days_before,
    fixed_id,
    stages_of,
)
from pilot_helpers import settle, wait_until
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session
from textual.command import CommandPalette
from textual.widgets import Static

from salesengine_tui.activity import feed as activity
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.customers import leads
from salesengine_tui.customers import status as customers
from salesengine_tui.db.engine import make_engine
from salesengine_tui.deals import pipelines as pipeline
from salesengine_tui.screens.help import HelpScreen
from salesengine_tui.widgets.board_column import BoardColumn
from salesengine_tui.widgets.charts import BarTable
from salesengine_tui.widgets.leads_table import LeadsTable
from salesengine_tui.widgets.safe_table import SafeTable

SIZE = (120, 40)
EVIL = "[@click=app.quit]Acme\x1b[2J [bold]x[/]"
EVIL_SHOWN = "[@click=app.quit]Acme␛[2J [bold]x[/]"


@pytest.fixture
def app(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def rows(app: SalesEngineApp, selector: str) -> list[list[str]]:
    table = app.screen.query_one(selector, SafeTable)
    return [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]


def title(app: SalesEngineApp) -> str:
    return str(app.screen.query_one("#section-title", Static).render())


def lead_lines(app: SalesEngineApp) -> list[str]:
    """The leads table's rows as drawn (without the mark column), up to the first blank."""
    table = app.screen.query_one(LeadsTable)
    lines = [table.render_line(y).text[2:].rstrip() for y in range(table.size.height)]
    return [line for line in lines if line]


def lane_headers(app: SalesEngineApp) -> list[str]:
    """Each board lane's header, its lines joined with ' | '."""
    return [
        " | ".join(str(header.render()).splitlines())
        for header in app.screen.query(".lane-header").results(Static)
    ]


def shown_lines(app: SalesEngineApp, selector: str) -> list[str]:
    """The lines a table draws on the terminal now, as plain text."""
    table = app.screen.query_one(selector, SafeTable)
    return [table.render_line(y).text for y in range(table.size.height)]


# --- sections ---------------------------------------------------------------------------------


async def test_starts_on_pipeline_with_stage_totals(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "pipeline"
        assert app.title == "SalesEngine"
        assert "Residential Replacements" in title(app)
        assert lane_headers(app) == [
            "New  10% | 2 deals · $20,400 | weighted $2,040",
            "Site Visit Scheduled  25% | 1 deal · $9,100 | weighted $2,275",
            "Proposal Sent  50% | 1 deal · $15,500 | weighted $7,750",
            "Negotiation  75% | 1 deal · $22,000 | weighted $16,500",
            "Won  100% · won | 1 deal · $7,300 | weighted $7,300",
            "Lost  0% · lost | 0 deals · $0 | weighted $0",
        ]


async def test_header_shows_acting_user(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert str(app.screen.query_one("#user", Static).render()) == "Dana Reyes · manager"
        assert app.sub_title == "Dana Reyes · manager"


async def test_keys_1_to_4_reach_each_section_with_real_data(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        await pilot.press("2")
        await settle(pilot)
        assert app.current_mode == "leads"
        assert "3 leads" in title(app)
        # never contacted first (newest first among them), then the least recently contacted
        assert [cells.split() for cells in lead_lines(app)] == [
            [
                "Hank",
                "Hill",
                "Referral",
                "yesterday",
                "never",
                "2026-11-26",
                "Sam",
                "Ortiz",
                "(214)",
                "555-0101",
            ],
            ["Dale", "Gribble", "—", "10", "days", "never", "—", "unassigned", "(214)", "555-0103"],
            [
                "Peggy",
                "Hill",
                "Google",
                "Ads",
                "3",
                "days",
                "yesterday",
                "—",
                "Sam",
                "Ortiz",
                "(214)",
                "555-0102",
            ],
        ]

        await pilot.press("3")
        await settle(pilot)
        assert app.current_mode == "segments"
        assert rows(app, "#sources") == [
            ["Referral", "1", "1", "1", "3"],
            ["Google Ads", "1", "0", "0", "1"],
            ["Tech upsell", "0", "1", "0", "1"],
            ["(no source)", "1", "0", "0", "1"],
            ["All customers", "3", "2", "1", "6"],
        ]

        await pilot.press("4")
        await settle(pilot)
        assert app.current_mode == "dashboard"
        stages = app.screen.query_one("#stages", BarTable)
        assert [(row.label, row.cells) for row in stages.rows] == [
            ("New", ("2", "$20,400", "$2,040", "0")),
            ("Site Visit Scheduled", ("1", "$9,100", "$2,275", "0")),
            ("Proposal Sent", ("1", "$15,500", "$7,750", "0")),
            ("Negotiation", ("1", "$22,000", "$16,500", "0")),
            ("Open", ("5", "$67,000", "$28,565", "0")),
            ("Won · 90d", ("1", "$7,300", "", "")),
            ("Lost · 90d", ("0", "", "", "")),
        ]
        feed = rows(app, "#activity")
        assert feed[0] == [
            "11-23 21:00",
            "➜ Stage move",
            "Hank Hill",
            "#1 → New · AC replacement",
            "DR",
        ]
        assert [
            "11-23 09:00",
            "☎ Call out",
            "Peggy Hill",
            "voicemail — Left a message about the quote",
            "SO",
        ] in feed
        assert len(feed) == 9  # 7 stage moves + 2 interactions

        await pilot.press("1")
        await settle(pilot)
        assert app.current_mode == "pipeline"


async def test_header_tabs_switch_sections_by_mouse(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.click("#tab-segments")
        await settle(pilot)
        assert app.current_mode == "segments"
        assert rows(app, "#sources")[-1][0] == "All customers"


async def test_sections_keep_their_state(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("p", "down")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("1")
        await pilot.pause()
        assert "Residential Replacements" in title(app)
        lane = app.screen.focused
        assert isinstance(lane, BoardColumn) and lane.column.name == "New"
        assert lane.cursor == 1


async def test_p_cycles_pipelines(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert "Commercial Contracts · 2 of 2" in title(app)
        assert lane_headers(app)[0] == "Qualified  10% | 1 deal · $125,000 | weighted $12,500"
        await pilot.press("p")
        await settle(pilot)
        assert "Residential Replacements · 1 of 2" in title(app)


async def test_refresh_shows_new_data(app: SalesEngineApp, engine: Engine) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        with Session(engine) as session:
            add_customer(session, "New Lead", lead_source="Walk-in")
            session.commit()
        await pilot.press("2")
        await settle(pilot)
        assert "4 leads" in title(app)
        with Session(engine) as session:
            add_customer(session, "Newer Lead")
            session.commit()
        await pilot.press("r")
        await settle(pilot)
        assert "5 leads" in title(app)


# --- help and palette -------------------------------------------------------------------------


async def test_question_mark_lists_bindings_of_the_current_screen(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {(key, does) for key, does, *_ in rows(app, "#help-keys")}
        for expected in [
            ("p", "Pipeline"),
            ("r", "Refresh"),
            ("1", "Pipeline"),
            ("2", "Leads"),
            ("3", "Segments"),
            ("4", "Dashboard"),
            ("?", "Keys"),
            ("q / ^q", "Quit"),  # ours and Textual's, one row
            ("^p", "Palette"),
            ("↓ / j", "Down"),
            ("⇧→ / L", "Move →"),  # alternatives together, each key as itself
            ("⇧← / H", "Move ←"),
        ]:
            assert expected in listed
        # Each thing done once.
        does = [does for key, does, *_ in rows(app, "#help-keys") if key]
        assert does.count("Move →") == 1 and does.count("Move ←") == 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "pipeline" and not isinstance(app.screen, HelpScreen)

        # Another section has its own keys (and not the pipeline's `p`).
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        keys = [key for key, *_ in rows(app, "#help-keys")]
        assert "r" in keys and "p" not in keys
        await pilot.press("question_mark")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_go_to_leads(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Go to Leads")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await wait_until(
            pilot,
            lambda: (
                "Go to Leads" in str(palette.query_one("CommandList").get_option_at_index(0).prompt)
            ),
        )
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "leads"
        assert lead_lines(app)[0].startswith("Hank Hill")


async def test_palette_picks_a_pipeline_by_name(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"pipeline: commercial")
        palette = app.screen
        await wait_until(
            pilot,
            lambda: (
                "Commercial Contracts"
                in str(palette.query_one("CommandList").get_option_at_index(0).prompt)
            ),
        )
        await pilot.press("enter")
        await settle(pilot)
        assert "Commercial Contracts" in title(app)


# --- safety -----------------------------------------------------------------------------------


async def test_markup_and_escapes_in_data_show_literally(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    with Session(engine) as session:
        evil = add_customer(session, EVIL, lead_source="[red]Web", created_at=FIXED_NOW)
        add_interaction(session, evil, desk.rep, at=FIXED_NOW, notes="[/]\x9b31m")
        session.commit()
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        # On screen, literally (the Name column is cut to its width).
        first = lead_lines(app)[0]
        assert first.startswith(EVIL_SHOWN[:20]) and "[red]Web" in first
        table = app.screen.query_one(LeadsTable)
        assert not any(seg.style and seg.style.meta for seg in table.render_line(0))
        # Clicking the name must not run the action that markup would have made of it.
        await pilot.click("#leads", offset=(3, 1))
        await pilot.pause()
        assert app.is_running and app.return_code is None

        await pilot.press("4")
        await settle(pilot)
        assert rows(app, "#activity")[0][2:4] == [EVIL_SHOWN, "[/]\\u009b31m"]
        await pilot.click("#activity", offset=(30, 1))
        await pilot.pause()
        assert app.is_running


async def test_database_work_never_runs_on_the_ui_thread(
    app: SalesEngineApp, engine: Engine
) -> None:
    threads: list[int] = []

    def record(*_args: object) -> None:
        threads.append(threading.get_ident())

    event.listen(engine, "before_cursor_execute", record)
    try:
        async with app.run_test(size=SIZE) as pilot:
            for key in "12341":
                await pilot.press(key)
                await settle(pilot)
            await pilot.press("p", "r")
            await settle(pilot)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert threads, "no queries ran"
    assert threading.get_ident() not in threads


async def test_unreachable_database_is_one_notification_not_a_crash(
    clock: FixedClock, desk: Desk
) -> None:
    dead = make_engine(make_url("postgresql+psycopg://nobody@127.0.0.1:1/nowhere"))
    app = SalesEngineApp(app_context(dead, clock, desk.manager))
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            toasts = list(app.screen.query("Toast"))
            assert len(toasts) == 1
            shown = str(toasts[0].render())
            assert "Could not load Pipeline" in shown and "cannot reach PostgreSQL" in shown
            assert app.is_running
    finally:
        dead.dispose()


# --- the domain queries behind the sections ---------------------------------------------------


@pytest.fixture
def session(engine: Engine, desk: Desk) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


def test_next_pipeline_wraps() -> None:
    a, b = (pipeline.PipelineInfo(id=fixed_id(i, 9), name=str(i), position=i) for i in (1, 2))
    assert pipeline.next_pipeline([a, b], a.id) == b
    assert pipeline.next_pipeline([a, b], b.id) == a
    assert pipeline.next_pipeline([a, b], None) == a
    assert pipeline.next_pipeline([], None) is None


def make_id(n: int):
    from factories import fixed_id

    return fixed_id(n, 9)


def test_first_leads_order_and_limit(session: Session) -> None:
    assert leads.lead_count(session) == 3
    names = [lead.name for lead in leads.first_leads(session)]
    assert names == ["Hank Hill", "Dale Gribble", "Peggy Hill"]
    assert [lead.name for lead in leads.first_leads(session, limit=1)] == ["Hank Hill"]


def test_status_source_breakdown_limit_keeps_grand_total(session: Session) -> None:
    top = customers.status_source_breakdown(session, limit=2)
    assert [s.lead_source for s in top.sources] == ["Referral", "Google Ads"]
    assert top.more_sources == 2
    assert (top.all_customers.leads, top.all_customers.total) == (3, 6)


def test_recent_activity_merges_newest_first(session: Session) -> None:
    feed = activity.recent_activity(session, limit=3)
    assert [(item.kind, item.customer_name) for item in feed] == [
        (activity.ActivityKind.stage_move, "Hank Hill"),
        (activity.ActivityKind.interaction, "Peggy Hill"),
        (activity.ActivityKind.interaction, "Luanne Platter"),
    ]
    assert feed[0].at == days_before(0.5)
    assert feed[1].outcome == "voicemail" and feed[1].user_name == "Sam Ortiz"


def test_seeded_stages_exist(session: Session) -> None:
    assert set(stages_of(session, "Commercial Contracts")) >= {"Qualified", "Won", "Lost"}
