"""Searching text columns for what a person typed, as bound parameters only."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op


def contains(column: sa.ColumnElement[str], text: str) -> sa.ColumnElement[bool]:
    """`column` contains `text` anywhere, any case; the user's % and _ are literal characters."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


# --- "starts with", as a range scan --------------------------------------------------------
# The indexes search reads in order are btrees with `text_pattern_ops` (migration 0015): they
# compare bytes, whatever the database's collation, so "starts with" is a range of them and
# their order is `USING ~<~`.


def starts_with(value: sa.ColumnElement[str | None], prefix: str) -> sa.ColumnElement[bool]:
    """`value` starts with `prefix` (exactly: case and all), as a byte-order range, so a
    `text_pattern_ops` index on `value` answers it, with bound parameters."""
    if not prefix:
        return sa.true()
    lower = value.op("~>=~")(prefix)
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # no character there (UTF-16 surrogates): the next one up
        last = 0xE000
    if last > 0x10FFFF:
        return sa.and_(lower, value.startswith(prefix, autoescape=True))
    # The strings starting with `prefix` are exactly those in [prefix, prefix with its last
    # character one higher): UTF-8's byte order is code point order.
    return sa.and_(lower, value.op("~<~")(prefix[:-1] + chr(last)))


def in_byte_order(value: sa.ColumnElement[str | None]) -> sa.ColumnElement[str | None]:
    """ORDER BY `value` in the order of its `text_pattern_ops` index (read in order, with a
    LIMIT, instead of sorting every match)."""
    return UnaryExpression(value, modifier=custom_op("USING ~<~"))


# --- phone numbers, in any punctuation -------------------------------------------------------
# One rule, in SQL: `salesengine_phone_key` (migration 0015) reads a phone's digits as a
# national number ("+1 (972) 653-2552" -> 9726532552). The stored numbers are indexed by it,
# forwards and reversed, and what was typed goes through the same function, so "(972) 653-2552",
# "972-653-2552", "6532552" and "+1 972 653 2552" all find +19726532552.

PHONE_MIN_DIGITS = 4  # fewer digits are a deal or ticket number, not part of a phone number
_PHONE_TYPED = re.compile(r"[+0-9\s().\-/]+")
_AFTER_DIGITS = ":"  # the character after "9": [p, p || ':') holds the digit strings starting p


def phone_like(text: str) -> bool:
    """What was typed reads as (part of) a phone number: only digits and the punctuation
    people put in phone numbers, with at least PHONE_MIN_DIGITS digits."""
    text = text.strip()
    return (
        _PHONE_TYPED.fullmatch(text) is not None
        and sum(ch.isdigit() for ch in text) >= PHONE_MIN_DIGITS
    )


def phone_key(value: sa.ColumnElement[str | None] | str) -> sa.ColumnElement[str | None]:
    """A phone's digits as a national number, in SQL (indexed on `customers.phone`); a str
    is bound as a parameter."""
    return sa.func.salesengine_phone_key(value, type_=sa.Text)


def phone_key_reversed(value: sa.ColumnElement[str | None] | str) -> sa.ColumnElement[str | None]:
    """The key read from its end (indexed too): a number typed from its end is its start."""
    return sa.func.reverse(phone_key(value), type_=sa.Text)


def _digits_start(
    value: sa.ColumnElement[str | None], prefix: sa.ColumnElement[str | None]
) -> sa.ColumnElement[bool]:
    return sa.and_(
        value.op("~>=~")(prefix), value.op("~<~")(prefix.concat(_AFTER_DIGITS).self_group())
    )


def phone_starts(column: sa.ColumnElement[str | None], text: str) -> sa.ColumnElement[bool]:
    """The phone in `column` starts with the number typed (area code first: "972-653")."""
    return _digits_start(phone_key(column), phone_key(text))


def phone_ends(column: sa.ColumnElement[str | None], text: str) -> sa.ColumnElement[bool]:
    """The phone in `column` ends with the number typed ("653-2552")."""
    return _digits_start(phone_key_reversed(column), phone_key_reversed(text))


def phone_matches(column: sa.ColumnElement[str | None], text: str) -> sa.ColumnElement[bool]:
    """The phone in `column` starts or ends with the number typed, whatever the punctuation
    of either; false when `text` does not read as a phone number (`phone_like`)."""
    if not phone_like(text):
        return sa.false()
    return sa.or_(phone_starts(column, text), phone_ends(column, text))
