"""Turning data into what a person reads: safe text, money, dates in the business time zone.

No Textual here (the jobs runner and the CLI format with it too). Every value that comes from
the database reaches the terminal through `visible` (directly, or as `safe_text`, `safe_lines`,
`visible_lines`, `shown_text`): a `Text` is never parsed as markup, so a customer called
`[@click=app.quit]Acme` stays a name, and no control character, bidi control or zero-width
character from data reaches the terminal: each is shown as a visible stand-in (`\x1b` -> `␛`,
`\u202e` -> `\\u202e`). Text loaded into an editable box is `editable` instead: the hidden
characters are removed, so what is shown is what will be saved.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from rich.style import Style
from rich.text import Span, Text

from ..base.validation import printable, without_hidden

EMPTY = "—"
Justify = Literal["left", "center", "right"]


def visible(value: str) -> str:
    """`value` with every hidden character (controls, bidi, zero-width: the one list in
    `base.validation`) replaced by a visible stand-in: the one path from data to the terminal."""
    return printable(value)


def visible_lines(value: str) -> str:
    """Like `visible`, for text with lines (notes, an email body, a message): newlines kept,
    tabs as four spaces, every other hidden character made visible."""
    return "\n".join(visible(line.replace("\t", "    ")) for line in value.split("\n"))


def editable(value: str, *, lines: bool = False) -> str:
    """`value` without the characters `visible` would replace (with `lines`, newlines and tabs
    stay): for data loaded into an editable box, where a stand-in would be saved back."""
    return without_hidden(value, keep="\n\t" if lines else "")


def shown_text(text: Text) -> Text:
    """`text` (built by us, with styles) with any hidden character in it made visible, its
    styles kept: for boxes that show labels others built (pickers, option lists)."""
    plain = text.plain
    if plain.isprintable():
        return text
    cuts = sorted({edge for span in text.spans for edge in (span.start, span.end)})
    out = Text(style=text.style, justify=text.justify, no_wrap=text.no_wrap, end=text.end,
               overflow=text.overflow)  # fmt: skip
    for piece in text.divide(cuts):
        shown = visible(piece.plain)
        out.append_text(Text(shown, spans=[Span(0, len(shown), s.style) for s in piece.spans]))
    return out


def safe_text(
    value: object,
    style: str | Style = "",
    *,
    justify: Justify | None = None,
    empty: str = EMPTY,
) -> Text:
    """A `Text` showing `value` literally: never markup, control characters made visible.

    None shows as `empty` (dimmed). Anything else is shown via `str()`.
    """
    if value is None:
        return Text(empty, style="dim", justify=justify, end="")
    return Text(visible(str(value)), style=style, justify=justify, end="")


def safe_lines(value: str) -> Text:
    """Like `safe_text`, for text with lines (an email body): see `visible_lines`."""
    return Text(visible_lines(value), end="")


def money(amount: Decimal | int | float | None) -> str:
    """Whole dollars with thousands separators: `$12,345`, `-$40`."""
    if amount is None:
        return EMPTY
    dollars = Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    sign = "-" if dollars < 0 else ""
    return f"{sign}${abs(dollars):,}"


def short_money(amount: Decimal | int | float | None) -> str:
    """Dollars in three significant figures where space is short: `$950`, `$12.3k`, `$4.56M`."""
    if amount is None:
        return EMPTY
    value = float(amount)
    sign, value = ("-" if value < 0 else ""), abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if round(value, -1) >= limit:
            scaled = value / limit
            digits = 0 if scaled >= 100 else 1 if scaled >= 10 else 2
            return f"{sign}${scaled:.{digits}f}{suffix}"
    return f"{sign}${value:,.0f}"


def number(value: int | None) -> str:
    """A count with thousands separators: `1,234`."""
    return EMPTY if value is None else f"{value:,}"


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """`1 deal`, `2 deals`, `1,204 leads`."""
    word = noun if count == 1 else (plural_noun or f"{noun}s")
    return f"{count:,} {word}"


def percent(value: int | None) -> str:
    return EMPTY if value is None else f"{value}%"


def local_date(moment: datetime | None, tz: ZoneInfo) -> str:
    """The calendar date in the business time zone: `2026-11-24`."""
    return EMPTY if moment is None else moment.astimezone(tz).date().isoformat()


def local_datetime(moment: datetime | None, tz: ZoneInfo, *, zone: bool = False) -> str:
    """Date and time in the business time zone, to the minute: `2026-11-24 09:00`; with
    `zone`, its abbreviation after (`2026-11-24 09:00 CST`), where a reader may not know
    which zone is meant (the command line). The one format of a time shown to a person;
    files for machines (JSON, CSV, iCalendar) keep ISO-8601 in UTC."""
    if moment is None:
        return EMPTY
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z" if zone else "%Y-%m-%d %H:%M")


def calendar_days(moment: datetime, now: datetime, tz: ZoneInfo) -> int:
    """Calendar days from `moment` to `now` in the business time zone (negative: future)."""
    then: date = moment.astimezone(tz).date()
    return (now.astimezone(tz).date() - then).days


def days_ago(moment: datetime | None, now: datetime, tz: ZoneInfo, *, never: str = "never") -> str:
    """`today`, `yesterday`, `3 days ago`, `tomorrow`, `in 2 days`; `never` for None.

    Counted in calendar days where the business is, so a call at 11pm yesterday was
    "yesterday" this morning, whatever the server's time zone.
    """
    if moment is None:
        return never
    days = calendar_days(moment, now, tz)
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days == -1:
        return "tomorrow"
    return f"{days:,} days ago" if days > 0 else f"in {-days:,} days"
