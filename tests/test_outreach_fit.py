"""Issue 16, outreach: the blast screen at 80x24 and 120x40 (a preview that keeps its box, the
settings to make shown whole), a preview that never shows a broken link or "None", equipment
kinds in their own case in real template output, segment previews cut with "…"."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from factories import FIXED_NOW, Desk, add_customer
from pilot_helpers import settle
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from test_blasts import SETTINGS
from test_blasts import seed as seed_blast
from test_segments_app import type_segment
from textual.widget import Widget
from textual.widgets import DataTable, Static

from salesengine_tui.access.users import Actor
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import Settings, load_settings
from salesengine_tui.db.models import EmailOutbox, Equipment, User
from salesengine_tui.email import compliance, tokens
from salesengine_tui.marketing import blasts, segments
from salesengine_tui.screens.blast import BlastScreen
from salesengine_tui.usecases.context import AppContext

UNCONFIGURED = load_settings()
SIZES = [(80, 24), (120, 40)]
SETTING_NAMES = (
    "SALESENGINE_COMPANY_POSTAL_ADDRESS",
    "SALESENGINE_UNSUBSCRIBE_URL",
    "SALESENGINE_SIGNING_KEY",
)
LONG = "lead_source = 'Long test'"


def app_with(engine: Engine, clock: FixedClock, user: User, settings: Settings) -> SalesEngineApp:
    return SalesEngineApp(
        AppContext(engine=engine, clock=clock, settings=settings, actor=Actor.of(user))
    )


def lines_of(widget: Widget) -> list[str]:
    """What a widget draws, line by line (trailing blanks dropped)."""
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def open_blast(pilot, segment: str = "lead_source = 'Blast test'") -> BlastScreen:
    await pilot.press("3")
    await settle(pilot)
    await type_segment(pilot, segment)
    await pilot.press("b")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BlastScreen)
    return screen


# --- the blast screen -------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_unconfigured_blast_names_the_settings_and_keeps_its_preview(
    engine: Engine, clock: FixedClock, desk: Desk, size: tuple[int, int]
) -> None:
    seed_blast(engine)
    app = app_with(engine, clock, desk.manager, UNCONFIGURED)
    async with app.run_test(size=size) as pilot:
        screen = await open_blast(pilot)
        # The preview keeps a box with room for its text (5 lines at least), scrollable.
        scroll = screen.query_one("#blast-preview-scroll")
        assert scroll.region.height >= 6 and scroll.region.bottom <= size[1] - 1
        body = screen.query_one("#blast-preview", Static)
        text = str(body.visual)
        assert "None" not in text and "?c=" not in text
        assert "Unsubscribe: [no unsubscribe link yet: set SALESENGINE_UNSUBSCRIBE_URL]" in text
        assert "[no postal address yet: set SALESENGINE_COMPANY_POSTAL_ADDRESS]" in text
        # Each setting to make on a line of its own, whole.
        unready = lines_of(screen.query_one("#blast-unready"))
        assert unready[0].startswith("✗ Sending is refused until set:")
        for name in SETTING_NAMES:
            assert name in [line.strip() for line in unready]
        # As drawn, wrapped to the box: the stand-ins' setting names unbroken.
        drawn = [line.strip() for line in lines_of(body)]
        assert scroll.max_scroll_y == max(0, len(drawn) - scroll.scrollable_content_region.height)
        for name in SETTING_NAMES[:2]:  # the footer names the URL first, then the key
            assert any(line.startswith(name) or f" {name}" in line for line in drawn), drawn
        # Sending is refused at once, naming the settings, and nothing is queued.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen  # no prompt to type the count
        said = [n.message for n in app._notifications]
        assert any(all(name in m for name in SETTING_NAMES) for m in said), said
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(EmailOutbox)).scalar_one() == 0


@pytest.mark.parametrize("size", SIZES)
async def test_configured_blast_preview_shows_the_real_footer(
    engine: Engine, clock: FixedClock, desk: Desk, size: tuple[int, int]
) -> None:
    ids = seed_blast(engine)
    app = app_with(engine, clock, desk.manager, SETTINGS)
    async with app.run_test(size=size) as pilot:
        screen = await open_blast(pilot)
        assert screen.query_one("#blast-preview-scroll").region.height >= 6
        text = str(screen.query_one("#blast-preview", Static).visual)
        # Ann's own signed link, dated today (the day it would go out), never her bare id.
        link = tokens.unsubscribe_link(SETTINGS, ids["Ann Good"], FIXED_NOW.date())
        assert f"Unsubscribe: {link}" in text and "?c=" not in text
        assert text.rstrip().endswith("1 Main St, Dallas TX 75201")
        assert "[no " not in text
        assert not screen.query_one("#blast-unready").display


def test_the_footer_never_shows_a_broken_link_or_none() -> None:
    customer, today = uuid.UUID(int=7), FIXED_NOW.date()

    def shown(settings: Settings) -> str:
        footer = compliance.campaign_footer(settings)
        return compliance.with_unsubscribe_link(footer, settings, customer, today)

    assert shown(UNCONFIGURED) == (
        "\n\n--\nUnsubscribe: [no unsubscribe link yet: set SALESENGINE_UNSUBSCRIBE_URL]\n"
        "[no postal address yet: set SALESENGINE_COMPANY_POSTAL_ADDRESS]\n"
    )
    # A URL alone makes no link: it would carry the bare id. The key is named instead.
    only_url = load_settings(unsubscribe_url="https://acme.example/u?list=1")
    footer = shown(only_url)
    assert "Unsubscribe: [no unsubscribe link yet: set SALESENGINE_SIGNING_KEY]\n" in footer
    assert "None" not in footer and str(customer) not in footer
    assert compliance.missing_campaign_settings(only_url) == [SETTING_NAMES[0], SETTING_NAMES[2]]
    signed = load_settings(unsubscribe_url="https://acme.example/u?list=1", signing_key="k" * 32)
    link = tokens.unsubscribe_link(signed, customer, today)
    assert link and link.startswith("https://acme.example/u?list=1&t=")
    assert f"Unsubscribe: {link}\n" in shown(signed)
    assert compliance.missing_campaign_settings(signed) == [SETTING_NAMES[0]]


# --- customer-facing text keeps the equipment's case --------------------------------------------


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("Central AC", "Central AC"),  # an acronym keeps the kind as written
        ("HVAC Package Unit", "HVAC Package Unit"),
        ("Heat Pump", "heat pump"),  # plain words read as words mid-sentence
    ],
)
def test_the_replacement_template_keeps_acronyms_and_reads_as_a_sentence(
    engine: Engine, desk: Desk, kind: str, said: str
) -> None:
    with Session(engine) as s:
        c = add_customer(s, "Karen Stevens", lead_source="Case test", n=950)
        c.email = "karen@example.com"
        s.add(Equipment(customer_id=c.id, kind=kind, installed_on=date(2008, 6, 1)))
        s.commit()
    template = blasts.TEMPLATES[0]  # "Replacement season", as a manager would send it
    with Session(engine) as s:
        [shown] = blasts.preview(
            s, segments.parse("lead_source = 'Case test'"), template.subject, template.body,
            now=FIXED_NOW, settings=SETTINGS,
        )  # fmt: skip
    assert shown.subject == f"Karen, is your {said} ready for another year?"
    assert f"Your {said} is 18 years old." in shown.body
    if said == kind:
        assert kind.lower() not in shown.subject + shown.body


# --- segment previews cut with "…" -----------------------------------------------------------


def seed_long(engine: Engine) -> None:
    people = [
        ("Maximiliana Featherstonehaugh-Worthington",
         "maximiliana.featherstonehaugh-worthington@example-company.org"),
        ("Bartholomew Oyelaran-Castellanos", "bartholomew.oyelaran.castellanos@example.net"),
        ("Ann Short", "ann@example.com"),
    ]  # fmt: skip
    with Session(engine) as s:
        for i, (name, email) in enumerate(people):
            add_customer(s, name, lead_source="Long test", n=960 + i).email = email
        s.commit()


@pytest.mark.parametrize("size", SIZES)
async def test_segment_preview_cuts_long_cells_with_an_ellipsis(
    engine: Engine, clock: FixedClock, desk: Desk, size: tuple[int, int]
) -> None:
    seed_long(engine)
    app = app_with(engine, clock, desk.manager, SETTINGS)
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await type_segment(pilot, LONG)
        await settle(pilot)
        table = app.screen.query_one("#segment-preview", DataTable)
        lines = lines_of(table)
        assert lines[0].split() == ["Name", "Email", "Status"]  # every column in view
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width
        longest = next(line for line in lines if line.lstrip().startswith("Maximiliana"))
        assert longest.count("…") == 2 and longest.endswith("lead")
        assert any(line.lstrip().startswith("Ann Short") and "ann@example.com " in line
                   for line in lines)  # fmt: skip
        # Every cell shown is its value, or its start and "…": nothing is cut silently.
        with Session(engine) as s:
            members = segments.preview(s, segments.parse(LONG), now=FIXED_NOW)
        widths = [c.get_render_width(table) for c in table.columns.values()]
        for member, line in zip(members, lines[1:], strict=True):
            at = 0
            for value, width in zip((member.name, member.email), widths, strict=False):
                cell = line[at : at + width].strip()
                at += width
                assert cell == value or (cell.endswith("…") and value.startswith(cell[:-1]))


def test_fit_widths_takes_from_the_widest_first() -> None:
    from salesengine_tui.widgets.segment_results import fit_widths

    assert fit_widths([10, 20, 6], [4, 4, 6], 40) == [10, 20, 6]
    assert fit_widths([30, 50, 7], [10, 12, 7], 40) == [17, 16, 7]
    assert fit_widths([30, 50, 7], [10, 12, 7], 20) == [10, 12, 7]  # the floors, whatever
    # The recent blasts at 80 columns: the optional columns (floor 0) go, the last first.
    assert fit_widths([16, 68, 52, 2, 23], [16, 12, 0, 0, 9], 48, pad=2) == [16, 13, 0, 0, 13]
    assert fit_widths([16, 68, 52, 2, 23], [16, 12, 0, 0, 9], 60, pad=2) == [16, 12, 10, 2, 10]
