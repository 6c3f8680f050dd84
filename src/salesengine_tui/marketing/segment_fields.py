"""The segment language's vocabulary: the fixed list of fields with their kinds and operators,
and one checked condition. Field names and operators come only from here, so nothing a person
types ever becomes SQL text."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ..base.errors import UserError
from ..db.models import CustomerStatus


class Kind(StrEnum):
    text = "text"
    choice = "choice"
    number = "number"
    months = "months"  # a duration: 6mo, 2y, 90d (stored as months)
    boolean = "boolean"


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    help: str
    choices: tuple[str, ...] = ()


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field(
            "status", Kind.choice, "lead, active or churned", tuple(s.value for s in CustomerStatus)
        ),
        Field("lead_source", Kind.text, "where the customer came from"),
        Field("owner", Kind.text, "the owner's login"),
        Field("city", Kind.text, "city"),
        Field("postal_code", Kind.text, "postal code"),
        Field("has_email", Kind.boolean, "yes or no"),
        Field("opted_out", Kind.boolean, "yes or no"),
        Field("customer_for", Kind.months, "time since the customer was created"),
        Field("equipment.age", Kind.number, "age of any unit, in years"),
        Field("all_equipment.age", Kind.number, "age of every unit, in years (has units)"),
        Field("equipment.kind", Kind.text, "kind of any unit (Central AC, Furnace, ...)"),
        Field("last_service", Kind.months, "time since the last closed ticket (never: forever)"),
        Field("open_estimates", Kind.number, "how many open estimates"),
        Field("open_value", Kind.number, "total value of open estimates, in dollars"),
        Field("last_interaction", Kind.months, "time since the last interaction (never: forever)"),
    )
}
OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "contains")
ALLOWED = {
    Kind.text: ("=", "!=", "contains"),
    Kind.choice: ("=", "!="),
    Kind.boolean: ("=", "!="),
    Kind.number: ("=", "!=", ">", ">=", "<", "<="),
    Kind.months: (">", ">=", "<", "<="),
}


# Bounds that keep every condition computable: a date N years back stays in the calendar, a
# figure stays within what PostgreSQL compares, brackets stay within Python's recursion.
MAX_YEARS = 1000.0
MAX_NUMBER = 1e12
MAX_DEPTH = 20


class SegmentError(UserError):
    """What is wrong and where: `position` is a character offset into the text form."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str | float | bool


@dataclass(frozen=True)
class Group:
    join: str  # "and" | "or"
    items: tuple[Condition | Group, ...]


Definition = Condition | Group


DAYS_PER_MONTH = 30.44
WEEKS_PER_MONTH = 4.35


def _months(amount: float, unit: str) -> float:
    """A typed duration in months (the unit stored): 2y, 6mo, 90d, 3w."""
    if unit.startswith("y"):
        return amount * 12
    if unit.startswith("d"):
        return amount / DAYS_PER_MONTH
    if unit.startswith("w"):
        return amount / WEEKS_PER_MONTH
    return amount


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(d|days?|w|weeks?|mo|months?|y|years?)?$", re.I)


def condition(field_name: str, op: str, raw: str, *, at: int = 0) -> Condition:
    """One checked condition (the builder's rows come through here too)."""
    field = FIELDS.get(field_name)
    if field is None:
        raise SegmentError(f"unknown field {field_name!r}", at)
    if op not in ALLOWED[field.kind]:
        allowed = " ".join(ALLOWED[field.kind])
        raise SegmentError(f"{field.name} takes {allowed}, not {op!r}", at)
    value: str | float | bool
    if field.kind is Kind.number:
        value = _number_value(field, raw, at)
    elif field.kind is Kind.months:
        m = _DURATION.match(raw.strip())
        if m is None:
            raise SegmentError(
                f"{raw!r} is not a duration (for {field.name}): write 6mo, 2y or 90d", at
            )
        amount, unit = float(m.group(1)), (m.group(2) or "mo").lower()
        value = _months(amount, unit)
        if not value <= MAX_YEARS * 12:
            raise SegmentError(
                f"{raw!r} is too long (for {field.name}): at most {MAX_YEARS:.0f} years", at
            )
    elif field.kind is Kind.boolean:
        if raw.lower() not in ("yes", "no", "true", "false"):
            raise SegmentError(f"{raw!r} is not yes or no (for {field.name})", at)
        value = raw.lower() in ("yes", "true")
    elif field.kind is Kind.choice:
        if raw.lower() not in field.choices:
            raise SegmentError(
                f"{raw!r} is not one of {', '.join(field.choices)} (for {field.name})", at
            )
        value = raw.lower()
    else:
        value = _text_value(field, raw, at)
    return Condition(field.name, op, value)


def _number_value(field: Field, raw: str, at: int) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SegmentError(f"{raw!r} is not a number (for {field.name})", at) from None
    if not math.isfinite(value):
        raise SegmentError(f"{raw!r} is not a number (for {field.name})", at)
    most = MAX_YEARS if field.name.endswith(".age") else MAX_NUMBER
    if abs(value) > most:
        raise SegmentError(
            f"{raw!r} is out of range (for {field.name}): between -{_number(most)} "
            f"and {_number(most)}",
            at,
        )
    return value


def _text_value(field: Field, raw: str, at: int) -> str:
    """Any text but what PostgreSQL cannot hold: NUL, and halves of a character (from bytes
    that were not UTF-8)."""
    if raw.isprintable():  # fast path: neither is printable
        return raw
    for i, ch in enumerate(raw):
        if ch == "\x00" or unicodedata.category(ch) == "Cs":
            raise SegmentError(
                f"the value for {field.name} holds U+{ord(ch):04X}, which text cannot store",
                at + i + 1,
            )
    return raw


def _number(value: float) -> str:
    """Whole numbers plainly; others with every digit, so the text reads back the same."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    # Positional, never `3.2e-05`: a duration's digits must read back through its pattern,
    # and repr's shortest digits read back as the same float.
    return format(Decimal(repr(value)), "f")


def show_value(field: Field, value: str | float | bool) -> str:
    """A condition's value as a person would type it (a duration in the unit it came in)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if field.kind is not Kind.months:
        return _number(value)
    for unit, per_month in (("mo", 1.0), ("d", DAYS_PER_MONTH), ("w", WEEKS_PER_MONTH)):
        amount = round(value * per_month)
        if _months(amount, unit) == value:  # the unit it was typed in reads back exactly
            return f"{amount}{unit}"
    return f"{_number(value)}mo"
