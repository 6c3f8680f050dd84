"""Colours on a terminal of 16 colours: selections and warnings readable, ROTTING red.

A 16-colour terminal (TERM=linux, TERM=xterm) gets every colour as one of 16 indexes: Rich maps
each RGB to the nearest colour of its own standard palette (`Color.downgrade`), exactly what
Textual sends (`Strip.render_ansi`). The terminal then paints the index with its own palette.
Each test draws a screen as the app draws it (the compositor's lines), downgrades every cell's
colours that way, paints them with the xterm, Tango (GNOME Terminal's default before 3.32) and
GNOME palettes, and asks for a WCAG contrast of 4.5:1 on the cells that matter: the selected
card or row, and the warnings ("no next step", late, ROTTING). Reverse video swaps the pair.

Before screens/theme.py the selected card was white on yellow: 1.7:1 on xterm.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from dashboard_data import seed_dashboard
from factories import FIXED_NOW, app_context, seed_desk
from rich.cells import cell_len
from rich.color import Color, ColorSystem
from rich.console import Console
from rich.style import Style
from sqlalchemy import Engine
from sqlmodel import Session
from test_snapshots_shell import loaded
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import Notification
from salesengine_tui.widgets.virtual_list import VirtualList

try:  # absent before the 16-colour theme: the tests then measure the default theme
    from salesengine_tui.screens.theme import has_sixteen_colours, use_sixteen_colours
except ImportError:  # pragma: no cover

    def use_sixteen_colours(app: object) -> None:
        pass

    has_sixteen_colours = None  # type: ignore[assignment]


# The 16 colours as each terminal paints them by default: xterm's (its X resources; the same
# in GNOME Terminal's "XTerm" scheme), Tango and GNOME (gnome-terminal's profile editor).
PALETTES = {
    "xterm": "000000 cd0000 00cd00 cdcd00 0000ee cd00cd 00cdcd e5e5e5 "
    "7f7f7f ff0000 00ff00 ffff00 5c5cff ff00ff 00ffff ffffff",
    "tango": "2e3436 cc0000 4e9a06 c4a000 3465a4 75507b 06989a d3d7cf "
    "555753 ef2929 8ae234 fce94f 729fcf ad7fa8 34e2e2 eeeeec",
    "gnome": "171421 c01c28 26a269 a2734c 12488b a347ba 2aa1b3 d0cfcc "
    "5e5c64 f66151 33d17a e9ad0c 2a7bde c061cb 33c7de ffffff",
}
MIN_CONTRAST = 4.5
BLACK, RED, BRIGHT_RED = 0, 1, 9


def luminance(hex_rgb: str) -> float:
    """WCAG 2 relative luminance."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_rgb[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def index16(color: Color | None) -> int | None:
    """The index a 16-colour terminal receives for `color` (as Textual sends it); None: no
    colour is sent, the terminal's default shows (black on white in a default xterm)."""
    return None if color is None else color.downgrade(ColorSystem.STANDARD).number


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    char: str
    fg: int | None  # as painted: reverse video already swapped
    bg: int | None
    reverse: bool


def screen_cells(app: SalesEngineApp) -> dict[tuple[int, int], Cell]:
    """Every cell of the screen as the terminal gets it. The compositor's lines are what
    Textual writes (its driver renders these strips); no public API hands them out."""
    cells: dict[tuple[int, int], Cell] = {}
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        x = 0
        for segment in strip:
            style = segment.style or Style()
            for char in segment.text:
                fg, bg = index16(style.color), index16(style.bgcolor)
                if style.reverse:
                    fg, bg = bg, fg
                cells[x, y] = Cell(x, y, char, fg, bg, bool(style.reverse))
                x += max(1, cell_len(char))
    return cells


def screen_lines(cells: dict[tuple[int, int], Cell], width: int, height: int) -> list[str]:
    return [
        "".join(cells[x, y].char if (x, y) in cells else " " for x in range(width))
        for y in range(height)
    ]


def unreadable(cells: Iterator[Cell]) -> list[str]:
    """The text cells under 4.5:1 on some palette, described."""
    problems = []
    for cell in cells:
        if not cell.char.strip():
            continue
        if cell.fg is None or cell.bg is None:
            problems.append(f"{cell.char!r} at {cell.x},{cell.y}: the terminal's default colour")
            continue
        for name, palette in PALETTES.items():
            colours = palette.split()
            ratio = contrast(colours[cell.fg], colours[cell.bg])
            if ratio < MIN_CONTRAST:
                problems.append(
                    f"{cell.char!r} at {cell.x},{cell.y}: {cell.fg} on {cell.bg} "
                    f"is {ratio:.1f}:1 on {name}"
                )
    return problems


def in_region(cells: dict[tuple[int, int], Cell], region: Region) -> Iterator[Cell]:
    for y in range(region.y, region.bottom):
        for x in range(region.x, region.right):
            if (x, y) in cells:
                yield cells[x, y]


def selection_region(widget: Widget) -> Region:
    """Where the cursor's item or row is drawn on the screen."""
    area = widget.scrollable_content_region
    if isinstance(widget, VirtualList):
        top = area.y + widget.cursor * widget.ITEM_HEIGHT - round(widget.scroll_offset.y)
        return Region(area.x, top, area.width, widget.ITEM_HEIGHT)
    assert isinstance(widget, DataTable)
    top = area.y + widget.header_height + widget.cursor_row - round(widget.scroll_offset.y)
    return Region(area.x, top, area.width, 1)


def marker_cells(
    cells: dict[tuple[int, int], Cell], lines: list[str], word: str
) -> list[list[Cell]]:
    """The cells of each place `word` is drawn."""
    found = []
    for y, line in enumerate(lines):
        start = line.find(word)
        while start >= 0:
            found.append([cells[x, y] for x in range(start, start + len(word)) if (x, y) in cells])
            start = line.find(word, start + 1)
    return found


def assert_selection_readable(app: SalesEngineApp) -> list[Cell]:
    widget = app.focused
    assert widget is not None, "nothing has focus"
    cells = screen_cells(app)
    selected = [c for c in in_region(cells, selection_region(widget)) if c.char.strip()]
    assert selected, f"no text drawn under the cursor of {widget!r}"
    assert not unreadable(iter(selected)), unreadable(iter(selected))[:8]
    # It shows as a selection: not the screen's own black.
    assert all(c.bg != BLACK for c in selected), "the selected item looks like the others"
    return selected


def assert_markers_readable(app: SalesEngineApp, *words: str) -> None:
    width, height = app.size
    cells = screen_cells(app)
    lines = screen_lines(cells, width, height)
    for word in words:
        places = marker_cells(cells, lines, word)
        assert places, f"{word!r} is not on the screen"
        for place in places:
            problems = unreadable(iter(place))
            assert not problems, f"{word!r}: {problems[:4]}"


def assert_red(app: SalesEngineApp, word: str) -> None:
    width, height = app.size
    cells = screen_cells(app)
    for place in marker_cells(cells, screen_lines(cells, width, height), word):
        for cell in place:
            if cell.char.strip():
                assert {cell.fg, cell.bg} & {RED, BRIGHT_RED}, f"{word!r} is not red: {cell}"


@pytest.fixture
def seeded(engine: Engine, clock: FixedClock) -> SalesEngineApp:
    with Session(engine, expire_on_commit=False) as session:
        desk = seed_desk(session)
        seed_dashboard(session, desk)
        session.add(
            Notification(
                user_id=desk.manager.id,
                kind="upsell",
                title="Tech John flagged a furnace for replacement at 84 Rainey St",
                customer_id=desk.customers["Hank Hill"].id,
                created_at=FIXED_NOW,
            )
        )
        session.commit()
    return SalesEngineApp(app_context(engine, clock, desk.manager))


async def sixteen_colours(app: SalesEngineApp, pilot: object, *keys: str) -> None:
    """What a 16-colour terminal gets (the app picks it at mount, never in a headless run)."""
    use_sixteen_colours(app)
    await loaded(pilot)  # type: ignore[arg-type]
    for key in keys:
        await pilot.press(key)  # type: ignore[attr-defined]
    await loaded(pilot)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_board_selected_card_and_warnings(seeded: SalesEngineApp, size) -> None:
    async with seeded.run_test(size=size) as pilot:
        await sixteen_colours(seeded, pilot)
        assert_selection_readable(seeded)
        assert_markers_readable(seeded, "no next step", "ROTTING")
        assert_red(seeded, "ROTTING")
        await pilot.press("j")  # a card whose next step is missing, under the cursor
        await loaded(pilot)
        assert_selection_readable(seeded)


async def test_board_rotting_card_selected(seeded: SalesEngineApp) -> None:
    """Selected, a rotting card still says ROTTING in red (reverse video: red on white)."""
    async with seeded.run_test(size=(120, 40)) as pilot:
        await sixteen_colours(seeded, pilot)
        for _lane in range(4):
            board = seeded.focused
            assert isinstance(board, VirtualList)
            for _card in range(board.count):
                cells = assert_selection_readable(seeded)
                if "ROTTING" in "".join(c.char for c in cells):
                    assert_red(seeded, "ROTTING")
                    return
                await pilot.press("j")
                await loaded(pilot)
            await pilot.press("l")
            await loaded(pilot)
        pytest.fail("no rotting card in the first lanes")


SECTION_KEYS = {"leads": "2", "notifications": "5", "tasks": "6"}


@pytest.mark.parametrize("section", list(SECTION_KEYS))
async def test_lists_selected_row(seeded: SalesEngineApp, section: str) -> None:
    async with seeded.run_test(size=(120, 40)) as pilot:
        await sixteen_colours(seeded, pilot, SECTION_KEYS[section])
        assert_selection_readable(seeded)


async def test_tasks_overdue_marker(seeded: SalesEngineApp) -> None:
    async with seeded.run_test(size=(120, 40)) as pilot:
        await sixteen_colours(seeded, pilot, "6")
        assert_markers_readable(seeded, "Overdue")


async def test_dashboard_late_and_rotting(seeded: SalesEngineApp) -> None:
    async with seeded.run_test(size=(120, 40)) as pilot:
        await sixteen_colours(seeded, pilot, "4")
        assert_markers_readable(seeded, "rot +", "Win rate")
        assert_red(seeded, "rot +")
        await pilot.press("tab")  # the rotting deals' table: its cursor row
        await loaded(pilot)
        assert_selection_readable(seeded)


@pytest.mark.parametrize(
    ("environ", "sixteen"),
    [
        ({"TERM": "linux"}, True),
        ({"TERM": "xterm"}, True),
        ({"TERM": "screen"}, True),
        ({"TERM": "xterm-256color"}, False),
        ({"TERM": "xterm", "COLORTERM": "truecolor"}, False),
    ],
)
def test_which_terminals_get_sixteen_colours(environ: dict[str, str], sixteen: bool) -> None:
    if has_sixteen_colours is None:
        pytest.fail("no 16-colour theme")
    console = Console(force_terminal=True, _environ=environ)
    assert has_sixteen_colours(console) is sixteen
