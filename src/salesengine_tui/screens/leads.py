"""Sales > Leads: the inbox for rapid qualification.

Leads in the order to work them (never contacted first, newest first) as a virtual table that
opens as fast with 100,000 leads as with 100. `c` calls the lead under the cursor and, once
the call is logged, the cursor is on the next one; `v` converts, `a` assigns, `space` marks
several for either; `f` filters, `/` searches, `o` shows only mine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Input, Static

from ..customers.leads import LeadQuery, LeadRow, Person
from ..db.models import CustomerStatus
from ..deals.pipelines import PipelineInfo
from ..usecases.context import AppContext
from ..widgets.leads_table import LeadsTable, header_line
from ..widgets.virtual_list import BlockRequest
from .base import SectionScreen
from .commands import PaletteCommand, key_of
from .debounce import Debounce
from .keys import bindings
from .lead_actions import LeadActions
from .lead_filters import CLEAR, STATUSES, filter_change, filter_choices, view_details
from .messages import LeadChoicesLoaded, LeadsChanged, LeadsLoaded
from .picker import Picker
from .sections import LEADS

# Bindings as data: (keys, action, description, id, tooltip, shown in the footer)
_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    ("up,k", "cursor(-1)", "Up", "leads.up", "Previous lead", False),
    ("down,j", "cursor(1)", "Down", "leads.down", "Next lead", False),
    ("g,home", "first", "First", "leads.first", "First lead", False),
    ("G,end", "last", "Last", "leads.last", "Last lead", False),
    ("pageup", "page(-1)", "Page up", "leads.page_up", "A screenful up", False),
    ("pagedown", "page(1)", "Page down", "leads.page_down", "A screenful down", False),
    ("enter", "open", "Open", "leads.open", "The lead's profile and timeline", True),
    ("n", "new_lead", "New", "leads.new", "Add a lead (possible duplicates are shown first)", True),
    ("c", "call", "Call", "leads.call", "Quick Call: log a call, then on to the next lead", True),
    (
        "v",
        "convert",
        "Convert",
        "leads.convert",
        "Make the lead (or marked leads) a customer",
        True,
    ),
    ("a", "assign", "Assign", "leads.assign", "Give the lead (or marked leads) an owner", True),
    ("space", "mark", "Mark", "leads.mark", "Mark or unmark the lead for bulk actions", True),
    ("slash", "search", "Search", "leads.search", "Search name, phone or email", True),
    (
        "f",
        "filters",
        "Filter",
        "leads.filter",
        "Show leads, active, churned or all customers; filter by source, owner, contact, due",
        True,
    ),
    ("o", "only_mine", "Mine", "leads.mine", "Only my leads (toggle)", True),
    ("escape", "clear", "Clear", "leads.clear", "Clear search, filters and marks", False),
]


class LeadsScreen(LeadActions, SectionScreen):
    """The inbox: layout, loading, the view (search, filters) and the keys; the actions on
    leads are `LeadActions`."""

    SECTION = LEADS
    CSS_PATH = "leads.tcss"
    AUTO_FOCUS = "LeadsTable"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.view = LeadQuery()
        self.total = 0
        self.sources: list[str] = []
        self.people: list[Person] = []
        self.pipelines: list[PipelineInfo] = []
        self._search_later = Debounce(self, lambda text: self._requery(text=text))

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="Search: name, phone or email", id="leads-search")
        yield Static(id="leads-header")
        yield LeadsTable(0, self._fetch, now=self.ctx.clock.now, tz=self.tz, id="leads")

    @property
    def table(self) -> LeadsTable:
        return self.query_one(LeadsTable)

    @on(LeadsTable.WidthChanged)
    def _paint_header(self, message: LeadsTable.WidthChanged) -> None:
        """Column titles laid out at exactly the width the rows are drawn at."""
        message.stop()
        header = header_line(message.width, status=message.status)
        self.query_one("#leads-header", Static).update(header)

    # --- loading ------------------------------------------------------------------------

    def reload(self, cursor: int | None = None) -> None:
        self._load(self.view, cursor)
        self._load_choices()

    @work(thread=True, exclusive=True, exit_on_error=False, group="leads-load")
    def _load(self, view: LeadQuery, cursor: int | None) -> None:
        self.deliver(LeadsLoaded(self.desk.leads.count(view), view, cursor))

    @work(thread=True, exclusive=True, exit_on_error=False, group="leads-choices")
    def _load_choices(self) -> None:
        """What the pickers offer; apart from the count so the table never waits for it
        (lead sources group every customer)."""
        choices = self.desk.leads.choices()
        self.deliver(LeadChoicesLoaded(choices.sources, choices.people, choices.pipelines))

    @on(LeadChoicesLoaded)
    def _choices(self, message: LeadChoicesLoaded) -> None:
        message.stop()
        self.sources, self.people, self.pipelines = (
            message.sources,
            message.people,
            message.pipelines,
        )
        self._title()

    def _fetch(self, request: BlockRequest[LeadRow]) -> list[LeadRow]:
        """Runs in the table's worker thread."""
        return self.desk.leads.page(
            self.view, offset=request.offset, limit=request.limit, from_end=request.from_end
        )

    @on(LeadsLoaded)
    def _show(self, message: LeadsLoaded) -> None:
        message.stop()
        if message.view != self.view:
            return  # the view changed while this was loading; a newer load is on its way
        self.total = message.total
        self.table.show_status = message.view.status is None  # everyone: say who is what
        self.table.reload(message.total, cursor=message.cursor)
        self._title()

    def _title(self) -> None:
        details = view_details(
            self.view,
            self.total,
            me=self.ctx.actor.id,
            people=self.people,
            marked=len(self.table.marked),
        )
        self.set_title_detail(*details)

    @on(LeadsTable.Selected)
    def _selected(self, message: LeadsTable.Selected) -> None:
        message.stop()

    @on(LeadsTable.Opened)
    def _double_clicked(self, message: LeadsTable.Opened) -> None:
        message.stop()
        self.action_open()

    # --- navigation ---------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self.table.move_by(delta)

    def action_page(self, direction: int) -> None:
        self.table.move_by(direction * self.table.page_items)

    def action_first(self) -> None:
        self.table.move_to(0)

    def action_last(self) -> None:
        self.table.move_to(self.table.count - 1)

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self.table.move_by(1)
        self._title()

    # --- the view -------------------------------------------------------------------------

    def _requery(self, **changes: object) -> None:
        self.view = replace(self.view, **changes)  # type: ignore[arg-type]
        self.reload(cursor=0)

    def action_search(self) -> None:
        field = self.query_one("#leads-search", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#leads-search")
    def _searched(self, event: Input.Changed) -> None:
        self._search_later(event.value)

    @on(Input.Submitted, "#leads-search")
    def _search_done(self, event: Input.Submitted) -> None:
        self._search_later.flush()
        if not event.value.strip():
            event.input.display = False
        self.table.focus()

    def action_only_mine(self) -> None:
        mine = None if self.view.owner_id == self.ctx.actor.id else self.ctx.actor.id
        self._requery(owner_id=mine)

    def action_clear(self) -> None:
        field = self.query_one("#leads-search", Input)
        field.display = False
        field.value = ""
        self.table.clear_marks()
        self.table.focus()
        if self.view != LeadQuery():
            self.view = LeadQuery()
            self.reload(cursor=0)
        else:
            self._title()

    def action_filters(self) -> None:
        choices = filter_choices(self.view, self.sources, self.people)
        self.app.push_screen(Picker("Filter the leads", choices), self._filter_chosen)

    def _show_status(self, status: CustomerStatus | None) -> None:
        if status != self.view.status:
            self._requery(status=status)

    def _filter_chosen(self, choice: object) -> None:
        if choice is None:
            return
        if choice == CLEAR:
            self.action_clear()
        elif changes := filter_change(self.view, choice, now=self.ctx.clock.now(), tz=self.tz):
            self._requery(**changes)

    # --- what the actions report ------------------------------------------------------------

    @on(LeadsChanged)
    def _changed(self, message: LeadsChanged) -> None:
        message.stop()
        self.notify(message.note, timeout=4, markup=False)
        if message.clear_marks:
            self.table.clear_marks()
        self.reload(cursor=message.cursor)

    # --- which keys apply now -----------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"call", "convert", "assign", "mark", "open"}:
            table = next(iter(self.query(LeadsTable)), None)
            return (table is not None and table.current is not None) or None
        return super().check_action(action, parameters)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        def keyed(title: str, help_: str, run: Callable[[], object], key_id: str) -> PaletteCommand:
            return PaletteCommand(title, help_, run, key_id=key_id, keys=key_of(_KEYS, key_id))

        marked = "The lead or the marked leads"
        yield from super().palette_commands()
        yield keyed("Call the lead", "Quick Call", self.action_call, "leads.call")
        yield keyed("Convert to customer", marked, self.action_convert, "leads.convert")
        yield keyed("Assign owner", marked, self.action_assign, "leads.assign")
        filters = "Status, source, owner, not contacted, due"
        yield keyed("Filter leads", filters, self.action_filters, "leads.filter")
        for status, title, _noun in STATUSES:
            show = partial(self._show_status, status)
            yield keyed(f"Show {title.lower()}", "The inbox's status filter", show, "leads.filter")
        yield keyed("Only my leads", "Toggle", self.action_only_mine, "leads.mine")
