"""Searching text columns for what a person typed, as bound parameters only."""

from __future__ import annotations

import sqlalchemy as sa


def contains(column: sa.ColumnElement[str], text: str) -> sa.ColumnElement[bool]:
    """`column` contains `text` anywhere, any case; the user's % and _ are literal characters."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
