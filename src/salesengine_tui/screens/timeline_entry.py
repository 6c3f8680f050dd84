"""`enter` on a timeline entry: the whole of it (the list shows two lines of notes)."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ..activity.feed import ActivityItem
from ..ui.display import local_datetime, visible
from ..widgets.timeline_list import author, body, headline


class TimelineEntryScreen(ModalScreen[None]):
    CSS_PATH = "modal.tcss"
    DEFAULT_CSS = """
    #entry-what { text-style: bold; margin-bottom: 1; }
    """
    DEFAULT_CLASSES = "dialog"  # centred, the screen behind dimmed (modal.tcss)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close", id="entry.close"),
    ]

    def __init__(self, item: ActivityItem, tz: ZoneInfo) -> None:
        super().__init__()
        self.item = item
        self.tz = tz

    def compose(self) -> ComposeResult:
        item = self.item
        who = f" · {name}" if (name := author(item)) else ""
        with Vertical(classes="modal-box", id="entry-box"):
            yield Static(
                Content.assemble((local_datetime(item.at, self.tz), "bold"), visible(who)),
                classes="modal-title",
            )
            # What happened scrolls with the notes: a long deal title is never cut.
            with VerticalScroll(id="entry-body"):
                yield Static(Content(visible(headline(item))), id="entry-what")
                # Notes as typed: line breaks kept, everything else shown literally.
                text = "\n".join(visible(line) for line in body(item).splitlines())
                yield Static(Content(text or "(no notes)"), id="entry-notes")
            yield Static(Content("esc to close"), classes="modal-hint")
