"""Marketing > Segments: describe a group of customers, see how many there are as you go, save
it, and send it an email blast.

Two views of one definition: the condition rows (edited with the keyboard) and the one-line
text form above them. Edit either and the other follows. Every change recounts in a worker;
a newer change cancels the older query on the server. With no conditions the screen shows
all customers by lead source, the usual place to start.

The keys on the rows live in `ConditionActions`, those on saved segments in
`SavedSegmentActions`; this class lays the screen out, keeps the views in step and counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from time import perf_counter
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Static

from ..marketing import segment_tree, segments
from ..marketing.segment_tree import Group, Path
from ..ui.display import editable, plural, visible
from ..usecases.context import AppContext
from ..usecases.segments import LiveCount
from ..widgets.condition_rows import ConditionRows
from ..widgets.segment_results import SegmentResults
from .base import describe_error
from .blast import BlastScreen
from .commands import PaletteCommand, from_keys
from .debounce import Debounce
from .keys import bindings
from .messages import SegmentCounted, SegmentCountFailed, SegmentsLoaded
from .saved_segment_actions import SavedSegmentActions
from .sections import SEGMENTS

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


class SegmentsScreen(SavedSegmentActions):
    SECTION = SEGMENTS
    CSS_PATH = "segments.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [*SavedSegmentActions.BINDINGS, *bindings(_KEYS)]

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.generation = 0  # one per edit: a count for an older edit is dropped
        self._live_count: LiveCount | None = None
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
                yield ConditionRows(id="segment-rows")
            yield SegmentResults(id="segment-results")

    def on_mount(self) -> None:
        # (the base class's on_mount runs too, and loads)
        self.condition_rows.show(segment_tree.EMPTY)
        self.condition_rows.focus()

    def reload(self) -> None:
        self.recount()

    # --- the two views ------------------------------------------------------------------------

    def changed(self, root: Group, focus: Path | None = None) -> None:
        self.condition_rows.show(root, focus)
        definition = self.definition
        # The text box is editable: hidden characters from data are left out of it (not stand-ins
        # that would be parsed back as part of a value).
        self.text_synced = editable(segments.to_text(definition)) if definition else ""
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
            self.text_synced = ""
            self.condition_rows.show(segment_tree.EMPTY, ())
            error_line.update("")
            self.recount()
            return
        try:
            parsed = segments.parse(value)
        except segments.SegmentError as error:
            # Under the text box, at the place: the builder keeps the last good segment.
            # No-break spaces: a wrapped line's leading spaces would be trimmed away.
            caret = "\u00a0" * (len("Segment ") + 1 + error.position) + "^\n"
            shown = visible(str(error))
            error_line.update(Content.assemble((caret, "bold"), (shown, "bold $text-error")))
            return
        error_line.update("")
        self.text_synced = value
        self.condition_rows.show(segment_tree.as_root(parsed))
        self.recount()

    def action_edit_text(self) -> None:
        box = self.query_one("#segment-text", Input)
        box.focus()
        box.cursor_position = len(box.value)

    def action_leave_text(self) -> None:
        self.parse_later.flush()
        self.query_one("#segment-text", Input).cursor_position = 0  # show it from the start
        self.condition_rows.focus()

    def action_clear(self) -> None:
        self.saved = None
        self.changed(segment_tree.EMPTY, ())

    # --- counting -------------------------------------------------------------------------------

    @property
    def results(self) -> SegmentResults:
        return self.query_one(SegmentResults)

    @property
    def live_count(self) -> LiveCount:
        if self._live_count is None:
            self._live_count = self.desk.segments.live_count()
        return self._live_count

    def recount(self) -> None:
        self.generation += 1
        self.live_count.cancel()  # the older count is moot: stop it on the server
        definition = self.definition
        self.results.show_home(definition is None)
        if definition is None:
            self.total = None
            self.show_title()
            self.set_loading(True)
            self._load_sources()
            return
        self._count(self.generation, definition)

    @work(thread=True, exclusive=True, exit_on_error=False, group="segment-count")
    def _count(self, generation: int, definition: segments.Definition) -> None:
        started = perf_counter()
        try:
            counted = self.live_count.count(definition)
        except Exception as error:  # shown in place of the count: no stale figures stay up
            self.log.error("segment count failed", error)
            self.deliver(SegmentCountFailed(generation, describe_error(error, self.ctx)))
            return
        if counted is None:
            return  # a newer edit took over
        elapsed = perf_counter() - started
        self.deliver(SegmentCounted(generation, counted.total, counted.members, elapsed))

    @on(SegmentCounted)
    def _counted(self, message: SegmentCounted) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.total = message.total
        self.results.show_count(message.total, message.members, message.elapsed)
        self.show_title()

    @on(SegmentCountFailed)
    def _count_failed(self, message: SegmentCountFailed) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.total = None
        self.results.show_failed(message.error)
        self.show_title()

    @work(thread=True, exclusive=True, exit_on_error=False, group="segments-load")
    def _load_sources(self) -> None:
        breakdown = self.desk.segments.by_source()
        sent = self.desk.blasts.recent(limit=8)
        self.deliver(SegmentsLoaded(breakdown=breakdown, blasts=sent))

    @on(SegmentsLoaded)
    def _show_sources(self, message: SegmentsLoaded) -> None:
        message.stop()
        self.results.show_sources(message.breakdown, message.blasts, self.tz)
        self.set_loading(False)
        if self.definition is None:
            everyone = plural(message.breakdown.all_customers.total, "customer")
            self.set_title_detail(self.name_detail(), f"{everyone} by lead source")

    # --- blast -----------------------------------------------------------------------------------

    def action_blast(self) -> None:
        definition = self.need_definition()
        if definition is None:
            return
        if refused := self.desk.blasts.refusal():
            self.notify(refused, severity="warning", markup=False)
            return
        self.app.push_screen(BlastScreen(self.ctx, definition, self.saved))

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from super().palette_commands()
        yield from from_keys(self.run_action, _KEYS, skip=("leave_text",))
