"""Charts drawn with block characters: a table with bars, a funnel, a sparkline.

Each widget is one `render()` of a few lines of `Text` sized to the widget's width (redrawn on
resize), so it costs the same however large the numbers are; they show numbers, they never
read them from the database. Legible without colour: every bar has its number beside it as
text, and the shapes are made of characters (█ ▌ ▐ ▁...▇), not of background colours; colour
only adds emphasis (theme variables, so 16-colour terminals get the nearest ANSI colour).
Labels are data (stage and customer names): shown literally, never as markup, and measured in
terminal cells (a wide character takes two).

Textual's own `Sparkline` scales from the smallest value to the largest, so a week with $0
won looks like a week with a little; money needs a zero baseline, hence `Sparkline` here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from ..ui.display import visible

EIGHTHS = " ▏▎▍▌▋▊▉█"  # a bar's last cell, in eighths of a cell
LEVELS = "▁▂▃▄▅▆▇█"  # sparkline heights, in eighths of a line
ELLIPSIS = "…"


def hbar(fraction: float, width: int) -> str:
    """A left-aligned bar of `fraction` (0..1) of `width` cells, to an eighth of a cell; any
    value above zero shows at least a sliver."""
    if width <= 0 or not fraction > 0:
        return ""
    eighths = max(1, round(min(1.0, fraction) * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


def centered_bar(fraction: float, width: int) -> str:
    """A bar of `fraction` of `width` cells centred in them, to half a cell (▐ and ▌ at
    the ends), padded to `width`; above zero shows at least half a cell."""
    if width <= 0:
        return ""
    halves = 2 * width
    filled = 0 if not fraction > 0 else max(1, round(min(1.0, fraction) * halves))
    start = (halves - filled) // 2
    cells = []
    for i in range(width):
        left = start <= 2 * i < start + filled
        right = start <= 2 * i + 1 < start + filled
        cells.append("█" if left and right else "▌" if left else "▐" if right else " ")
    return "".join(cells)


ZERO_MARK = "·"  # a zero in a sparkline: not a bar (▁ would read as "a little")


def spark_columns(values: Sequence[float], height: int) -> list[str]:
    """One column per value, bottom line first: each a string of `height` characters scaled
    from zero to the largest value (zero or less: `ZERO_MARK`; above zero at least ▁)."""
    top = max((v for v in values if v > 0), default=0)
    columns = []
    for value in values:
        if value <= 0 or top <= 0:
            columns.append(ZERO_MARK + " " * (height - 1))
            continue
        eighths = max(1, math.ceil(value / top * height * 8))
        column = []
        for line in range(height):
            part = min(8, max(0, eighths - line * 8))
            column.append(LEVELS[part - 1] if part else " ")
        columns.append("".join(column))
    return columns


def fit(text: str, width: int) -> str:
    """`text` shown literally in exactly `width` cells: padded, or cut with an ellipsis."""
    shown = visible(text)
    if cell_len(shown) <= width:
        return set_cell_size(shown, width)
    return set_cell_size(shown, width - 1) + ELLIPSIS if width > 0 else ""


# --- shared drawing ----------------------------------------------------------------------------


class Chart(Widget):
    """A chart widget: `lines(width)` draws it; its height is the number of lines."""

    DEFAULT_CSS = """
    Chart {
        height: auto;
    }
    """

    def style_of(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def lines(self, width: int) -> list[Text]:
        raise NotImplementedError

    def line_count(self) -> int:
        raise NotImplementedError

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.line_count()

    def render(self) -> Text:
        width = self.content_region.width or self.size.width
        text = Text("\n", no_wrap=True, overflow="crop", end="").join(self.lines(width))
        text.no_wrap, text.overflow = True, "crop"
        return text


# --- a table with a bar column ----------------------------------------------------------------


@dataclass(frozen=True)
class BarRow:
    label: str  # data: shown literally
    cells: tuple[str, ...]  # numbers as text, right-aligned under the headings
    fraction: float | None  # the bar's length, 0..1 of the bar column (None: no bar)
    emphasis: str = ""  # "total" (bold) or "muted"


class BarTable(Chart):
    """Rows of a label, right-aligned numbers and a bar filling the rest of the width.

    The numbers carry the meaning; the bar is for the eye. Not focusable: it has no cursor.
    """

    COMPONENT_CLASSES = {"bar-table--heading", "bar-table--bar", "bar-table--muted"}
    DEFAULT_CSS = """
    BarTable {
        height: auto;
        & > .bar-table--heading { color: $text-muted; text-style: bold; }
        & > .bar-table--bar { color: $text-primary; }
        & > .bar-table--muted { color: $text-muted; }
    }
    """
    LABEL_MAX = 22
    BAR_MIN = 4

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.headings: tuple[str, ...] = ()
        self.rows: list[BarRow] = []

    def show(self, headings: Sequence[str], rows: Sequence[BarRow]) -> None:
        """`headings`: the label column's, then one per number column."""
        self.headings, self.rows = tuple(headings), list(rows)
        self.refresh(layout=True)

    def line_count(self) -> int:
        return len(self.rows) + (1 if self.rows and self.headings else 0)

    def lines(self, width: int) -> list[Text]:
        if not self.rows:
            return []
        numbers = len(self.headings) - 1
        widths = [
            max(len(self.headings[i + 1]), *(len(row.cells[i]) for row in self.rows))
            for i in range(numbers)
        ]
        label_width = min(
            self.LABEL_MAX,
            max(len(self.headings[0]), *(cell_len(visible(r.label)) for r in self.rows)),
        )
        numbers_width = sum(w + 2 for w in widths)
        bar_width = width - label_width - numbers_width - 2
        if bar_width < self.BAR_MIN:  # no room for bars: the numbers still fit
            bar_width = 0
            label_width = max(6, min(label_width, width - numbers_width))
        bar = self.style_of("bar-table--bar")
        heading = "".join("  " + h.rjust(w) for h, w in zip(self.headings[1:], widths, strict=True))
        lines = [
            Text(
                self.headings[0].ljust(label_width) + heading,
                style=self.style_of("bar-table--heading"),
                end="",
            )
        ]
        for row in self.rows:
            style = "bold" if row.emphasis == "total" else ""
            line = Text(fit(row.label, label_width), style=style, end="")
            line.append(
                "".join("  " + c.rjust(w) for c, w in zip(row.cells, widths, strict=True)), style
            )
            if bar_width and row.fraction is not None:
                line.append("  ")
                line.append(hbar(row.fraction, bar_width), bar)
            if row.emphasis == "muted":
                line.stylize(self.style_of("bar-table--muted"))
            lines.append(line)
        return lines


# --- a funnel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    label: str  # data: shown literally
    count: int
    number: str  # the count as text
    note: str = ""  # e.g. the share of the step above, "71%"


class Funnel(Chart):
    """One line a step: the label, a bar centred in its column (the funnel's shape), the
    number and a note (conversion from the step above)."""

    COMPONENT_CLASSES = {"funnel--bar", "funnel--last", "funnel--muted"}
    DEFAULT_CSS = """
    Funnel {
        height: auto;
        & > .funnel--bar { color: $text-primary; }
        & > .funnel--last { color: $text-success; text-style: bold; }
        & > .funnel--muted { color: $text-muted; }
    }
    """
    LABEL_MAX = 16

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: list[FunnelRow] = []

    def show(self, rows: Sequence[FunnelRow]) -> None:
        self.rows = list(rows)
        self.refresh(layout=True)

    def line_count(self) -> int:
        return len(self.rows)

    def lines(self, width: int) -> list[Text]:
        if not self.rows:
            return []
        label_width = min(self.LABEL_MAX, max(cell_len(visible(r.label)) for r in self.rows))
        number_width = max(len(r.number) for r in self.rows)
        note_width = max(len(r.note) for r in self.rows)
        bar_width = max(0, width - label_width - number_width - note_width - 3)
        top = max(r.count for r in self.rows) or 1
        bar, last, muted = (self.style_of(f"funnel--{n}") for n in ("bar", "last", "muted"))
        lines = []
        for index, row in enumerate(self.rows):
            is_last = index == len(self.rows) - 1
            line = Text(fit(row.label, label_width) + " ", end="")
            line.append(centered_bar(row.count / top, bar_width), last if is_last else bar)
            line.append(" " + row.number.rjust(number_width), "bold")
            line.append(" " + row.note.rjust(note_width), muted)
            lines.append(line)
        return lines


# --- a sparkline ------------------------------------------------------------------------------


class Sparkline(Chart):
    """Bars from a zero baseline, `HEIGHT` lines tall (eighths of a line each), one group of
    cells per value, with a caption line under them (e.g. the first and last dates)."""

    COMPONENT_CLASSES = {"sparkline--bar", "sparkline--last", "sparkline--axis"}
    DEFAULT_CSS = """
    Sparkline {
        height: auto;
        & > .sparkline--bar { color: $text-primary; }
        & > .sparkline--last { color: $text-success; }
        & > .sparkline--axis { color: $text-muted; }
    }
    """
    HEIGHT = 2

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.values: list[float] = []
        self.left_caption = ""
        self.right_caption = ""

    def show(self, values: Sequence[float], *, left: str = "", right: str = "") -> None:
        self.values, self.left_caption, self.right_caption = list(values), left, right
        self.refresh(layout=True)

    def line_count(self) -> int:
        return self.HEIGHT + 1 if self.values else 0

    def lines(self, width: int) -> list[Text]:
        if not self.values:
            return []
        n = len(self.values)
        # Each value gets `cell` cells and a one-cell gap, as wide as fits (at least one cell).
        cell = max(1, (width + 1) // n - 1)
        gap = 1 if (cell + 1) * n - 1 <= width else 0
        columns = spark_columns(self.values, self.HEIGHT)
        bar, last = self.style_of("sparkline--bar"), self.style_of("sparkline--last")
        axis = self.style_of("sparkline--axis")
        lines = []
        for level in reversed(range(self.HEIGHT)):
            line = Text(end="")
            for i, column in enumerate(columns):
                if i and gap:
                    line.append(" ")
                mark = column[level]
                if mark == ZERO_MARK:
                    line.append(mark.center(cell), axis)
                else:
                    line.append(mark * cell, last if i == n - 1 else bar)
            lines.append(line)
        drawn = n * cell + (n - 1) * gap
        left, right = self.left_caption, self.right_caption
        room = max(0, drawn - len(left) - len(right))
        lines.append(
            Text(left + " " * room + right, style=self.style_of("sparkline--axis"), end="")
        )
        return lines
