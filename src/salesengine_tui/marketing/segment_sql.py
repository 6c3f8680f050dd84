"""A segment as SQL: SQLAlchemy expressions over customers with bound parameters only, and
the planner settings its statements run with."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from ..customers.equipment import age_years_sql, installed_before
from ..db.models import Customer, CustomerStatus, DealStage, Equipment, Estimate, Ticket, User
from ..db.text_search import contains
from .segment_fields import DAYS_PER_MONTH, FIELDS, Condition, Definition, SegmentError

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
        return _compare(age_years_sql(Equipment.installed_on, now.date()), op, years)
    # older than N years: installed before the date N years ago (an index range)
    return _compare(Equipment.installed_on, _FLIPPED[op], installed_before(years, now.date()))


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
