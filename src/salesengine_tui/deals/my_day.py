"""My day: what the acting user should do today. Next steps due by the end of today (the
overdue ones too) on customers they own, and their own rotting deals in every pipeline; each
list short, its total counted by SQL past the few shown."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from ..customers.leads import end_of_day
from .rotting import calendar_days_sql, days_in_stage_sql, rotting_before_sql, sql_params

DUE_LIMIT = 30


class DueKind(StrEnum):
    next_step = "next_step"
    rotting = "rotting"


@dataclass(frozen=True)
class DueItem:
    """Something the acting user should do today: a customer's next step, or a rotting deal."""

    kind: DueKind
    customer_id: uuid.UUID
    customer_name: str
    text: str | None  # the next step, or the deal's title
    at: datetime | None = None  # when the next step is due
    overdue_days: int = 0  # next step: calendar days past due; rotting: days over threshold
    estimate_number: int | None = None
    stage_name: str | None = None
    amount: Decimal | None = None

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.customer_id}:{self.estimate_number or ''}"


@dataclass(frozen=True)
class Due:
    items: list[DueItem]  # next steps (earliest first), then rotting deals (most overdue)
    next_steps: int  # how many next steps are due (the list may show fewer)
    rotting: int  # how many of my deals are rotting


_NEXT_STEPS = f"""
SELECT c.id AS customer_id, c.name AS customer_name, c.next_step, c.next_step_at,
       {calendar_days_sql("c.next_step_at")} AS overdue_days,
       count(*) OVER () AS total
FROM customers c
WHERE c.owner_id = :me AND c.next_step_at < :end_of_day
ORDER BY c.next_step_at, c.id
LIMIT :limit
"""

_MY_ROTTING = f"""
WITH stages AS MATERIALIZED (
    -- each stage's cut-off computed once, not once per card
    SELECT s.id, s.name, s.rotting_days, {rotting_before_sql("s")} AS rot_before
    FROM deal_stages s
    WHERE s.rotting_days IS NOT NULL AND NOT s.is_won AND NOT s.is_lost
)
SELECT m.customer_id, c.name AS customer_name, m.title, m.number, m.amount, m.stage_name,
       {days_in_stage_sql("m")} - m.rotting_days AS days_over,
       (SELECT count(*) FROM estimates e JOIN stages st ON st.id = e.stage_id
        WHERE e.owner_id = :me AND e.stage_entered_at < st.rot_before) AS total
FROM (
    SELECT e.id, e.customer_id, e.title, e.number, e.amount, e.stage_entered_at,
           st.name AS stage_name, st.rotting_days, st.rot_before - e.stage_entered_at AS over
    FROM estimates e JOIN stages st ON st.id = e.stage_id
    WHERE e.owner_id = :me AND e.stage_entered_at < st.rot_before
    ORDER BY over DESC, e.id
    LIMIT :limit
) m
-- customers' names for the few shown only; the total counts them all
JOIN customers c ON c.id = m.customer_id
ORDER BY m.over DESC, m.id
"""


def due_today(
    session: Session,
    user_id: uuid.UUID,
    *,
    now: datetime,
    tz: ZoneInfo,
    limit: int = DUE_LIMIT,
) -> Due:
    """The acting user's next steps due by the end of today (the overdue ones too), and their
    rotting deals in every pipeline. Totals are counted by SQL past the `limit` shown."""
    params = {**sql_params(now, tz), "me": user_id, "limit": limit}
    steps = session.execute(
        sa.text(_NEXT_STEPS), {**params, "end_of_day": end_of_day(now, tz)}
    ).all()
    rotting = session.execute(sa.text(_MY_ROTTING), params).all()
    items = [
        DueItem(
            kind=DueKind.next_step,
            customer_id=r.customer_id,
            customer_name=r.customer_name,
            text=r.next_step,
            at=r.next_step_at,
            overdue_days=max(0, r.overdue_days),
        )
        for r in steps
    ] + [
        DueItem(
            kind=DueKind.rotting,
            customer_id=r.customer_id,
            customer_name=r.customer_name,
            text=r.title,
            overdue_days=r.days_over,
            estimate_number=r.number,
            stage_name=r.stage_name,
            amount=r.amount,
        )
        for r in rotting
    ]
    return Due(
        items=items,
        next_steps=steps[0].total if steps else 0,
        rotting=rotting[0].total if rotting else 0,
    )
