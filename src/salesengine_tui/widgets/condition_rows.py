"""A segment as indented rows: the root heading ("Match ALL of"), then each condition and
each nested group's heading, depth first. The widget holds the tree it shows. ↑↓ or j/k move;
no type-ahead: the segment screen's letters are its own keys."""

from __future__ import annotations

from rich.text import Text
from textual.widgets.option_list import Option

from ..marketing import segment_tree, segments
from ..marketing.segment_tree import Group, Path, Row
from ..ui.display import visible
from .pick_list import PickList


class ConditionRows(PickList):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, type_ahead=False)
        self.root: Group = segment_tree.EMPTY

    def show(self, root: Group, focus: Path | None = None) -> None:
        """Show `root`, the cursor on `focus` (None: on the row at the cursor's place)."""
        self.root = root
        current = self.current
        keep = focus if focus is not None else (current.path if current else ())
        all_rows = segment_tree.rows(root)
        self.clear_options()
        self.add_options([Option(_label(row), id=_key(row.path)) for row in all_rows])
        paths = [row.path for row in all_rows]
        self.highlighted = paths.index(keep) if keep in paths else len(paths) - 1

    @property
    def current(self) -> Row | None:
        """The row under the cursor, read in the tree held now."""
        if self.highlighted is None or self.option_count == 0:
            return None
        all_rows = segment_tree.rows(self.root)
        index = self.highlighted
        return all_rows[index] if index < len(all_rows) else None


def _key(path: Path) -> str:
    return "row:" + ".".join(map(str, path))


def _label(row: Row) -> Text:
    # The indent is its own span: the option list trims leading spaces of plain text.
    indent = ("  " * row.depth, "dim")
    if isinstance(row.item, segments.Group):
        word = "ALL" if row.item.join == "and" else "ANY"
        what = "Match" if not row.path else "└ match"
        return Text.assemble(indent, (f"{what} {word} of", "bold"), end="")
    return Text.assemble(indent, ("• ", "dim"), visible(segments.to_text(row.item)), end="")
