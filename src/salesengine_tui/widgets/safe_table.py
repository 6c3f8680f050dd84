"""A DataTable that never reads its cells as markup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar, NamedTuple

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from ..ui.display import safe_text


class Column(NamedTuple):
    key: str
    label: str
    width: int | None = None  # None: as wide as the widest cell; else longer cells are cut
    numeric: bool = False  # right-aligned heading, to sit over right-aligned numbers


def _safe(cell: object) -> object:
    # DataTable parses a plain `str` cell as markup: a name like "[@click=app.quit]x" would
    # become a live action. Text objects are shown as they are.
    return safe_text(cell) if isinstance(cell, str) else cell


class SafeTable(DataTable[object], inherit_bindings=False):
    """Row-cursor table whose `str` cells are shown literally (see `display.safe_text`).

    DataTable's keys with ids (for the user's keymap) and `j`/`k` as in every list. The mouse is
    DataTable's: a click puts the cursor on a row, a click on the cursor's row (the second of a
    double-click) is `enter` on it, the wheel scrolls."""

    BINDING_GROUP_TITLE = "table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter", "select_cursor", "Open", id="table.open", tooltip="Open the row", show=False
        ),
        Binding("up,k", "cursor_up", "Up", id="table.up", tooltip="Previous row", show=False),
        Binding("down,j", "cursor_down", "Down", id="table.down", tooltip="Next row", show=False),
        Binding(
            "left", "cursor_left", "Left", id="table.left", tooltip="Previous column", show=False
        ),
        Binding(
            "right", "cursor_right", "Right", id="table.right", tooltip="Next column", show=False
        ),
        Binding(
            "pageup", "page_up", "Page up", id="table.page_up", tooltip="A screenful up", show=False
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            id="table.page_down",
            tooltip="A screenful down",
            show=False,
        ),
        Binding(
            "home,ctrl+home",
            "scroll_top",
            "First",
            id="table.first",
            tooltip="First row",
            show=False,
        ),
        Binding(
            "end,ctrl+end", "scroll_bottom", "Last", id="table.last", tooltip="Last row", show=False
        ),
    ]
    DEFAULT_CSS = """
    SafeTable {
        height: 1fr;
    }
    """

    def __init__(
        self, columns: Sequence[Column] = (), *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._initial_columns = tuple(columns)

    def on_mount(self) -> None:
        self.set_columns(self._initial_columns)

    def add_row(
        self,
        *cells: object,
        height: int | None = 1,
        key: str | None = None,
        label: str | Text | None = None,
    ) -> RowKey:
        return super().add_row(
            *(_safe(cell) for cell in cells),
            height=height,
            key=key,
            label=safe_text(label) if isinstance(label, str) else label,
        )

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: object,
        *,
        update_width: bool = False,
    ) -> None:
        super().update_cell(row_key, column_key, _safe(value), update_width=update_width)

    def update_cell_at(
        self, coordinate: Coordinate, value: object, *, update_width: bool = False
    ) -> None:
        super().update_cell_at(coordinate, _safe(value), update_width=update_width)

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Add the columns once (labels are ours, not data)."""
        if not self.columns:
            for column in columns:
                justify = "right" if column.numeric else "left"
                label = Text(column.label, justify=justify)
                self.add_column(label, key=column.key, width=column.width)

    def replace_rows(
        self, rows: Iterable[tuple[str, Sequence[object]]], *, follow: bool = False
    ) -> None:
        """Swap in fresh rows (key, cells), keeping the cursor on the same row number; with
        `follow`, on the same row (by key) wherever it is now, the view left where it was
        unless the row would leave it (rows arriving above do not take the cursor away)."""
        row = self.cursor_row
        followed = self.cursor_key if follow else None
        scroll_y = self.scroll_y
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if not self.row_count:
            return
        if followed is not None and followed in self.rows:
            row = self.get_row_index(followed)
        row = min(row, self.row_count - 1)
        if not follow:
            self.move_cursor(row=row, animate=False, scroll=True)
            return
        self.move_cursor(row=row, animate=False, scroll=False)

        def settle() -> None:
            # After the new rows are measured: back to the old view, then only as far as
            # the cursor's row needs (wherever keys pressed meanwhile have put it).
            self.scroll_to(y=scroll_y, animate=False, immediate=True)
            self.move_cursor(row=self.cursor_row, animate=False, scroll=True)

        self.call_after_refresh(settle)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None: no rows)."""
        if not self.row_count or not self.is_valid_row_index(self.cursor_row):
            return None
        return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value


class FitTable(SafeTable):
    """A SafeTable whose `flex` column takes whatever width the others leave (never less than
    its own `width`), so the table fills its box at any terminal size without scrolling
    sideways. The columns are rebuilt, and the rows put back, when the width changes."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        flex: str,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(columns, id=id, classes=classes)
        self.flex = flex
        self._rows: list[tuple[str, Sequence[object]]] = []

    def _fitted(self) -> list[Column]:
        room = self.scrollable_content_region.width
        others = sum((c.width or 0) + 2 * self.cell_padding for c in self._initial_columns)
        fitted = []
        for column in self._initial_columns:
            if column.key == self.flex:
                grown = room - others + (column.width or 0)
                column = column._replace(width=max(column.width or 0, grown))
            fitted.append(column)
        return fitted

    def on_resize(self) -> None:
        self._refit()

    def watch_show_vertical_scrollbar(self) -> None:
        # Rows put in before the first layout bring the scrollbar without a resize: the flex
        # column then gives up the cells the scrollbar takes (after this layout pass).
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        fitted = self._fitted()
        if [c.width for c in fitted] == [c.width for c in self.columns.values()]:
            return
        self.clear(columns=True)
        self.set_columns(fitted)
        if self._rows:
            super().replace_rows(self._rows)

    def replace_rows(
        self, rows: Iterable[tuple[str, Sequence[object]]], *, follow: bool = False
    ) -> None:
        self._rows = list(rows)
        super().replace_rows(self._rows, follow=follow)
