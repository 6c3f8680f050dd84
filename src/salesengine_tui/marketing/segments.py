"""Segments: a group of customers described by conditions on a fixed list of fields.

A definition is conditions joined by AND / OR, with groups. It can be written as one line of
text (`equipment.age > 10 and last_service > 6mo and status = active`) and is compiled to
SQLAlchemy expressions with bound parameters only: field names and operators come from the
fixed list, and nothing the user types becomes SQL text. Errors point at the place in the
text that is wrong. No Textual here; the builder screen and the CLI both use this module.

The parts: `segment_fields` (the fields and one checked condition), `segment_text` (the text
and stored forms), `segment_sql` (the compiler); counting and previewing members are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from ..db.models import Customer
from .segment_fields import (
    ALLOWED,
    DAYS_PER_MONTH,
    FIELDS,
    OPERATORS,
    WEEKS_PER_MONTH,
    Condition,
    Definition,
    Field,
    Group,
    Kind,
    SegmentError,
    condition,
    show_value,
)
from .segment_sql import (
    compile_condition,
    compile_definition,
    conditions,
    one_process,
    planned,
)
from .segment_text import from_json, parse, to_json, to_text

__all__ = [
    "ALLOWED",
    "DAYS_PER_MONTH",
    "FIELDS",
    "OPERATORS",
    "PREVIEW",
    "WEEKS_PER_MONTH",
    "Condition",
    "Definition",
    "Field",
    "Group",
    "Kind",
    "Member",
    "SegmentError",
    "compile_condition",
    "compile_definition",
    "condition",
    "conditions",
    "count",
    "count_query",
    "from_json",
    "one_process",
    "parse",
    "planned",
    "preview",
    "preview_query",
    "show_value",
    "to_json",
    "to_text",
]

PREVIEW = 20


@dataclass(frozen=True)
class Member:
    id: object
    name: str
    email: str | None
    status: str


def count_query(definition: Definition, now: datetime) -> sa.Select[tuple[int]]:
    where = compile_definition(definition, now)
    return sa.select(sa.func.count()).select_from(Customer).where(where)


def preview_query(definition: Definition, now: datetime, limit: int = PREVIEW) -> sa.Select:
    # Broad segments walk ix_customers_name_id and stop after `limit` members; narrow ones
    # are found first and then sorted (the planner picks by the estimated count).
    return (
        sa.select(Customer.id, Customer.name, Customer.email, sa.cast(Customer.status, sa.Text))
        .where(compile_definition(definition, now))
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    )


def count(session: Session, definition: Definition, *, now: datetime) -> int:
    with planned(session, definition):
        return int(session.execute(count_query(definition, now)).scalar_one())


def preview(
    session: Session, definition: Definition, *, now: datetime, limit: int = PREVIEW
) -> list[Member]:
    with planned(session, definition):
        return [Member(*row) for row in session.execute(preview_query(definition, now, limit))]
