"""Search that finds anything (`ctrl+f` from every section, or "Search..." in the palette):
customers by name, email or phone in any punctuation, deals by number or title, tickets by
number. The results follow the typing (a pause in it); `enter` opens the customer, the deal
or the ticket's customer, `esc` closes.

`open_search(app)` is the one way in: it pushes the screen and opens what was chosen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from ..customers.phones import phone_display
from ..search import LIMIT, Hit, Kind
from ..ui.display import money, safe_text, visible
from ..usecases import Desk
from .base import describe_error
from .debounce import Debounce

SEARCH_KEY = "ctrl+f"  # the app's binding, from every section
HINT = "name, email, phone · deal # or title · ticket # (T-1234)"
KIND_LABEL = {Kind.customer: "Customer", Kind.deal: "Deal", Kind.ticket: "Ticket"}
OPENS = {
    Kind.customer: "Open the customer's profile and timeline",
    Kind.deal: "Open the deal",
    Kind.ticket: "Open the ticket's customer",
}


def hit_detail(hit: Hit) -> list[str | None]:
    """What the line under a hit says (data: show it through `safe_text`)."""
    if hit.kind is Kind.customer:
        return [hit.state, phone_display(hit.phone, hit.phone_ext), hit.email]
    if hit.kind is Kind.deal:
        return [hit.customer_name, money(hit.amount), hit.state]
    return [hit.customer_name, hit.state]


def hit_text(hit: Hit, *, muted: str = "dim") -> Text:
    """A result as two lines: what it is and its name, then who and where it stands."""
    detail = Text(" · ", style=muted).join(
        safe_text(part, style=muted) for part in hit_detail(hit) if part
    )
    return Text.assemble(
        (f"{KIND_LABEL[hit.kind]:<9}", "bold"),
        safe_text(hit.label),
        "\n",
        " " * 9,
        detail,
    )


def hit_line(hit: Hit) -> Content:
    """A result on one line (the command palette): data as Content, never markup."""
    details = " · ".join(visible(part) for part in hit_detail(hit) if part)
    return Content.assemble(f"{KIND_LABEL[hit.kind]}: ", visible(hit.label), f"  ({details})")


def open_hit(app: App[object], desk: Desk, hit: Hit | None) -> None:
    """Open what a search found: the customer, the deal, or the ticket's customer."""
    if hit is None:
        return
    # Imported here: the search is open from every section, but these two screens (and all
    # they import) are not needed for the app's first paint.
    from .customer import CustomerScreen
    from .deal import DealScreen

    if hit.kind is Kind.deal:
        app.push_screen(DealScreen(desk.ctx, hit.id))
    else:
        app.push_screen(CustomerScreen(desk.ctx, hit.customer_id))


def open_search(app: App[object], text: str = "") -> None:
    """Push the search (with `text` typed already); what is chosen there is opened."""
    desk: Desk = app.desk  # type: ignore[attr-defined]
    app.push_screen(SearchScreen(desk, text), lambda hit: open_hit(app, desk, hit))


@dataclass
class SearchFound(Message):
    """A worker's hits for `text` (stale when the box says something else by then)."""

    text: str
    hits: list[Hit]


class SearchScreen(ModalScreen[Hit | None]):
    CSS_PATH = "search.tcss"
    AUTO_FOCUS = "#search-text"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Close", id="search.close"),
        Binding("down", "move(1)", "Next", show=False, id="search.down"),
        Binding("up", "move(-1)", "Previous", show=False, id="search.up"),
        Binding("enter", "open", "Open", id="search.open", tooltip="Open what is highlighted"),
    ]

    def __init__(self, desk: Desk, text: str = "") -> None:
        super().__init__()
        self.desk = desk
        self.initial = text
        self.hits: list[Hit] = []
        self.shown_for: str | None = None  # the text the list shows hits for
        self._open_when_found = False  # enter pressed before the list caught up
        self._search_later = Debounce(self, self._search)

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box", id="search-box"):
            yield Static(Content("Search"), classes="modal-title")
            yield Input(value=self.initial, placeholder=HINT, id="search-text", max_length=200)
            yield Static(Content(HINT), id="search-status")
            yield OptionList(id="search-results")
            yield Static(Content("enter open · ↑↓ choose · esc close"), classes="modal-hint")

    def on_mount(self) -> None:
        if self.initial.strip():
            self._search(self.initial)

    @property
    def results(self) -> OptionList:
        return self.query_one("#search-results", OptionList)

    # --- searching as one types ----------------------------------------------------------

    @on(Input.Changed, "#search-text")
    def _typed(self, event: Input.Changed) -> None:
        self._search_later(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="search")
    def _search(self, text: str) -> None:
        hits = self.desk.search.find(text)
        if not get_current_worker().is_cancelled:
            self.post_message(SearchFound(text, hits))

    @on(SearchFound)
    def _found(self, message: SearchFound) -> None:
        if message.text != self.query_one("#search-text", Input).value:
            return  # typed on since: a newer search is coming
        self.hits, self.shown_for = message.hits, message.text
        results = self.results
        results.clear_options()
        results.add_options(Option(hit_text(hit), id=str(i)) for i, hit in enumerate(self.hits))
        if self.hits:
            results.highlighted = 0
        self.query_one("#search-status", Static).update(self._status(message))
        if self._open_when_found:
            self._open_when_found = False
            self.action_open()

    def _status(self, message: SearchFound) -> Content:
        if not message.text.strip():
            return Content(HINT)
        if not message.hits:
            return Content.assemble("Nothing found for “", visible(message.text.strip()), "”")
        more = " (the best ones: type more to narrow)" if len(message.hits) >= LIMIT else ""
        return Content(f"{len(message.hits)} found{more}")

    @on(Worker.StateChanged)
    def _failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = describe_error(event.worker.error, self.desk.ctx)
            self.notify(error, title="Search failed", severity="error", markup=False)

    # --- choosing ----------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        results = self.results
        if results.option_count:
            current = results.highlighted if results.highlighted is not None else -1
            results.highlighted = max(0, min(results.option_count - 1, current + delta))

    def action_open(self) -> None:
        """Open what is highlighted; enter pressed while the list is a step behind the typing
        opens the best hit once it has caught up."""
        if self.shown_for != self.query_one("#search-text", Input).value:
            self._open_when_found = True
            self._search_later.flush()
            return
        index = self.results.highlighted
        if index is not None and self.hits:
            self.dismiss(self.hits[index])

    @on(Input.Submitted, "#search-text")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_open()

    @on(OptionList.OptionSelected, "#search-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.hits[event.option_index])
