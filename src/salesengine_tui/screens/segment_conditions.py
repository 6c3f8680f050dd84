"""The Segments screen's keys on its condition rows: add a condition (a), add a group (g),
edit (e or enter), switch a group between ALL and ANY (o), delete (d). Each edit makes a new
tree and hands it to `changed`, which the screen defines (redraw, rewrite the text, recount)."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.widgets import OptionList

from ..marketing import segment_tree, segments
from ..marketing.segment_tree import Group, Path
from ..marketing.segments import Condition
from ..widgets.condition_rows import ConditionRows
from .base import SectionScreen
from .condition_form import ConditionForm


class ConditionActions(SectionScreen):
    @property
    def condition_rows(self) -> ConditionRows:
        return self.query_one("#segment-rows", ConditionRows)

    @property
    def definition(self) -> segments.Definition | None:
        return segment_tree.definition_of(self.condition_rows.root)

    def changed(self, root: Group, focus: Path | None = None) -> None:
        """The builder made `root`: show it with the cursor on `focus`, and count again."""
        raise NotImplementedError

    def _cursor_path(self) -> Path:
        row = self.condition_rows.current
        return row.path if row else ()

    def _add(self, title: str, put: Callable[[Group, Path, Condition], tuple[Group, Path]]) -> None:
        """Ask for a condition, then `put` it in the tree after the cursor's row."""
        at = self._cursor_path()

        def added(result: Condition | None) -> None:
            if result is not None:
                self.changed(*put(self.condition_rows.root, at, result))

        self.app.push_screen(ConditionForm(title), added)

    def action_add(self) -> None:
        self._add("Add a condition", segment_tree.insert)

    def action_add_group(self) -> None:
        self._add("Add a group: its first condition", segment_tree.new_group)

    @on(OptionList.OptionSelected, "#segment-rows")
    def _row_chosen(self) -> None:
        self.action_edit()

    def action_edit(self) -> None:
        row = self.condition_rows.current
        if row is None:
            return
        if row.is_group:
            self.action_toggle_join()
            return
        assert isinstance(row.item, Condition)

        def edited(result: Condition | None) -> None:
            if result is not None:
                root = segment_tree.replace(self.condition_rows.root, row.path, result)
                self.changed(root, row.path)

        self.app.push_screen(ConditionForm("Edit the condition", row.item), edited)

    def action_toggle_join(self) -> None:
        row = self.condition_rows.current
        if row is not None:
            self.changed(segment_tree.toggle_join(self.condition_rows.root, row.path), row.path)

    def action_delete(self) -> None:
        rows = self.condition_rows
        row = rows.current
        if row is None or (not row.path and not rows.root.items):
            return
        root = segment_tree.remove(rows.root, row.path)
        paths = [r.path for r in segment_tree.rows(root)]
        self.changed(root, row.path if row.path in paths else paths[-1])
