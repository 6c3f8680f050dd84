"""The Segments screen's keys on saved segments: save (s), open (l), rename (n), copy (c) and
delete (x). The segment being edited may be a saved one (`saved`); its name heads the title."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from rich.text import Text
from textual import on, work
from textual.content import Content

from ..base.errors import UserError
from ..marketing import segment_tree, segments
from ..marketing.saved_segments import Saved
from ..ui.display import plural, safe_text, visible
from ..usecases.context import AppContext
from .messages import Notice, SavedSegmentsListed, SegmentSaved
from .picker import Picker
from .segment_conditions import ConditionActions
from .text_prompt import TextPrompt

DONE = {"save": "Saved", "rename": "Renamed to", "duplicate": "Saved a copy:"}


class SavedSegmentActions(ConditionActions):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.saved: Saved | None = None  # None: a new segment, not saved yet
        self.total: int | None = None  # how many match, once counted (for the title line)

    def name_detail(self) -> str:
        return self.saved.name if self.saved else "new segment (not saved)"

    def show_title(self) -> None:
        """The title line: the segment's name, and how many match once counted."""
        counted = [plural(self.total, "customer")] if self.total is not None else []
        self.set_title_detail(self.name_detail(), *counted)

    def need_definition(self) -> segments.Definition | None:
        definition = self.definition
        if definition is None:
            self.notify("Add a condition first (a, or t to type one)", severity="warning")
        return definition

    def _need_saved(self, refusal: str, doing: str | None = None) -> Saved | None:
        """The saved segment, if there is one and the user may do `doing` to it."""
        if self.saved is None:
            self.notify(refusal, severity="warning")
        elif doing and (refused := self.desk.segments.refusal(self.saved, doing)):
            self.notify(visible(refused), severity="warning", markup=False)
            return None
        return self.saved

    def action_save(self) -> None:
        definition = self.need_definition()
        if definition is None:
            return
        store = self.desk.segments.save
        if self.saved is not None and self.desk.segments.refusal(self.saved, "change"):
            # Someone else's: the changes are saved as a new segment instead.
            self.notify(
                f"“{visible(self.saved.name)}” is not yours to change: name your own copy",
                severity="warning",
                markup=False,
            )
        elif self.saved is not None:
            name = self.saved.name
            self._store("save", name, partial(store, name, definition, self.saved.id))
            return
        self.app.push_screen(
            TextPrompt("Save the segment as", placeholder="e.g. Old units, no service"),
            lambda name: (
                name is not None and self._store("save", name, partial(store, name, definition))
            ),
        )

    def action_rename(self) -> None:
        saved = self._need_saved("This segment is not saved yet: s saves it", "rename")
        if saved is None:
            return
        rename = self.desk.segments.rename
        self.app.push_screen(
            TextPrompt(
                Content.assemble("Rename ", (visible(saved.name), "bold")), value=saved.name
            ),
            lambda name: (
                name is not None and self._store("rename", name, partial(rename, saved.id, name))
            ),
        )

    def action_duplicate(self) -> None:
        saved = self._need_saved("This segment is not saved yet: s saves it")
        if saved is not None:
            self._store("duplicate", "", partial(self.desk.segments.duplicate, saved.id))

    def action_delete_saved(self) -> None:
        saved = self._need_saved("This segment is not saved", "delete")
        if saved is None:
            return
        choices = [(Text(f"Delete “{visible(saved.name)}”"), True), (Text("Keep it"), False)]
        delete = partial(self.desk.segments.delete, saved.id)

        def chosen(yes: bool | None) -> None:
            if yes:
                self._store("delete", saved.name, delete)

        self.app.push_screen(
            Picker[bool](f"Delete the saved segment “{visible(saved.name)}”?", choices), chosen
        )

    @work(thread=True, exit_on_error=False, group="segments-save")
    def _store(self, what: str, name: str, store: Callable[[], Saved | None]) -> None:
        try:
            result = store()
        except UserError as error:
            self.deliver(Notice(str(error), severity="error"))
            return
        self.deliver(SegmentSaved(what, result, name))

    @on(SegmentSaved)
    def _stored(self, message: SegmentSaved) -> None:
        message.stop()
        if message.saved is None:
            self.saved = None
            self.notify(f"Deleted “{visible(message.name)}”", markup=False)
        else:
            self.saved = message.saved
            self.notify(f"{DONE[message.what]} “{visible(message.saved.name)}”", markup=False)
        self.show_title()

    def action_open_saved(self) -> None:
        self._list_saved()

    @work(thread=True, exit_on_error=False, group="segments-list")
    def _list_saved(self) -> None:
        self.deliver(SavedSegmentsListed(self.desk.segments.list_saved()))

    @on(SavedSegmentsListed)
    def _pick_saved(self, message: SavedSegmentsListed) -> None:
        message.stop()
        if not message.found:
            self.notify("No saved segments yet: s saves this one", severity="warning")
            return
        choices = [
            (
                Text.assemble(
                    safe_text(s.name, "bold"),
                    "  ",
                    safe_text(s.text, "dim"),
                    no_wrap=True,
                    overflow="ellipsis",
                    end="",
                ),
                s,
            )
            for s in message.found
        ]

        def opened(chosen: Saved | None) -> None:
            if chosen is not None:
                self.saved = chosen
                self.changed(segment_tree.as_root(chosen.definition), ())

        self.app.push_screen(Picker("Open a saved segment", choices), opened)
