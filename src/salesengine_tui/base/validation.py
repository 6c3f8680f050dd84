"""Validation at the edge: one place for the rules every front end shares."""

from __future__ import annotations

import re

import sqlalchemy as sa

from .errors import UserError

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
# Deliberately plain: one @, a dot in the domain, no spaces or control characters.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
# The same rule for PostgreSQL's `~`, where set-based SQL decides who can be emailed.
EMAIL_SQL_PATTERN = r"^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+\.[^@[:space:][:cntrl:]]+$"
EMAIL_MAX = 254


def require_text(value: str | None, field: str, *, max_len: int = 500) -> str:
    text = (value or "").strip()
    if not text:
        raise UserError(f"{field} is required")
    if len(text) > max_len:
        raise UserError(f"{field} is too long ({len(text)} characters, at most {max_len})")
    return text


def one_line_name(value: str, what: str, *, max_len: int) -> str:
    """A name typed by a person (a segment, a stage): control characters and runs of spaces
    become one space; empty or too long is refused, naming `what`."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    if not text:
        raise UserError(f"the {what} is empty")
    if len(text) > max_len:
        raise UserError(f"the {what} is too long ({max_len} characters at most)")
    return text


def login(value: str) -> str:
    text = (value or "").strip()
    if not _LOGIN.match(text):
        raise UserError(
            f"login {text!r} is not valid: use 1-63 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return text


def email(value: str | None, field: str = "email") -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not _EMAIL.match(text) or len(text) > EMAIL_MAX:
        raise UserError(f"{field} {text!r} is not a valid email address")
    return text


def email_sql(address: sa.ColumnElement[str | None]) -> sa.ColumnElement[bool]:
    """`email`'s rule in SQL, for set-based statements that decide who can be emailed: a
    plausible address of at most EMAIL_MAX characters (no address is not one)."""
    return sa.and_(
        sa.func.coalesce(address, "").regexp_match(EMAIL_SQL_PATTERN),
        sa.func.length(address) <= EMAIL_MAX,
    )


def phone(value: str | None, field: str = "phone") -> str | None:
    """A phone number as digits, `+` first when international: `(214) 555-0101` ->
    `+12145550101` (ten digits are taken as North American), `555-0101` stays local."""
    text = (value or "").strip()
    if not text:
        return None
    if any(ch.isalpha() for ch in text.replace("ext", "").replace("x", "")):
        raise UserError(f"{field} {text!r} has letters in it")
    digits = "".join(ch for ch in text if ch.isdigit())
    if not 7 <= len(digits) <= 15:
        raise UserError(f"{field} {text!r} is not a phone number (7 to 15 digits)")
    if text.startswith("+"):
        return f"+{digits}"
    if len(digits) == 10:
        return f"+1{digits}"
    if len(digits) == 11 and digits.startswith("1"):
        return f"+{digits}"
    return "-".join([digits[:-4], digits[-4:]]) if len(digits) == 7 else digits
