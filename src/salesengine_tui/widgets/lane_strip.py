"""The row under the board's lanes when not all of them fit: every stage by name, the ones on
screen between bars, arrows where more are hidden.

`◀ New · Site Visit │ Proposal Sent · Negotiation │ Won · Lost`: what is off screen, and which
way. A name is a target too: a click shows that lane; while a card is dragged, the name under
the pointer is where it lands (a lane that is off screen), and an arrow shows the next lane
that way. Without colour: the shown lanes are bold between bars, a drop target reversed and
marked `▼`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len
from textual import events
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

LEFT, RIGHT = "◀ ", " ▶"
GAP, BAR = " · ", " │ "


@dataclass(frozen=True)
class StripLayout:
    """What the strip draws and where each part sits (cells from the left)."""

    content: Content
    names: list[tuple[int, int, int]] = field(default_factory=list)  # start, end, lane index
    arrows: list[tuple[int, int, int]] = field(default_factory=list)  # start, end, -1 or 1


def _short(name: str, most: int) -> str:
    return name if cell_len(name) <= most else Content(name).truncate(most, ellipsis=True).plain


def strip_layout(
    names: list[str], first: int, shown: int, width: int, *, drop: int | None = None
) -> StripLayout:
    """The strip for lanes `first`..`first + shown - 1` of `names` (made `visible`) shown,
    `drop` the lane a dragged card is over. Long names are cut (with "…") until the row
    fits; when even that does not fit, each side's hidden lanes are counted instead."""
    last = first + shown
    longest = max((cell_len(n) for n in names), default=0)
    room = width - (drop is not None)  # the drop marker takes a cell
    for most in range(longest, 3, -1):
        labels = [_short(n, most) for n in names]
        if _width(labels, first, last, counted=False) <= room:
            return _build(labels, first, last, drop, counted=False)
    labels = [_short(n, max(4, (width - 24) // max(1, shown) - 3)) for n in names]
    return _build(labels, first, last, drop, counted=True)


def _pieces(
    labels: list[str], first: int, last: int, counted: bool
) -> list[tuple[str, int | None]]:
    """The strip's text as pieces, each with the lane it names (None: a separator). The
    shown lanes sit between bars; `counted`: each side's hidden lanes are one "N more"."""
    count = len(labels)
    pieces: list[tuple[str, int | None]] = []
    if first == 0:
        pieces.append((BAR.lstrip(), None))
    elif counted:
        pieces += [(f"{first} more", first - 1), (BAR, None)]
    for index, label in enumerate(labels):
        if counted and not first <= index < last:
            continue
        if index > (first if counted else 0):  # a separator before all but the first
            pieces.append((BAR if index in (first, last) else GAP, None))
        pieces.append((label, index))
    if last >= count:
        pieces.append((BAR.rstrip(), None))
    elif counted:
        pieces += [(BAR, None), (f"{count - last} more", last)]
    return pieces


def _width(labels: list[str], first: int, last: int, *, counted: bool) -> int:
    body = sum(cell_len(text) for text, _ in _pieces(labels, first, last, counted))
    return body + cell_len(LEFT) + cell_len(RIGHT)


def _build(
    labels: list[str], first: int, last: int, drop: int | None, *, counted: bool
) -> StripLayout:
    parts: list[tuple[str, str]] = []
    names: list[tuple[int, int, int]] = []
    arrows: list[tuple[int, int, int]] = []
    x = 0

    def add(text: str, style: str = "") -> int:
        nonlocal x
        parts.append((text, style))
        x += cell_len(text)
        return x

    if first > 0:
        arrows.append((x, add(LEFT, "bold"), -1))
    else:
        add(" " * cell_len(LEFT))
    for text, index in _pieces(labels, first, last, counted):
        if index is None:
            add(text, "dim")
            continue
        shown = first <= index < last
        if index == drop:
            text, style = f"▼{text}", "bold reverse"
        else:
            style = "bold" if shown else ""
        start = x
        names.append((start, add(text, style), index))
    if last < len(labels):
        arrows.append((x, add(RIGHT, "bold"), 1))
    return StripLayout(Content.assemble(*parts), names, arrows)


class LaneStrip(Widget):
    """One row: the stages by name, which are on screen, arrows to the hidden ones."""

    ALLOW_SELECT = False
    DEFAULT_CSS = """
    LaneStrip {
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    @dataclass
    class Picked(Message):
        """A lane's name was clicked."""

        index: int

    @dataclass
    class Shift(Message):
        """An arrow was clicked: show the next lane that way."""

        delta: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names: list[str] = []
        self.first = 0
        self.shown = 0
        self.drop: int | None = None

    def show_window(self, names: list[str], first: int, shown: int) -> None:
        self.names, self.first, self.shown = names, first, shown
        self.refresh()

    def mark_drop(self, index: int | None) -> None:
        if index != self.drop:
            self.drop = index
            self.refresh()

    def layout_now(self) -> StripLayout:
        width = self.content_region.width or self.screen.size.width
        return strip_layout(self.names, self.first, self.shown, width, drop=self.drop)

    def render(self) -> Content:
        return self.layout_now().content

    def target_at(self, screen_x: int) -> tuple[str, int] | None:
        """What is drawn at `screen_x`: ("lane", index) or ("arrow", -1 / 1); None: nothing."""
        x = screen_x - self.content_region.x
        drawn = self.layout_now()
        for start, end, index in drawn.names:
            if start <= x < end:
                return "lane", index
        for start, end, delta in drawn.arrows:
            if start <= x < end:
                return "arrow", delta
        return None

    def on_click(self, event: events.Click) -> None:
        event.stop()
        hit = self.target_at(event.screen_x)
        if hit is None:
            return
        kind, value = hit
        self.post_message(self.Picked(value) if kind == "lane" else self.Shift(value))
