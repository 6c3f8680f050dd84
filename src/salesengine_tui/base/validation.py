"""Validation at the edge: one place for the rules every front end shares."""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, Decimal

import sqlalchemy as sa

from .errors import UserError

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
# Deliberately plain: one @, a dot in the domain, no spaces or control characters.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
# The same rule for PostgreSQL's `~`, where set-based SQL decides who can be emailed.
EMAIL_SQL_PATTERN = r"^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+\.[^@[:space:][:cntrl:]]+$"
EMAIL_MAX = 254


# --- text that is stored and later shown --------------------------------------------------
# What no stored text may hold, from any entry (forms, the CLI, CSV import, the jobs' inputs):
# C0 and C1 controls and DEL (terminal escape sequences start with them), bidi marks, embeddings,
# overrides and isolates (they reorder what is shown), invisible characters (zero width space,
# word joiner, BOM, soft hyphen, the deprecated format characters and the tag characters), and
# the line and paragraph separators. Zero width (non-)joiners U+200C/U+200D stay: Persian,
# Indic scripts and emoji need them, and they neither hide text nor move it.
# One list of ranges, so the Python check and the SQL cleaning (`inert_sql`) agree.
_UNSAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x61C, 0x61C),
    (0x180E, 0x180E),
    (0x200B, 0x200B),
    (0x200E, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0xE0000, 0xE007F),
)


def _char_class(skip: str = "") -> str:
    """The ranges as a regular-expression class (Python `re` and PostgreSQL both read it);
    characters in `skip` are left out, and NUL always is (PostgreSQL text cannot hold it)."""
    points = sorted(
        {c for lo, hi in _UNSAFE_RANGES for c in range(lo, hi + 1)} - {ord(c) for c in skip} - {0}
    )
    runs: list[list[int]] = []
    for c in points:
        if runs and runs[-1][1] == c - 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return "[" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in runs) + "]"


_ONE_LINE = re.compile("\x00|" + _char_class())
_MULTI_LINE = re.compile("\x00|" + _char_class(skip="\t\n"))
# For PostgreSQL's `~` and regexp_replace: a run of unsafe characters (the jobs clean text
# another system wrote with it where SQL copies it into ours: `automation/upsell`).
UNSAFE_SQL_PATTERN = _char_class() + "+"


def _describe(char: str) -> str:
    if char in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":
        return f"a line break (U+{ord(char):04X})"
    return f"a control character (U+{ord(char):04X})"


def refuse_controls(text: str, field: str, *, multi_line: bool = False) -> str:
    """`text` unchanged, or UserError naming `field` when it holds a character from the list
    above (a multi-line note may hold tabs and newlines)."""
    if text.isprintable():  # fast path: every listed character is non-printable
        return text
    found = (_MULTI_LINE if multi_line else _ONE_LINE).search(text)
    if found is not None:
        raise UserError(
            f"{field}: contains {_describe(found.group())} at character {found.start() + 1}; "
            "remove it"
        )
    return text


def one_line_text(
    value: str | None, field: str, *, max_len: int, required: bool = False
) -> str | None:
    """A one-line field as a person typed it: trimmed, controls refused, length checked;
    blank is None (or refused when `required`)."""
    text = refuse_controls((value or "").strip(), field)
    if not text:
        if required:
            raise UserError(f"{field} is required")
        return None
    if len(text) > max_len:
        raise UserError(f"{field} is too long ({len(text):,} characters, at most {max_len:,})")
    return text


def multi_line_text(value: str | None, field: str, *, max_len: int) -> str | None:
    """Notes: line endings become newlines; tabs and newlines stay, other controls are
    refused; trimmed, blank is None."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    refuse_controls(text, field, multi_line=True)
    if len(text) > max_len:
        raise UserError(f"{field} are too long ({len(text):,} characters, at most {max_len:,})")
    return text or None


# Hidden: a listed character, or a lone surrogate (PostgreSQL stores none, but a Python string
# read with errors="surrogateescape" can carry one, and a terminal cannot encode it).
_HIDDEN = re.compile("\x00|" + _char_class()[:-1] + "\ud800-\udfff]")


def _stand_in(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the "control pictures": ESC -> U+241B
    return "\u2421" if code == 0x7F else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every hidden character replaced by a visible stand-in (`ESC` as `␛`,
    U+202E as `\\u202e`): what the terminal and the CSV export show of stored text."""
    if text.isprintable():  # fast path: every hidden character is non-printable
        return text
    return _HIDDEN.sub(lambda m: _stand_in(m.group()), text)


def without_hidden(text: str, *, keep: str = "") -> str:
    """`text` with every hidden character (but those in `keep`) left out: for data loaded into
    an editable box, where a stand-in would be saved back."""
    if text.isprintable():
        return text
    return _HIDDEN.sub(lambda m: m.group() if m.group() in keep else "", text)


def require_text(value: str | None, field: str, *, max_len: int = 500) -> str:
    text = one_line_text(value, field, max_len=max_len, required=True)
    assert text is not None
    return text


def one_line_name(value: str, what: str, *, max_len: int) -> str:
    """A name typed by a person (a segment, a stage): tabs and line breaks (a paste) and runs
    of spaces become one space; other controls are refused; empty or too long is refused,
    naming `what`."""
    text = " ".join(value.split())
    refuse_controls(text, what)
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


# --- money ---------------------------------------------------------------------------------
# Estimate amounts are NUMERIC(12,2): dollars and cents, never negative.
MONEY_MAX = Decimal("9999999999.99")
# What people type: `1250`, `1,250`, `$1,250.50`, `1250.5`; commas only between groups of three.
_MONEY = re.compile(r"^\$?\s*(?P<whole>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<cents>\d*))?$", re.ASCII)


def check_money(amount: Decimal, field: str = "value") -> Decimal:
    """`amount` with two decimal places, or UserError naming `field`: negative, more than two
    decimals, not a number, or more than MONEY_MAX."""
    if not amount.is_finite():
        raise UserError(f"{field}: {amount} is not an amount")
    if amount < 0:
        raise UserError(f"{field} cannot be negative")
    if amount != amount.quantize(Decimal("0.01"), rounding=ROUND_DOWN):
        raise UserError(f"{field}: at most two decimals (cents)")
    if amount > MONEY_MAX:
        raise UserError(f"{field} is too large (at most ${MONEY_MAX:,})")
    return amount.quantize(Decimal("0.01"))


def parse_money(text: str | None, field: str = "value") -> Decimal:
    """An amount as people type it (`1,250`, `$1250.50`, `1250`) as dollars with two decimal
    places; blank, negative, more than two decimals or too large is UserError naming `field`."""
    raw = (text or "").strip()
    if not raw:
        raise UserError(f"{field} is required (0 if not known yet)")
    if raw.startswith("-") or raw.startswith("$-") or raw.startswith("("):
        raise UserError(f"{field} cannot be negative")
    found = _MONEY.match(raw)
    if found is None or not (found.group("whole") or found.group("cents")):
        raise UserError(
            f"{field}: {printable(raw)[:40]!r} is not an amount; type dollars like 4200, "
            "4,200 or $4,200.50"
        )
    whole = (found.group("whole") or "0").replace(",", "")
    cents = found.group("cents") or ""
    return check_money(Decimal(f"{whole}.{cents or '0'}"), field)
