"""Equipment age: one rule for the profile, the segments and the blast placeholders.

A unit's age is its whole calendar years since installation (the age PostgreSQL's `age()`
gives). "Older than N years", where N may be a fraction, is a date boundary N x 365.25 days
back, so a segment condition stays an index range on `installed_on`.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

DAYS_PER_YEAR = 365.25


def age_years(installed_on: date, today: date) -> int:
    """Whole years since `installed_on` (a unit installed on this day a year ago is 1)."""
    before_anniversary = (today.month, today.day) < (installed_on.month, installed_on.day)
    return today.year - installed_on.year - before_anniversary


def age_years_sql(installed_on: sa.ColumnElement[date], today: date) -> sa.ColumnElement[float]:
    """`age_years` in SQL, for one row's installation date."""
    return sa.func.date_part("year", sa.func.age(sa.literal(today, sa.Date), installed_on))


def installed_before(years: float, today: date) -> date:
    """The installation date a unit of exactly `years` years has: older units are before it."""
    return today - timedelta(days=round(years * DAYS_PER_YEAR))
