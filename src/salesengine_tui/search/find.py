"""The search itself: each source is one indexed query bounded by the limit, and the hits are
merged, best reason first (see `Why`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlmodel import Session

from ..db.models import Customer, DealStage, Estimate, Ticket
from ..db.text_search import (
    in_byte_order,
    phone_ends,
    phone_key,
    phone_key_reversed,
    phone_starts,
    starts_with,
)
from .hits import Hit, Kind, Why
from .typed import Typed, read

LIMIT = 30
_WORD = re.compile(r"\w+")
# Deals whose titles are read first, newest first: a title word in fewer than one in
# RECENT_DEALS / LIMIT of them is looked up in the word index instead.
RECENT_DEALS = 1_000


def search(session: Session, text: str, *, limit: int = LIMIT) -> list[Hit]:
    """Customers, deals and tickets for what was typed, best first, at most `limit`."""
    typed = read(text)
    if typed.empty or limit < 1:
        return []
    found: list[Hit] = []
    for source in _SOURCES:
        found += source(session, typed, limit)
    best: dict[tuple[Kind, object], Hit] = {}
    for hit in found:  # one line per thing found, for its best reason
        if hit.key not in best or hit.why < best[hit.key].why:
            best[hit.key] = hit
    # Stable: within a reason, the order the source gave.
    return sorted(best.values(), key=lambda hit: hit.why)[:limit]


def _words_of(value: sa.ColumnElement[str | None]) -> sa.ColumnElement[object]:
    """A name's or a title's words: the expression the GIN indexes hold (migration 0015)."""
    return sa.func.salesengine_search_words(value, type_=TSVECTOR)


def _matches(words: sa.ColumnElement[object], typed: Typed) -> sa.ColumnElement[bool]:
    """`words` hold every word typed as a word prefix (`salesengine_search_query` builds the
    query from the words PostgreSQL's parser finds in the text: no operator gets through)."""
    query = sa.func.salesengine_search_query(typed.text, type_=TSQUERY)
    return words.bool_op("@@")(query)


def _best_word_matches(
    id_column: sa.ColumnElement[object],
    words: sa.ColumnElement[object],
    order: sa.ColumnElement[object],
    typed: Typed,
    limit: int,
) -> sa.Subquery:
    """The ids (and `sort`) of the first `limit` rows by `order` whose `words` (an expression
    with a GIN index) hold every word typed as a word prefix. The matches are taken from the
    word index first (a materialized CTE), then ordered: read in another index's order, each
    row's words would be computed until enough matched, which for a word found nowhere is the
    whole table (seconds at a million rows)."""
    matched = (
        sa.select(id_column.label("id"), order.label("sort"))
        .where(_matches(words, typed))
        .cte("matched")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        sa.select(matched.c.id, matched.c.sort)
        .order_by(matched.c.sort)
        .limit(limit)
        .subquery("best")
    )


# --- customers -------------------------------------------------------------------------------


def _customer_hit(row: sa.Row, why: Why) -> Hit:
    return Hit(
        kind=Kind.customer,
        id=row.id,
        customer_id=row.id,
        why=why,
        title=row.name,
        customer_name=row.name,
        state=row.status.value,
        phone=row.phone,
        phone_ext=row.phone_ext,
        email=row.email,
    )


_CUSTOMER = (
    Customer.id,
    Customer.name,
    Customer.status,
    Customer.phone,
    Customer.phone_ext,
    Customer.email,
)


def _customers_by_name(session: Session, typed: Typed, limit: int) -> Iterable[Hit]:
    """The whole name first, then names starting with what was typed, then names with a later
    part starting with it ("smith": John Smith), then names with every word typed starting one
    of their words, in any order ("kar smi", "smith john"). The first two are read in index
    order, and each step runs only while the list is short, so a common start ("jo") costs as
    little as a rare one."""
    if not typed.words:
        return []
    typed_lower = typed.text.lower()
    name = sa.func.lower(Customer.name, type_=sa.Text)
    rest = sa.func.salesengine_name_rest(Customer.name, type_=sa.Text)
    starting = (
        sa.select(*_CUSTOMER, (name == typed_lower).label("exact"))
        .where(starts_with(name, typed_lower))
        .order_by(in_byte_order(name))
        .limit(limit)
    )
    hits = [
        _customer_hit(row, Why.exact if row.exact else Why.name_start)
        for row in session.execute(starting)
    ]
    if len(hits) < limit:
        later = (
            sa.select(*_CUSTOMER)
            .where(starts_with(rest, typed_lower))
            .order_by(in_byte_order(rest))
            .limit(limit)
        )
        hits += [_customer_hit(row, Why.words) for row in session.execute(later)]
    if len(hits) < limit:
        # Names starting with the first word typed first ("(karen)": Karen Smith before
        # John Karensen), then A to Z.
        first = next(iter(_WORD.findall(typed_lower)), "")
        best = _best_word_matches(
            Customer.id,
            _words_of(Customer.name),
            sa.tuple_(~name.startswith(first, autoescape=True), name, Customer.id),
            typed,
            limit,
        )
        anywhere = sa.select(*_CUSTOMER).join(best, best.c.id == Customer.id).order_by(best.c.sort)
        hits += [_customer_hit(row, Why.words) for row in session.execute(anywhere)]
    return hits


def _customers_by_email(session: Session, typed: Typed, limit: int) -> Iterable[Hit]:
    """An address typed from its start, any case: with its @, or one word that may be its
    local part ("ksmith42")."""
    if not (typed.email or (typed.words and " " not in typed.text)):
        return []
    email = sa.func.lower(Customer.email, type_=sa.Text)
    typed_lower = typed.text.lower()
    stmt = (
        sa.select(*_CUSTOMER, (email == typed_lower).label("exact"))
        .where(starts_with(email, typed_lower))
        .order_by(in_byte_order(email))
        .limit(limit)
    )
    return [
        _customer_hit(row, Why.exact if row.exact else Why.email_start)
        for row in session.execute(stmt)
    ]


def _customers_by_phone(session: Session, typed: Typed, limit: int) -> Iterable[Hit]:
    """The phone starts with the digits typed (the whole number first), or ends with them;
    any punctuation on either side."""
    if not typed.phone:
        return []
    key, backwards = phone_key(Customer.phone), phone_key_reversed(Customer.phone)
    exact = (key == phone_key(typed.text)).label("exact")
    starting = (
        sa.select(*_CUSTOMER, exact)
        .where(phone_starts(Customer.phone, typed.text))
        .order_by(in_byte_order(key))
        .limit(limit)
    )
    ending = (
        sa.select(*_CUSTOMER)
        .where(phone_ends(Customer.phone, typed.text))
        .order_by(in_byte_order(backwards))
        .limit(limit)
    )
    hits = [
        _customer_hit(row, Why.exact if row.exact else Why.phone_start)
        for row in session.execute(starting)
    ]
    return hits + [_customer_hit(row, Why.phone_end) for row in session.execute(ending)]


# --- deals -----------------------------------------------------------------------------------

_DEAL = (
    Estimate.id,
    Estimate.number,
    Estimate.title,
    Estimate.amount,
    Estimate.customer_id,
    Customer.name.label("customer_name"),
    DealStage.name.label("stage"),
)


def _deal_hits(session: Session, stmt: sa.Select, why: Why) -> list[Hit]:
    stmt = stmt.join(Customer, Customer.id == Estimate.customer_id).outerjoin(
        DealStage, DealStage.id == Estimate.stage_id
    )
    return [
        Hit(
            kind=Kind.deal,
            id=row.id,
            customer_id=row.customer_id,
            why=why,
            title=row.title,
            customer_name=row.customer_name,
            state=row.stage or "no stage",
            number=row.number,
            amount=row.amount,
        )
        for row in session.execute(stmt)
    ]


def _deal_by_number(session: Session, typed: Typed, limit: int) -> Iterable[Hit]:
    if typed.number is None or typed.tickets_only:
        return []
    return _deal_hits(session, sa.select(*_DEAL).where(Estimate.number == typed.number), Why.number)


def _deals_by_title(session: Session, typed: Typed, limit: int) -> Iterable[Hit]:
    """Every word typed starts a word of the title; newest deals first. A common word is in
    the newest deals (read in number order, their words computed); a rarer one comes from the
    word index. Either way a bounded amount of work, however many deals there are."""
    if not typed.words:
        return []
    recent = (
        sa.select(Estimate.id, Estimate.number, Estimate.title)
        .order_by(Estimate.number.desc())
        .limit(RECENT_DEALS)
        .subquery("recent")
    )
    newest = (
        sa.select(recent.c.id)
        .where(_matches(_words_of(recent.c.title), typed))
        .order_by(recent.c.number.desc())
        .limit(limit)
    )
    ids = list(session.execute(newest).scalars())
    if len(ids) < limit:
        best = _best_word_matches(
            Estimate.id,
            _words_of(Estimate.title),
            -Estimate.number,
            typed,
            limit,
        )
        ids = list(session.execute(sa.select(best.c.id)).scalars())
    stmt = sa.select(*_DEAL).where(Estimate.id.in_(ids)).order_by(Estimate.number.desc())
    return _deal_hits(session, stmt, Why.title_words)


# --- tickets ---------------------------------------------------------------------------------


def _ticket_by_number(session: Session, typed: Typed, limit: int) -> Iterable[Hit]:
    if typed.number is None:
        return []
    stmt = (
        sa.select(
            Ticket.id,
            Ticket.number,
            Ticket.summary,
            Ticket.status,
            Ticket.customer_id,
            Customer.name.label("customer_name"),
        )
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(Ticket.number == typed.number)
    )
    return [
        Hit(
            kind=Kind.ticket,
            id=row.id,
            customer_id=row.customer_id,
            why=Why.number,
            title=row.summary,
            customer_name=row.customer_name,
            state=row.status.value.replace("_", " "),
            number=row.number,
        )
        for row in session.execute(stmt)
    ]


_SOURCES: tuple[Callable[[Session, Typed, int], Iterable[Hit]], ...] = (
    _deal_by_number,
    _ticket_by_number,
    _customers_by_name,
    _customers_by_phone,
    _customers_by_email,
    _deals_by_title,
)
