"""Marketing > Segments: describe a group of customers, see how many there are as you go, save
it, and send it an email blast.

Two views of one definition: the condition rows (edited with the keyboard) and the one-line
text form above them. Edit either and the other follows. Every change recounts in a worker;
a newer change cancels the older query on the server. With no conditions the screen shows
all customers by lead source, the usual place to start.
"""

from __future__ import annotations

from collections.abc import Iterator
from time import perf_counter
from typing import ClassVar

from rich.text import Text
from sqlalchemy.exc import DBAPIError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from .. import blasts, customers, permissions, saved_segments, segment_tree, segments
from ..db.cancel import QueryCanceller, was_cancelled
from ..db.engine import session_scope
from ..display import local_datetime, number, plural, safe_text
from ..errors import UserError
from ..widgets.safe_table import Column, SafeTable
from .base import SectionScreen
from .commands import PaletteCommand, from_keys
from .condition_form import ConditionForm
from .debounce import Debounce
from .keys import bindings
from .messages import SegmentCounted, SegmentSaved, SegmentsLoaded
from .picker import Picker
from .sections import SEGMENTS
from .text_prompt import TextPrompt

COLUMNS = [
    Column("source", "Lead source"),
    Column("leads", "Leads", numeric=True),
    Column("active", "Active", numeric=True),
    Column("churned", "Churned", numeric=True),
    Column("total", "Total", numeric=True),
]
BLAST_COLUMNS = [
    Column("when", "Sent"),
    Column("subject", "Subject", width=34),
    Column("segment", "Segment", width=28),
    Column("recipients", "To", numeric=True),
    Column("progress", "Sent / failed / waiting"),
]
PREVIEW_COLUMNS = [Column("name", "Name"), Column("email", "Email"), Column("status", "Status")]
TOTAL_KEY = "__total__"

_KEYS = [
    ("a", "add", "Add", "segments.add", "Add a condition after this row", True),
    ("g", "add_group", "Group", "segments.group", "Add a group (joined the other way)", True),
    ("e", "edit", "Edit", "segments.edit", "Edit this condition (on a heading: AND/OR)", False),
    ("o", "toggle_join", "And/Or", "segments.join", "Switch this group between ALL and ANY", True),
    ("d,delete", "delete", "Delete", "segments.delete", "Remove this condition or group", True),
    ("t", "edit_text", "Text", "segments.text", "Edit the segment as one line of text", True),
    ("s", "save", "Save", "segments.save", "Save (a new segment asks for a name)", True),
    ("l", "open_saved", "Open", "segments.open", "Open a saved segment", True),
    ("n", "rename", "Rename", "segments.rename", "Rename the saved segment", False),
    ("c", "duplicate", "Copy", "segments.copy", "Save a copy of the saved segment", False),
    ("x", "delete_saved", "Delete saved", "segments.remove", "Delete the saved segment", False),
    ("N", "clear", "New", "segments.new", "Start a new, empty segment", False),
    ("b", "blast", "Blast", "segments.blast", "Send these customers an email", True),
    ("escape", "leave_text", "Conditions", "segments.rows", "Back to the condition rows", False),
]


class SegmentsScreen(SectionScreen):
    SECTION = SEGMENTS
    CSS_PATH = "segments.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [*SectionScreen.BINDINGS, *bindings(_KEYS)]

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.root = segment_tree.EMPTY
        self.saved: saved_segments.Saved | None = None
        self.generation = 0
        self.total: int | None = None
        self.canceller = QueryCanceller()
        self.text_synced = ""  # what the builder last wrote into the text box
        self.parse_later = Debounce(self, self._text_typed)

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="segment-text-row"):
            yield Static(Content("Segment "), id="segment-text-label")
            yield Input(
                placeholder="e.g. equipment.age > 10 and last_service > 6mo  (t to type here)",
                id="segment-text",
                max_length=2000,
                select_on_focus=False,
            )
        yield Static(id="segment-error")
        with Horizontal(id="segment-main"):
            with Vertical(id="segment-builder"):
                yield Static(Content("Conditions"), classes="segment-heading")
                yield OptionList(id="segment-rows")
            with Vertical(id="segment-results"):
                yield Static(id="segment-count")
                yield SafeTable(PREVIEW_COLUMNS, id="segment-preview")
                yield SafeTable(COLUMNS, id="sources")
                yield Static(id="sources-note")
                yield Static(Content("Recent email blasts"), id="blasts-title")
                yield SafeTable(BLAST_COLUMNS, id="blasts")

    def on_mount(self) -> None:
        # (the base class's on_mount runs too, and loads)
        self.show_rows()
        self.query_one("#segment-rows", OptionList).focus()

    def reload(self) -> None:
        self.recount()

    # --- the two views ------------------------------------------------------------------------

    @property
    def definition(self) -> segments.Definition | None:
        return segment_tree.definition_of(self.root)

    def show_rows(self, focus: segment_tree.Path | None = None) -> None:
        rows_list = self.query_one("#segment-rows", OptionList)
        current = self.current_row()
        keep = focus if focus is not None else (current.path if current else ())
        all_rows = segment_tree.rows(self.root)
        rows_list.clear_options()
        rows_list.add_options([Option(_row_label(row), id=_key(row.path)) for row in all_rows])
        paths = [row.path for row in all_rows]
        rows_list.highlighted = paths.index(keep) if keep in paths else len(paths) - 1

    def current_row(self) -> segment_tree.Row | None:
        rows_list = self.query_one("#segment-rows", OptionList)
        if rows_list.highlighted is None or rows_list.option_count == 0:
            return None
        all_rows = segment_tree.rows(self.root)
        index = rows_list.highlighted
        return all_rows[index] if index < len(all_rows) else None

    def changed(self, focus: segment_tree.Path | None = None) -> None:
        """The builder changed: redraw the rows, write the text form, count again."""
        self.show_rows(focus)
        definition = self.definition
        self.text_synced = segments.to_text(definition) if definition else ""
        text_box = self.query_one("#segment-text", Input)
        if text_box.value != self.text_synced:
            text_box.value = self.text_synced
        self.query_one("#segment-error", Static).update("")
        self.recount()

    @on(Input.Changed, "#segment-text")
    def _text_changed(self, event: Input.Changed) -> None:
        if event.value != self.text_synced:
            self.parse_later(event.value)

    @on(Input.Submitted, "#segment-text")
    def _text_entered(self) -> None:
        self.action_leave_text()

    def _text_typed(self, value: str) -> None:
        error_line = self.query_one("#segment-error", Static)
        if not value.strip():
            self.root = segment_tree.EMPTY
            self.text_synced = ""
            self.show_rows(())
            error_line.update("")
            self.recount()
            return
        try:
            parsed = segments.parse(value)
        except segments.SegmentError as error:
            # Under the text box, at the place: the builder keeps the last good segment.
            # No-break spaces: a wrapped line's leading spaces would be trimmed away.
            caret = "\u00a0" * (len("Segment ") + 1 + error.position) + "^\n"
            error_line.update(Content.assemble((caret, "bold"), (str(error), "bold $text-error")))
            return
        error_line.update("")
        self.text_synced = value
        self.root = segment_tree.as_root(parsed)
        self.show_rows()
        self.recount()

    # --- counting -------------------------------------------------------------------------------

    def recount(self) -> None:
        self.generation += 1
        self.canceller.cancel()  # the older count is moot: stop it on the server
        definition = self.definition
        empty = definition is None
        self.query_one("#segment-preview", SafeTable).display = not empty
        self.query_one("#sources", SafeTable).display = empty
        self.query_one("#sources-note", Static).display = empty
        self.query_one("#blasts-title", Static).display = empty
        self.query_one("#blasts", SafeTable).display = empty
        if empty:
            self.total = None
            self.query_one("#segment-count", Static).update(
                Content("All customers, by lead source")
            )
            self.set_title_detail(self._name_detail())
            self.set_loading(True)
            self._load_sources()
            return
        self.query_one("#segment-count", Static).update(Content("counting…"))
        self._count(self.generation, definition)

    @work(thread=True, exclusive=True, exit_on_error=False, group="segment-count")
    def _count(self, generation: int, definition: segments.Definition) -> None:
        started = perf_counter()
        try:
            with self.canceller.session(self.ctx.engine) as session:
                now = self.ctx.clock.now()
                total = segments.count(session, definition, now=now)
                members = segments.preview(session, definition, now=now)
        except DBAPIError as error:
            if was_cancelled(error):
                return  # a newer edit took over
            raise
        elapsed = perf_counter() - started
        self.deliver(SegmentCounted(generation, total, members, elapsed))

    @on(SegmentCounted)
    def _counted(self, message: SegmentCounted) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.total = message.total
        shown = len(message.members)
        more = f" · first {shown} shown" if message.total > shown else ""
        count_line = self.query_one("#segment-count", Static)
        count_line.update(
            Content.assemble((f"{plural(message.total, 'customer')} match", "bold"), (more, "dim"))
        )
        count_line.tooltip = f"counted in {message.elapsed * 1000:,.0f} ms"
        rows = [
            (str(m.id), [safe_text(m.name), safe_text(m.email, empty="—"), m.status])
            for m in message.members
        ]
        preview = self.query_one("#segment-preview", SafeTable)
        # Widths fixed from the data: a table shown after being hidden can otherwise draw its
        # header with widths from before the rows came.
        preview.clear(columns=True)
        preview.set_columns(_fitted(PREVIEW_COLUMNS, [cells for _, cells in rows]))
        preview.replace_rows(rows)
        self.set_title_detail(self._name_detail(), plural(message.total, "customer"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="segments-load")
    def _load_sources(self) -> None:
        with self.session() as session:
            breakdown = customers.status_source_breakdown(session)
            sent = blasts.recent(session, limit=8)
        self.deliver(SegmentsLoaded(breakdown=breakdown, blasts=sent))

    @on(SegmentsLoaded)
    def _show_sources(self, message: SegmentsLoaded) -> None:
        message.stop()
        breakdown = message.breakdown
        rows = [(f"source:{i}", _cells(s)) for i, s in enumerate(breakdown.sources)]
        rows.append((TOTAL_KEY, _cells(breakdown.all_customers, label="All customers")))
        sources = self.query_one("#sources", SafeTable)
        sources.replace_rows(rows)
        sources.refresh(layout=True)  # see _counted
        self.query_one("#blasts-title", Static).display = bool(message.blasts)
        self.query_one("#blasts", SafeTable).display = bool(message.blasts)
        self.query_one("#blasts", SafeTable).replace_rows(
            (str(b.id), _blast_cells(b, self.tz)) for b in message.blasts
        )
        self.set_loading(False)
        if self.definition is None:
            self.set_title_detail(
                self._name_detail(),
                f"{plural(breakdown.all_customers.total, 'customer')} by lead source",
            )
        note = ""
        if breakdown.more_sources:
            note = f"{number(breakdown.more_sources)} smaller sources not listed (in the total)"
        self.query_one("#sources-note", Static).update(Content(note))

    def _name_detail(self) -> str:
        return self.saved.name if self.saved else "new segment (not saved)"

    # --- editing the rows ---------------------------------------------------------------------

    def action_add(self) -> None:
        row = self.current_row()
        at = row.path if row else ()

        def added(result: segments.Condition | None) -> None:
            if result is not None:
                self.root, path = segment_tree.insert(self.root, at, result)
                self.changed(path)

        self.app.push_screen(ConditionForm("Add a condition"), added)

    def action_add_group(self) -> None:
        row = self.current_row()
        at = row.path if row else ()

        def added(result: segments.Condition | None) -> None:
            if result is not None:
                self.root, path = segment_tree.new_group(self.root, at, result)
                self.changed(path)

        self.app.push_screen(ConditionForm("Add a group: its first condition"), added)

    @on(OptionList.OptionSelected, "#segment-rows")
    def _row_chosen(self) -> None:
        self.action_edit()

    def action_edit(self) -> None:
        row = self.current_row()
        if row is None:
            return
        if row.is_group:
            self.action_toggle_join()
            return
        assert isinstance(row.item, segments.Condition)

        def edited(result: segments.Condition | None) -> None:
            if result is not None:
                self.root = segment_tree.replace(self.root, row.path, result)
                self.changed(row.path)

        self.app.push_screen(ConditionForm("Edit the condition", row.item), edited)

    def action_toggle_join(self) -> None:
        row = self.current_row()
        if row is not None:
            self.root = segment_tree.toggle_join(self.root, row.path)
            self.changed(row.path)

    def action_delete(self) -> None:
        row = self.current_row()
        if row is None or (not row.path and not self.root.items):
            return
        self.root = segment_tree.remove(self.root, row.path)
        paths = [r.path for r in segment_tree.rows(self.root)]
        self.changed(row.path if row.path in paths else paths[-1])

    def action_edit_text(self) -> None:
        box = self.query_one("#segment-text", Input)
        box.focus()
        box.cursor_position = len(box.value)

    def action_leave_text(self) -> None:
        self.parse_later.flush()
        self.query_one("#segment-text", Input).cursor_position = 0  # show it from the start
        self.query_one("#segment-rows", OptionList).focus()

    def action_clear(self) -> None:
        self.saved = None
        self.root = segment_tree.EMPTY
        self.changed(())

    # --- saved segments -------------------------------------------------------------------------

    def _need_definition(self) -> segments.Definition | None:
        definition = self.definition
        if definition is None:
            self.notify("Add a condition first (a, or t to type one)", severity="warning")
        return definition

    def action_save(self) -> None:
        definition = self._need_definition()
        if definition is None:
            return
        if self.saved is not None:
            self._store("save", self.saved.name, definition, self.saved.id)
            return
        self.app.push_screen(
            TextPrompt("Save the segment as", placeholder="e.g. Old units, no service"),
            lambda name: name is not None and self._store("save", name, definition, None),
        )

    def action_rename(self) -> None:
        if self.saved is None:
            self.notify("This segment is not saved yet: s saves it", severity="warning")
            return
        saved = self.saved
        self.app.push_screen(
            TextPrompt(Content.assemble("Rename ", (saved.name, "bold")), value=saved.name),
            lambda name: name is not None and self._store("rename", name, None, saved.id),
        )

    def action_duplicate(self) -> None:
        if self.saved is None:
            self.notify("This segment is not saved yet: s saves it", severity="warning")
            return
        self._store("duplicate", "", None, self.saved.id)

    def action_delete_saved(self) -> None:
        if self.saved is None:
            self.notify("This segment is not saved", severity="warning")
            return
        saved = self.saved
        choices = [(Text(f"Delete “{saved.name}”"), True), (Text("Keep it"), False)]

        def chosen(yes: bool | None) -> None:
            if yes:
                self._store("delete", saved.name, None, saved.id)

        self.app.push_screen(
            Picker[bool](f"Delete the saved segment “{saved.name}”?", choices), chosen
        )

    @work(thread=True, exit_on_error=False, group="segments-save")
    def _store(self, what: str, name: str, definition, segment_id) -> None:
        now, actor = self.ctx.clock.now(), self.ctx.actor
        try:
            with session_scope(self.ctx.engine) as session:
                if what == "save":
                    result = saved_segments.save(
                        session, name, definition, actor=actor, now=now, segment_id=segment_id
                    )
                elif what == "rename":
                    result = saved_segments.rename(session, segment_id, name, now=now)
                elif what == "duplicate":
                    result = saved_segments.duplicate(session, segment_id, actor=actor, now=now)
                else:
                    saved_segments.delete(session, segment_id)
                    result = None
        except UserError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", markup=False)
            return
        self.deliver(SegmentSaved(what, result, name))

    @on(SegmentSaved)
    def _stored(self, message: SegmentSaved) -> None:
        message.stop()
        done = {"save": "Saved", "rename": "Renamed to", "duplicate": "Saved a copy:"}
        if message.saved is None:
            self.saved = None
            self.notify(f"Deleted “{message.name}”", markup=False)
        else:
            self.saved = message.saved
            self.notify(f"{done[message.what]} “{message.saved.name}”", markup=False)
        self.set_title_detail(
            self._name_detail(),
            *([plural(self.total, "customer")] if self.total is not None else []),
        )

    def action_open_saved(self) -> None:
        self._list_saved()

    @work(thread=True, exit_on_error=False, group="segments-list")
    def _list_saved(self) -> None:
        with self.session() as session:
            found = saved_segments.list_saved(session)
        self.app.call_from_thread(self._pick_saved, found)

    def _pick_saved(self, found: list[saved_segments.Saved]) -> None:
        if not found:
            self.notify("No saved segments yet: s saves this one", severity="warning")
            return
        choices = [
            (Text.assemble((s.name, "bold"), "  ", (s.text, "dim"), no_wrap=True, end=""), s)
            for s in found
        ]

        def opened(chosen: saved_segments.Saved | None) -> None:
            if chosen is not None:
                self.saved = chosen
                self.root = segment_tree.as_root(chosen.definition)
                self.changed(())

        self.app.push_screen(Picker("Open a saved segment", choices), opened)

    # --- blast -----------------------------------------------------------------------------------

    def action_blast(self) -> None:
        definition = self._need_definition()
        if definition is None:
            return
        if refused := permissions.refusal(self.ctx.actor, permissions.Action.send_blast):
            self.notify(refused, severity="warning", markup=False)
            return
        from .blast import BlastScreen

        self.app.push_screen(BlastScreen(self.ctx, definition, self.saved))

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from super().palette_commands()
        yield from from_keys(self.run_action, _KEYS, skip=("leave_text",))


def _fitted(columns: list[Column], rows: list[list[object]], most: int = 32) -> list[Column]:
    """Each column as wide as its widest cell or label, up to `most` (longer cells are cut)."""
    widths = [len(c.label) for c in columns]
    for cells in rows:
        for i, cell in enumerate(cells):
            widths[i] = max(widths[i], Text(str(cell)).cell_len)
    return [c._replace(width=min(w, most)) for c, w in zip(columns, widths, strict=True)]


def _key(path: segment_tree.Path) -> str:
    return "row:" + ".".join(map(str, path))


def _row_label(row: segment_tree.Row) -> Text:
    # The indent is its own span: the option list trims leading spaces of plain text.
    indent = ("  " * row.depth, "dim")
    if isinstance(row.item, segments.Group):
        word = "ALL" if row.item.join == "and" else "ANY"
        what = "Match" if not row.path else "└ match"
        return Text.assemble(indent, (f"{what} {word} of", "bold"), end="")
    return Text.assemble(indent, ("• ", "dim"), segments.to_text(row.item), end="")


def _blast_cells(b: blasts.BlastSummary, tz) -> list[object]:
    p = b.progress
    waiting = p.queued + p.sending
    return [
        safe_text(local_datetime(b.created_at, tz)),
        safe_text(b.subject),
        safe_text(b.segment),
        safe_text(number(b.recipients), justify="right"),
        safe_text(f"{number(p.sent)} / {number(p.failed + p.suppressed)} / {number(waiting)}"),
    ]


def _cells(counts: customers.SourceCounts, *, label: str | None = None) -> list[object]:
    style = "bold" if label else ""
    name = (
        safe_text(label, style="bold")
        if label
        else safe_text(counts.lead_source, empty="(no source)")
    )
    return [
        name,
        *(
            safe_text(number(n), style=style, justify="right")
            for n in (counts.leads, counts.active, counts.churned, counts.total)
        ),
    ]
