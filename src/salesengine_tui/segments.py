"""Segments (plan 2C): a group of customers described by conditions on a fixed list of fields.

A definition is conditions joined by AND / OR, with groups. It can be written as one line of
text (`equipment.age > 10 and last_service > 6mo and status = active`) and is compiled to
SQLAlchemy expressions with bound parameters only: field names and operators come from the
fixed list below, and nothing the user types becomes SQL text. Errors point at the place in
the text that is wrong. No Textual here; the builder screen and the CLI both use this module.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session

from .db.models import (
    Customer,
    CustomerStatus,
    DealStage,
    Equipment,
    Estimate,
    Ticket,
    User,
)
from .db.text_search import contains
from .errors import UserError

PREVIEW = 20


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

# --- text form -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lparen>\() | (?P<rparen>\)) |
      (?P<op>!=|>=|<=|=|>|<) |
      (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*") |
      (?P<word>[A-Za-z0-9_.\-+@/]+)
    )""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            at = pos + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise SegmentError(f"unexpected {text[at]!r} at position {at + 1}", at)
        kind = m.lastgroup or "word"
        value = m.group(kind)
        out.append(_Token(kind, value, m.start(kind)))
        pos = m.end()
    return out


def parse(text: str) -> Definition:
    """The text form to a definition; AND binds tighter than OR; parentheses group."""
    tokens = _tokens(text)
    if not tokens:
        raise SegmentError("the segment is empty: write a condition like `status = lead`")
    parser = _Parser(tokens, text)
    result = parser.expression()
    if parser.i < len(tokens):
        token = tokens[parser.i]
        raise SegmentError(
            f"expected 'and' or 'or' before {token.text!r} at position {token.at + 1}", token.at
        )
    return result


class _Parser:
    def __init__(self, tokens: list[_Token], text: str) -> None:
        self.tokens, self.text, self.i = tokens, text, 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise SegmentError("the segment ends too early", len(self.text))
        self.i += 1
        return token

    def expression(self) -> Definition:
        items = [self.conjunction()]
        while (t := self.peek()) is not None and t.kind == "word" and t.text.lower() == "or":
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Group("or", tuple(items))

    def conjunction(self) -> Definition:
        items = [self.term()]
        while (t := self.peek()) is not None and t.kind == "word" and t.text.lower() == "and":
            self.take()
            items.append(self.term())
        return items[0] if len(items) == 1 else Group("and", tuple(items))

    def term(self) -> Definition:
        token = self.take()
        if token.kind == "lparen":
            inner = self.expression()
            close = self.take()
            if close.kind != "rparen":
                raise SegmentError(f"expected ')' at position {close.at + 1}", close.at)
            return inner
        if token.kind != "word" or token.text.lower() not in FIELDS:
            known = ", ".join(FIELDS)
            raise SegmentError(
                f"unknown field {token.text!r} at position {token.at + 1} (fields: {known})",
                token.at,
            )
        field = FIELDS[token.text.lower()]
        op_token = self.take()
        op = op_token.text.lower()
        if op not in OPERATORS:
            raise SegmentError(
                f"expected an operator after {field.name} at position {op_token.at + 1}",
                op_token.at,
            )
        value_token = self.take()
        if value_token.kind not in ("word", "string"):
            raise SegmentError(f"expected a value at position {value_token.at + 1}", value_token.at)
        raw = value_token.text
        if value_token.kind == "string":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1], flags=re.DOTALL)
        return condition(field.name, op, raw, at=value_token.at)


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
        try:
            value = float(raw)
        except ValueError:
            raise SegmentError(f"{raw!r} is not a number (for {field.name})", at) from None
    elif field.kind is Kind.months:
        m = _DURATION.match(raw.strip())
        if m is None:
            raise SegmentError(
                f"{raw!r} is not a duration (for {field.name}): write 6mo, 2y or 90d", at
            )
        amount, unit = float(m.group(1)), (m.group(2) or "mo").lower()
        value = _months(amount, unit)
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
        value = raw
    return Condition(field.name, op, value)


def _number(value: float) -> str:
    """Whole numbers plainly; others with every digit, so the text reads back the same."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


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


def to_text(definition: Definition, *, top: bool = True) -> str:
    """The definition back as text (the builder and the text form are two views of one)."""
    if isinstance(definition, Condition):
        value = definition.value
        shown = show_value(FIELDS[definition.field], value)
        if isinstance(value, str) and not (
            re.fullmatch(r"[A-Za-z0-9_.\-+@/]+", value) and value.lower() not in ("and", "or")
        ):
            shown = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return f"{definition.field} {definition.op} {shown}"
    inner = f" {definition.join} ".join(to_text(item, top=False) for item in definition.items)
    return inner if top else f"({inner})"


def to_json(definition: Definition) -> dict[str, object]:
    """The stored form (a saved segment's JSONB): the tree, values as typed."""
    if isinstance(definition, Condition):
        return {"field": definition.field, "op": definition.op, "value": definition.value}
    return {"join": definition.join, "items": [to_json(item) for item in definition.items]}


def from_json(data: object) -> Definition:
    """Back from storage, checked again through the same rules as typed input."""
    if not isinstance(data, dict):
        raise SegmentError("a stored segment is not a condition or a group")
    if "items" in data:
        join = data.get("join")
        items = data.get("items")
        if join not in ("and", "or") or not isinstance(items, list) or not items:
            raise SegmentError("a stored group needs 'and' or 'or' and at least one item")
        return Group(join, tuple(from_json(item) for item in items))
    value = data.get("value")
    if isinstance(value, bool):
        raw = "yes" if value else "no"
    elif isinstance(value, int | float):
        field = FIELDS.get(str(data.get("field")))
        raw = f"{value}mo" if field is not None and field.kind is Kind.months else f"{value}"
    else:
        raw = str(value)
    return condition(str(data.get("field")), str(data.get("op")), raw)


# --- compiling -------------------------------------------------------------------------------


_OPS: dict[str, Callable[[object, object], object]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
_OPPOSITE = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}


def _compare(column: sa.ColumnElement[object], op: str, value: object) -> sa.ColumnElement[bool]:
    return _OPS[op](column, value)  # type: ignore[return-value]  # SQL operators build SQL


def _since(column: sa.ColumnElement[datetime], op: str, months: float, now: datetime):
    """ "time since `column` OP months": older than the cutoff means more time has passed."""
    cutoff = now - timedelta(days=months * DAYS_PER_MONTH)
    return _compare(column, _FLIPPED[op], cutoff)


def _text(column: sa.ColumnElement[str], op: str, value: str) -> sa.ColumnElement[bool]:
    if op == "contains":
        return contains(column, value)
    same = sa.func.lower(column) == value.lower()
    return same if op == "=" else sa.or_(column.is_(None), ~same)


def _unit_age(op: str, years: float, now: datetime) -> sa.ColumnElement[bool]:
    """ "this unit's age OP N years", on one equipment row."""
    if op in ("=", "!="):
        age = sa.func.date_part("year", sa.func.age(sa.literal(now.date()), Equipment.installed_on))
        return _compare(age, op, years)
    # older than N years: installed before the date N years ago (an index range)
    installed = now.date() - timedelta(days=round(years * 365.25))
    return _compare(Equipment.installed_on, _FLIPPED[op], installed)


def _finds_a_unit(item: Definition) -> bool:
    """True when the condition only holds for a customer with at least one unit."""
    return isinstance(item, Condition) and (
        item.field == "equipment.age" or (item.field == "equipment.kind" and item.op != "!=")
    )


def _open_figure(field: str, op: str, value: float) -> sa.ColumnElement[bool]:
    """ "open estimates (or their value) OP value" as (NOT) EXISTS, which the planner turns
    into a semi or anti join, not a count per customer.

    A customer without open estimates has 0: when 0 passes the condition they match unless
    their figure fails it, otherwise only when it passes.
    """
    open_estimates = (
        sa.select(Estimate.customer_id)
        .join(DealStage, DealStage.id == Estimate.stage_id)
        .where(~DealStage.is_won, ~DealStage.is_lost)
    )
    zero_passes, one_passes = bool(_OPS[op](0, value)), bool(_OPS[op](1, value))
    if field == "open_estimates":
        # A count is a whole number: "> 0", ">= 1", "!= 0" mean at least one, and "= 0",
        # "< 1", "<= 0" mean none; no need to count.
        any_open = sa.exists(open_estimates.where(Estimate.customer_id == Customer.id))
        if not zero_passes and one_passes and op in (">", ">=", "!="):
            return any_open
        if zero_passes and not one_passes and op in ("=", "<", "<="):
            return ~any_open
    figure = sa.func.count() if field == "open_estimates" else sa.func.sum(Estimate.amount)
    passes = _compare(figure, op, value)
    grouped = (
        open_estimates.group_by(Estimate.customer_id)
        .having(~passes if zero_passes else passes)
        .subquery("open_figures")
    )
    found = sa.exists().where(grouped.c.customer_id == Customer.id)
    return ~found if zero_passes else found


def compile_condition(
    c: Condition, now: datetime, *, has_units: bool = False
) -> sa.ColumnElement[bool]:
    """One condition as SQL. `has_units`: another condition of the same AND already needs a
    unit, so "every unit" need not check that there is one."""
    field, op, value = FIELDS[c.field], c.op, c.value
    if c.field == "status":
        return _compare(Customer.status, op, CustomerStatus(value))
    if c.field in ("lead_source", "city", "postal_code"):
        return _text(getattr(Customer, c.field), op, str(value))
    if c.field == "owner":
        # A join to the few users rather than a login looked up for each customer.
        login = _text(User.login, op if op != "!=" else "=", str(value))
        owned = sa.exists().where(User.id == Customer.owner_id, login)
        return ~owned if op == "!=" else owned  # no owner: not anyone's, so "!=" holds
    if c.field == "has_email":
        has = sa.and_(Customer.email.is_not(None), Customer.email != "")
        return has if (value is True) == (op == "=") else ~has
    if c.field == "opted_out":
        return Customer.email_opt_out if (value is True) == (op == "=") else ~Customer.email_opt_out
    if c.field == "customer_for":
        return _since(Customer.created_at, op, float(value), now)
    if c.field in ("equipment.age", "all_equipment.age"):
        unit = _unit_age(op, float(value), now)
        if c.field == "equipment.age":
            return sa.exists().where(Equipment.customer_id == Customer.id, unit)
        # every unit: has units, and none that fails the condition
        none_fails = ~sa.exists().where(Equipment.customer_id == Customer.id, ~unit)
        if has_units:
            return none_fails
        return sa.and_(sa.exists().where(Equipment.customer_id == Customer.id), none_fails)
    if c.field == "equipment.kind":
        unit = _text(Equipment.kind, op if op != "!=" else "=", str(value))
        found = sa.exists().where(Equipment.customer_id == Customer.id, unit)
        return ~found if op == "!=" else found
    if c.field == "last_service":
        # The last closed ticket is older than the cutoff exactly when no ticket was closed
        # since: (NOT) EXISTS is an (anti) join on ix_tickets_customer_closed, index only.
        # closed_at is set exactly when a ticket is closed (check closed_at_iff_closed), so
        # the status need not be read. Never serviced counts as "a long time ago".
        months = float(value)
        if op in ("<", "<="):
            recent = _since(Ticket.closed_at, op, months, now)
            return sa.exists().where(Ticket.customer_id == Customer.id, recent)
        newer = _since(Ticket.closed_at, _OPPOSITE[op], months, now)
        return ~sa.exists().where(Ticket.customer_id == Customer.id, newer)
    if c.field in ("open_estimates", "open_value"):
        return _open_figure(c.field, op, float(value))
    if c.field == "last_interaction":
        recent = _since(Customer.last_interaction_at, op, float(value), now)
        never = Customer.last_interaction_at.is_(None)
        return sa.or_(recent, never) if op in (">", ">=") else recent
    raise SegmentError(f"no way to compile {field.name}")  # the field list and this agree


def compile_definition(definition: Definition, now: datetime) -> sa.ColumnElement[bool]:
    if isinstance(definition, Condition):
        return compile_condition(definition, now)
    if definition.join == "or":
        return sa.or_(*(compile_definition(item, now) for item in definition.items))
    # A sibling that finds a unit already proves the customer has one (saves a join).
    has_units = any(_finds_a_unit(item) for item in definition.items)
    return sa.and_(
        *(
            compile_condition(item, now, has_units=has_units)
            if isinstance(item, Condition)
            else compile_definition(item, now)
            for item in definition.items
        )
    )


def conditions(definition: Definition) -> Iterator[Condition]:
    """Every condition of the definition, groups opened."""
    if isinstance(definition, Condition):
        yield definition
    else:
        for item in definition.items:
            yield from conditions(item)


def _merge_joined(c: Condition) -> bool:
    """Compiled to a (NOT) EXISTS that reads equipment or tickets in customer order from an
    index (not a `contains`, which scans the whole table)."""
    return c.field in ("equipment.age", "all_equipment.age", "last_service") or (
        c.field == "equipment.kind" and c.op != "contains"
    )


@contextmanager
def one_process(session: Session) -> Iterator[None]:
    """Run the statements inside without parallel workers, then put the setting back."""
    setting = "max_parallel_workers_per_gather"
    before = session.execute(sa.select(sa.func.current_setting(setting))).scalar_one()
    session.execute(sa.select(sa.func.set_config(setting, "0", True)))
    yield
    # Not reached when a statement failed: the transaction is then rolled back anyway,
    # and with it the setting.
    session.execute(sa.select(sa.func.set_config(setting, before, True)))


@contextmanager
def planned(session: Session, definition: Definition) -> Iterator[None]:
    """The planner settings a segment's statements run with.

    Joins with equipment and tickets are merge joins over index-only scans, which one
    process does fastest: at 1M customers on 2 cores they took 0.3-0.4 s with parallel
    workers (parallel hash joins that spill at the default work_mem) against 0.16-0.21 s
    in one. Segments that only scan customers, or a table with `contains`, keep the
    server's parallel scans (0.07 s against 0.10 s for status + city). bench_segments.py.
    """
    if any(_merge_joined(c) for c in conditions(definition)):
        with one_process(session):
            yield
    else:
        yield


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
