"""Segments (plan 2C): a group of customers described by conditions on a fixed list of fields.

A definition is conditions joined by AND / OR, with groups. It can be written as one line of
text (`equipment.age > 10 and last_service > 6mo and status = active`) and is compiled to
SQLAlchemy expressions with bound parameters only: field names and operators come from the
fixed list below, and nothing the user types becomes SQL text. Errors point at the place in
the text that is wrong. No Textual here; the builder screen and the CLI both use this module.
"""

from __future__ import annotations

import re
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
    TicketStatus,
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
        value = amount * (12 if unit.startswith("y") else 1 / 30.44 if unit.startswith("d")
                          else 1 / 4.35 if unit.startswith("w") else 1)  # fmt: skip
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


def to_text(definition: Definition, *, top: bool = True) -> str:
    """The definition back as text (the builder and the text form are two views of one)."""
    if isinstance(definition, Condition):
        value = definition.value
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, float):
            field = FIELDS[definition.field]
            shown = f"{value:g}mo" if field.kind is Kind.months else f"{value:g}"
        elif re.fullmatch(r"[A-Za-z0-9_.\-+@/]+", value) and value.lower() not in ("and", "or"):
            shown = value
        else:
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


def _compare(column: sa.ColumnElement[object], op: str, value: object) -> sa.ColumnElement[bool]:
    return {
        "=": lambda: column == value,
        "!=": lambda: column != value,
        ">": lambda: column > value,
        ">=": lambda: column >= value,
        "<": lambda: column < value,
        "<=": lambda: column <= value,
    }[op]()


def _since(column: sa.ColumnElement[datetime], op: str, months: float, now: datetime):
    """ "time since `column` OP months": older than the cutoff means more time has passed."""
    cutoff = now - timedelta(days=months * 30.44)
    flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
    return _compare(column, flipped, cutoff)


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
    flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
    return _compare(Equipment.installed_on, flipped, installed)


def compile_condition(c: Condition, now: datetime) -> sa.ColumnElement[bool]:
    field, op, value = FIELDS[c.field], c.op, c.value
    if c.field == "status":
        return _compare(Customer.status, op, CustomerStatus(value))
    if c.field in ("lead_source", "city", "postal_code"):
        return _text(getattr(Customer, c.field), op, str(value))
    if c.field == "owner":
        owner = sa.select(User.login).where(User.id == Customer.owner_id).scalar_subquery()
        return _text(owner, op, str(value))
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
        return sa.and_(
            sa.exists().where(Equipment.customer_id == Customer.id),
            ~sa.exists().where(Equipment.customer_id == Customer.id, ~unit),
        )
    if c.field == "equipment.kind":
        unit = _text(Equipment.kind, op if op != "!=" else "=", str(value))
        found = sa.exists().where(Equipment.customer_id == Customer.id, unit)
        return ~found if op == "!=" else found
    if c.field == "last_service":
        last = (
            sa.select(sa.func.max(Ticket.closed_at))
            .where(Ticket.customer_id == Customer.id, Ticket.status == TicketStatus.closed)
            .scalar_subquery()
        )
        recent = _since(last, op, float(value), now)
        # never serviced counts as "a long time ago"
        return sa.or_(recent, last.is_(None)) if op in (">", ">=") else recent
    if c.field in ("open_estimates", "open_value"):
        figure = sa.func.count() if c.field == "open_estimates" else sa.func.sum(Estimate.amount)
        open_figure = (
            sa.select(sa.func.coalesce(figure, 0))
            .select_from(Estimate)
            .join(DealStage, DealStage.id == Estimate.stage_id)
            .where(Estimate.customer_id == Customer.id, ~DealStage.is_won, ~DealStage.is_lost)
            .scalar_subquery()
        )
        return _compare(open_figure, op, value)
    if c.field == "last_interaction":
        recent = _since(Customer.last_interaction_at, op, float(value), now)
        never = Customer.last_interaction_at.is_(None)
        return sa.or_(recent, never) if op in (">", ">=") else recent
    raise SegmentError(f"no way to compile {field.name}")  # the field list and this agree


def compile_definition(definition: Definition, now: datetime) -> sa.ColumnElement[bool]:
    if isinstance(definition, Condition):
        return compile_condition(definition, now)
    parts = [compile_definition(item, now) for item in definition.items]
    return sa.and_(*parts) if definition.join == "and" else sa.or_(*parts)


@dataclass(frozen=True)
class Member:
    id: object
    name: str
    email: str | None
    status: str


def count(session: Session, definition: Definition, *, now: datetime) -> int:
    stmt = (
        sa.select(sa.func.count()).select_from(Customer).where(compile_definition(definition, now))
    )
    return int(session.execute(stmt).scalar_one())


def preview(
    session: Session, definition: Definition, *, now: datetime, limit: int = PREVIEW
) -> list[Member]:
    stmt = (
        sa.select(Customer.id, Customer.name, Customer.email, sa.cast(Customer.status, sa.Text))
        .where(compile_definition(definition, now))
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    )
    return [Member(*row) for row in session.execute(stmt)]
