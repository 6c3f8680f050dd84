"""A DataTable that never reads its cells as markup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from ..display import safe_text


class Column(NamedTuple):
    key: str
    label: str
    width: int | None = None  # None: as wide as the widest cell; else longer cells are cut
    numeric: bool = False  # right-aligned heading, to sit over right-aligned numbers


def _safe(cell: object) -> object:
    # DataTable parses a plain `str` cell as markup: a name like "[@click=app.quit]x" would
    # become a live action. Text objects are shown as they are.
    return safe_text(cell) if isinstance(cell, str) else cell


class SafeTable(DataTable[object]):
    """Row-cursor table whose `str` cells are shown literally (see `display.safe_text`)."""

    BINDING_GROUP_TITLE = "table"
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

    def replace_rows(self, rows: Iterable[tuple[str, Sequence[object]]]) -> None:
        """Swap in fresh rows (key, cells), keeping the cursor on the same row number."""
        row = self.cursor_row
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if self.row_count:
            self.move_cursor(row=min(row, self.row_count - 1), animate=False, scroll=True)
