"""Days in stage and rotting: the one rule, in Python (the board's cards) and in SQL (the
dashboard's figures), side by side so the two cannot drift.

A card's days in stage are calendar days in the business time zone since it entered its stage
(a card that entered at 11pm yesterday is a day old this morning). It is rotting once those
days reach its stage's `rotting_days` (None: the stage never rots), and near rotting from three
quarters of the way there.

Only open deals rot: a Won or Lost card shows when (and why) it was decided instead, and the
figures count open stages only, whatever `rotting_days` a decided stage was given.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class Freshness(StrEnum):
    """Days in stage against the stage's rotting threshold."""

    fresh = "fresh"
    near = "near"  # three quarters of the way to rotting
    rotting = "rotting"


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


# --- Python ---------------------------------------------------------------------------------


def days_in_stage(entered_at: datetime, now: datetime, tz: ZoneInfo) -> int:
    """Calendar days in `tz` from `entered_at` to `now` (never negative)."""
    return max(0, (local_today(now, tz) - local_today(entered_at, tz)).days)


def is_rotting(days: int, rotting_days: int | None) -> bool:
    return rotting_days is not None and days >= rotting_days


def freshness(days: int, rotting_days: int | None) -> Freshness:
    if rotting_days is None:
        return Freshness.fresh
    if is_rotting(days, rotting_days):
        return Freshness.rotting
    if days * 4 >= rotting_days * 3:
        return Freshness.near
    return Freshness.fresh


# --- SQL ------------------------------------------------------------------------------------
# The statements bind `:today` (the business date) and `:tz` (its zone name): `sql_params`.


def sql_params(now: datetime, tz: ZoneInfo) -> dict[str, object]:
    return {"now": now, "today": local_today(now, tz), "tz": tz.key}


def calendar_days_sql(moment: str) -> str:
    """Calendar days in the business time zone from the SQL expression `moment` to today."""
    return f"(CAST(:today AS date) - ({moment} AT TIME ZONE CAST(:tz AS text))::date)"


def days_in_stage_sql(card: str) -> str:
    """`days_in_stage` of `card` (an alias of `estimates`)."""
    return calendar_days_sql(f"{card}.stage_entered_at")


def rotting_before_sql(stage: str = "s") -> str:
    """The cut-off of `stage` (an alias of `deal_stages`): cards that entered before local
    midnight of (today - rotting_days + 1) are `is_rotting`. A bound on `stage_entered_at`,
    so an index range finds them; NULL (never) when the stage has no threshold."""
    return (
        f"((CAST(:today AS date) - {stage}.rotting_days + 1)::timestamp"
        " AT TIME ZONE CAST(:tz AS text))"
    )
