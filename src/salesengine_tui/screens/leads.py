"""Sales > Leads: the inbox for rapid qualification.

Leads in the order to work them (never contacted first, newest first) as a virtual table that
opens as fast with 100,000 leads as with 100. `c` calls the lead under the cursor and, once
the call is logged, the cursor is on the next one; `v` converts, `a` assigns, `space` marks
several for either; `f` filters, `/` searches, `o` shows only mine.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Input, Static

from .. import leads, permissions, pipeline, profile
from ..context import AppContext
from ..db.engine import session_scope
from ..display import plural, safe_text
from ..errors import UserError
from ..widgets.leads_table import LeadsTable, header_line
from ..widgets.virtual_list import BlockRequest
from .base import SectionScreen
from .commands import PaletteCommand
from .customer import CustomerScreen
from .debounce import Debounce
from .keys import bindings
from .messages import LeadChoicesLoaded, LeadsChanged, LeadsLoaded
from .new_lead import NewLeadForm
from .picker import Picker
from .quick_call import CallResult, QuickCallScreen
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
    ("f", "filters", "Filter", "leads.filter", "Filter by source, owner, contact, due", True),
    ("o", "only_mine", "Mine", "leads.mine", "Only my leads (toggle)", True),
    ("escape", "clear", "Clear", "leads.clear", "Clear search, filters and marks", False),
]


class LeadsScreen(SectionScreen):
    SECTION = LEADS
    CSS_PATH = "leads.tcss"
    AUTO_FOCUS = "LeadsTable"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.view = leads.LeadQuery()
        self.total = 0
        self.sources: list[str] = []
        self.people: list[leads.Person] = []
        self.pipelines: list[pipeline.PipelineInfo] = []
        self._search_later = Debounce(self, lambda text: self._requery(text=text))

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="Search leads: name, phone or email", id="leads-search")
        yield Static(id="leads-header")
        yield LeadsTable(0, self._fetch, now=self.ctx.clock.now, tz=self.tz, id="leads")

    @property
    def table(self) -> LeadsTable:
        return self.query_one(LeadsTable)

    @on(LeadsTable.WidthChanged)
    def _paint_header(self, message: LeadsTable.WidthChanged) -> None:
        """Column titles laid out at exactly the width the rows are drawn at."""
        message.stop()
        self.query_one("#leads-header", Static).update(header_line(message.width))

    # --- loading ------------------------------------------------------------------------

    def reload(self, cursor: int | None = None) -> None:
        self._load(self.view, cursor)
        self._load_choices()

    @work(thread=True, exclusive=True, exit_on_error=False, group="leads-load")
    def _load(self, view: leads.LeadQuery, cursor: int | None) -> None:
        with self.session() as session:
            total = leads.lead_count(session, view)
        self.deliver(LeadsLoaded(total, view, cursor))

    @work(thread=True, exclusive=True, exit_on_error=False, group="leads-choices")
    def _load_choices(self) -> None:
        """What the pickers offer; apart from the count so the table never waits for it
        (lead sources group every customer)."""
        with self.session() as session:
            sources = leads.lead_sources(session)
            people = leads.assignable_users(session)
            pipelines = pipeline.list_pipelines(session)
        self.deliver(LeadChoicesLoaded(sources, people, pipelines))

    @on(LeadChoicesLoaded)
    def _choices(self, message: LeadChoicesLoaded) -> None:
        message.stop()
        self.sources, self.people, self.pipelines = (
            message.sources,
            message.people,
            message.pipelines,
        )
        self._title()

    def _fetch(self, request: BlockRequest[leads.LeadRow]) -> list[leads.LeadRow]:
        """Runs in the table's worker thread."""
        with self.session() as session:
            return leads.lead_page(
                session,
                self.view,
                offset=request.offset,
                limit=request.limit,
                from_end=request.from_end,
            )

    @on(LeadsLoaded)
    def _show(self, message: LeadsLoaded) -> None:
        message.stop()
        if message.view != self.view:
            return  # the view changed while this was loading; a newer load is on its way
        self.total = message.total
        self.table.reload(message.total, cursor=message.cursor)
        self._title()

    def _title(self) -> None:
        view, details = self.view, [plural(self.total, "lead")]
        if view.owner_id == self.ctx.actor.id:
            details.append("only mine")
        elif view.owner_id is not None:
            owner = next((p.name for p in self.people if p.id == view.owner_id), "someone")
            details.append(f"owner: {owner}")
        if view.source is not None:
            details.append(f"source: {view.source}")
        if view.not_contacted:
            details.append("not contacted")
        if view.due_before is not None:
            details.append("next step due")
        if view.text.strip():
            details.append(f"search: {view.text.strip()}")
        if self.table.marked:
            details.append(f"{len(self.table.marked)} marked")
        self.set_title_detail(*details)

    @on(LeadsTable.Selected)
    def _selected(self, message: LeadsTable.Selected) -> None:
        message.stop()

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
        if self.view != leads.LeadQuery():
            self.view = leads.LeadQuery()
            self.reload(cursor=0)
        else:
            self._title()

    def action_filters(self) -> None:
        view = self.view
        choices: list[tuple[Text, object]] = [
            (Text(("✓ " if view.not_contacted else "  ") + "Not contacted yet"), "not_contacted"),
            (Text(("✓ " if view.due_before else "  ") + "Next step due today"), "due"),
            (Text("  Any source"), ("source", None)),
        ]
        choices += [
            (
                Text.assemble("✓ " if view.source == s else "  ", "Source: ", safe_text(s)),
                ("source", s),
            )
            for s in self.sources
        ]
        choices += [(Text("  Any owner"), ("owner", None))]
        choices += [
            (
                Text.assemble(
                    "✓ " if view.owner_id == p.id else "  ", "Owner: ", safe_text(p.name)
                ),
                ("owner", p.id),
            )
            for p in self.people
        ]
        choices += [(Text("  Clear all filters"), "clear")]
        self.app.push_screen(Picker("Filter the leads", choices), self._filter_chosen)

    def _filter_chosen(self, choice: object) -> None:
        if choice is None:
            return
        if choice == "not_contacted":
            self._requery(not_contacted=not self.view.not_contacted)
        elif choice == "due":
            due = None if self.view.due_before else leads.end_of_day(self.ctx.clock.now(), self.tz)
            self._requery(due_before=due)
        elif choice == "clear":
            self.action_clear()
        elif isinstance(choice, tuple) and choice[0] == "source":
            self._requery(source=choice[1])
        elif isinstance(choice, tuple) and choice[0] == "owner":
            self._requery(owner_id=choice[1])

    # --- acting on leads ------------------------------------------------------------------

    def _targets(self) -> list[uuid.UUID]:
        """The marked leads, or the one under the cursor."""
        if self.table.marked:
            return list(self.table.marked)
        lead = self.table.current
        return [lead.id] if lead is not None else []

    def action_new_lead(self) -> None:
        def entered(values: dict[str, str | None] | None) -> None:
            if values is not None:
                self._check_new_lead(values)

        self.app.push_screen(NewLeadForm(self.sources), entered)

    @work(thread=True, exit_on_error=False, group="leads-write")
    def _check_new_lead(self, values: dict[str, str | None]) -> None:
        cleaned = profile.clean_contact(values)
        with self.session() as session:
            found = leads.possible_duplicates(
                session, email=cleaned.get("email"), phone=cleaned.get("phone")
            )
        if not found:
            self._save_new_lead(values)
            return
        self.app.call_from_thread(self._ask_about_duplicates, values, found)

    def _ask_about_duplicates(
        self, values: dict[str, str | None], found: list[leads.Duplicate]
    ) -> None:
        choices: list[tuple[Text, object]] = [
            (
                Text.assemble(
                    "Open ",
                    safe_text(d.name, style="bold"),
                    " (",
                    d.status.value,
                    ", ",
                    safe_text(d.email or d.phone),
                    ")",
                ),
                d.id,
            )
            for d in found
        ]
        choices.append((Text("Save as a new lead anyway"), "save"))
        title = f"{plural(len(found), 'customer')} with the same email or phone"

        def chosen(choice: object) -> None:
            if choice == "save":
                self._save_new_lead(values)
            elif isinstance(choice, uuid.UUID):
                self.app.push_screen(CustomerScreen(self.ctx, choice), lambda _: self.reload())

        self.app.push_screen(Picker(title, choices), chosen)

    @work(thread=True, exit_on_error=False, group="leads-write")
    def _save_new_lead(self, values: dict[str, str | None]) -> None:
        with session_scope(self.ctx.engine) as session:
            leads.create_lead(session, self.ctx.actor, values, now=self.ctx.clock.now())
        self.deliver(LeadsChanged(f"Added lead {values.get('name', '').strip()}", 0))

    def action_open(self) -> None:
        if (lead := self.table.current) is not None:
            self.app.push_screen(CustomerScreen(self.ctx, lead.id), lambda _: self.reload())

    def action_call(self) -> None:
        lead = self.table.current
        if lead is None:
            return
        screen = QuickCallScreen(lead, self.ctx.clock, self.tz)
        self.app.push_screen(screen, lambda result: self._called(lead, result))

    def _called(self, lead: leads.LeadRow, result: CallResult | None) -> None:
        if result is None:
            self.notify("Call not logged", timeout=2)
            return
        self._save_call(lead, result, self.table.cursor)

    @work(thread=True, exit_on_error=False, group="leads-write")
    def _save_call(self, lead: leads.LeadRow, result: CallResult, cursor: int) -> None:
        with session_scope(self.ctx.engine) as session:
            leads.log_call(
                session,
                self.ctx.actor,
                lead.id,
                outcome=result.outcome,
                notes=result.notes,
                next_step_at=result.next_step_at,
                now=self.ctx.clock.now(),
            )
        minutes, seconds = divmod(result.seconds, 60)
        outcome = leads.outcome_label(result.outcome)
        note = f"Logged: {outcome} call with {lead.name} ({minutes}:{seconds:02d})"
        # The called lead moves down the inbox: the same place now holds the next lead.
        self.deliver(LeadsChanged(note, cursor))

    def action_convert(self) -> None:
        ids = self._targets()
        if not ids:
            return
        label = plural(len(ids), "lead")
        choices: list[tuple[Text, object]] = [(Text(f"Convert {label} to customers"), "plain")]
        if len(ids) == 1:
            choices += [
                (Text.assemble("Convert and open an estimate in ", safe_text(p.name)), p.id)
                for p in self.pipelines
            ]
        picker = Picker(f"Convert {label}?", choices, "enter to convert · esc to cancel")

        def chosen(choice: object) -> None:
            if choice is not None:  # None: esc
                self._convert(ids, choice if isinstance(choice, uuid.UUID) else None)

        self.app.push_screen(picker, chosen)

    @work(thread=True, exit_on_error=False, group="leads-write")
    def _convert(self, ids: list[uuid.UUID], pipeline_id: uuid.UUID | None) -> None:
        estimate = (pipeline_id, "Replacement estimate", Decimal(0)) if pipeline_id else None
        with session_scope(self.ctx.engine) as session:
            done = leads.convert(
                session, self.ctx.actor, ids, now=self.ctx.clock.now(), open_estimate=estimate
            )
        note = f"Converted {plural(done.converted, 'lead')} to customers"
        if done.already:
            note += f"; {done.already:,} already were"
        if done.estimate_id:
            note += "; an estimate is open in the pipeline's first stage"
        self.deliver(LeadsChanged(note, None, clear_marks=True))

    def action_assign(self) -> None:
        ids = self._targets()
        if not ids:
            return
        if permissions.allowed(self.ctx.actor, permissions.Action.reassign):
            choices: list[tuple[Text, object]] = [(safe_text(p.name), p.id) for p in self.people]
            choices.append((Text("Nobody (unassign)"), "nobody"))
        else:  # a rep takes unassigned leads for themselves; the domain says why, if not
            choices = [(Text.assemble(safe_text(self.ctx.actor.name), " (me)"), self.ctx.actor.id)]
        title = f"Assign {plural(len(ids), 'lead')} to…"
        self.app.push_screen(
            Picker(title, choices),
            lambda owner: (
                owner is not None and self._assign(ids, None if owner == "nobody" else owner)
            ),
        )

    @work(thread=True, exit_on_error=False, group="leads-write")
    def _assign(self, ids: list[uuid.UUID], owner_id: uuid.UUID | None) -> None:
        try:
            with session_scope(self.ctx.engine) as session:
                changed = leads.assign(
                    session, self.ctx.actor, ids, owner_id, now=self.ctx.clock.now()
                )
        except UserError as error:  # e.g. a rep giving a lead to someone else
            self.app.call_from_thread(
                self.notify, str(error), title="Not assigned", severity="warning", markup=False
            )
            return
        self.deliver(LeadsChanged(f"Assigned {plural(changed, 'lead')}", None, clear_marks=True))

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
        yield from super().palette_commands()
        yield PaletteCommand("Call the lead", "Quick Call (c)", self.action_call)
        yield PaletteCommand(
            "Convert to customer", "The lead or the marked leads (v)", self.action_convert
        )
        yield PaletteCommand("Assign owner", "The lead or the marked leads (a)", self.action_assign)
        yield PaletteCommand(
            "Filter leads", "Source, owner, not contacted, due (f)", self.action_filters
        )
        yield PaletteCommand("Only my leads", "Toggle (o)", self.action_only_mine)
