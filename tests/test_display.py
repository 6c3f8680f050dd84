"""display.py: data shown literally, control characters visible, money and dates for people."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from salesengine_tui.ui import display
from salesengine_tui.ui.display import (
    days_ago,
    local_date,
    local_datetime,
    money,
    safe_text,
    visible,
)

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 09:00 in Chicago


def render(text: object) -> str:
    console = Console(width=200, color_system=None, force_terminal=False, record=True)
    console.print(text, end="")
    return console.export_text()


@pytest.mark.parametrize(
    "value",
    ["[@click=app.quit]Acme", "[bold]x", "[/]", "[link=http://x]y[/link]", ":smile: \\[x]"],
)
def test_markup_is_shown_literally(value: str) -> None:
    text = safe_text(value)
    assert text.plain == value
    assert text.spans == []
    assert render(text) == value


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Acme\x1b[2J", "Acme␛[2J"),
        ("a\nb\tc\rd", "a␊b␉c␍d"),
        ("nul\x00", "nul␀"),
        ("del\x7f", "del␡"),
        ("c1\x9b31m", "c1\\u009b31m"),  # a one-byte CSI
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),  # right-to-left override
        ("Zoë Café — ☃", "Zoë Café — ☃"),  # ordinary non-ASCII is untouched
    ],
)
def test_control_characters_are_made_visible(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert safe_text(raw).plain == shown


@given(st.text())
def test_no_control_character_survives(value: str) -> None:
    shown = safe_text(value).plain
    assert not any(unicodedata.category(ch) == "Cc" for ch in shown)
    assert "\u202e" not in shown


def test_none_and_non_strings() -> None:
    empty = safe_text(None)
    assert empty.plain == "—" and str(empty.style) == "dim"
    assert safe_text(None, empty="never").plain == "never"
    assert safe_text(42).plain == "42"
    styled = safe_text("x", style="bold", justify="right")
    assert str(styled.style) == "bold" and styled.justify == "right"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("12345.49"), "$12,345"),
        (Decimal("12345.50"), "$12,346"),
        (0, "$0"),
        (1_000_000, "$1,000,000"),
        (Decimal("-40"), "-$40"),
        (None, "—"),
    ],
)
def test_money(amount: Decimal | int | None, shown: str) -> None:
    assert money(amount) == shown


def test_counts_and_plurals() -> None:
    assert display.number(1234567) == "1,234,567"
    assert display.plural(1, "deal") == "1 deal"
    assert display.plural(2, "deal") == "2 deals"
    assert display.plural(1204, "lead") == "1,204 leads"
    assert display.percent(25) == "25%"


def test_dates_are_in_the_business_time_zone() -> None:
    late_evening = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 22:30 the day before in Chicago
    assert local_date(late_evening, CHICAGO) == "2026-11-23"
    assert local_datetime(late_evening, CHICAGO) == "2026-11-23 22:30"
    assert local_date(None, CHICAGO) == "—"


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (None, "never"),
        (datetime(2026, 11, 24, 14, 0, tzinfo=UTC), "today"),
        # 10.5 hours ago, but before midnight in Chicago: yesterday for the people there
        (datetime(2026, 11, 24, 4, 30, tzinfo=UTC), "yesterday"),
        (datetime(2026, 11, 21, 15, 0, tzinfo=UTC), "3 days ago"),
        (datetime(2026, 11, 25, 15, 0, tzinfo=UTC), "tomorrow"),
        (datetime(2026, 11, 27, 15, 0, tzinfo=UTC), "in 3 days"),
        (datetime(2021, 11, 24, 15, 0, tzinfo=UTC), "1,826 days ago"),
    ],
)
def test_days_ago_counts_calendar_days_where_the_business_is(
    moment: datetime | None, shown: str
) -> None:
    assert days_ago(moment, NOW, CHICAGO) == shown
