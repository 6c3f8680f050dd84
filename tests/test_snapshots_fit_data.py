"""Snapshots of phones and initials as people see them: a profile and Quick Call with a number
and its extension in national format, the inbox, and a board whose two owners' names give
the same first initials ("JW" and "JWi"); each at 80x24 and 120x40."""

from __future__ import annotations

import pytest
from factories import Desk, add_estimate, add_user, app_context, days_before, stages_of
from sqlalchemy import Engine, text
from sqlmodel import Session
from test_snapshots_shell import loaded, then

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def shell(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    """Hank's number stored with an extension (revision 0017), Peggy's in another country;
    two reps whose names clash owning the New lane's oldest deals."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE customers SET phone = '+19726532552', phone_ext = '12' "
                "WHERE name = 'Hank Hill'; "
                "UPDATE customers SET phone = '+442071234567' WHERE name = 'Peggy Hill'"
            )
        )
    with Session(engine) as s:
        jane = add_user(s, "jane", name="Jane Walker", n=20)
        john = add_user(s, "john", name="John Williams", n=21)
        new = stages_of(s, "Residential Replacements")["New"]
        add_estimate(s, desk.customers["Dale Gribble"], new, 5000, owner=jane,
                     entered_at=days_before(40), n=90)  # fmt: skip
        add_estimate(s, desk.customers["Bill Dauterive"], new, 6000, owner=john,
                     entered_at=days_before(39), n=91)  # fmt: skip
        s.commit()
    return SalesEngineApp(app_context(engine, clock, desk.manager))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_board_initials(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_inbox_phones(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=then("2"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_profile_phone_with_extension(
    snap_compare, shell: SalesEngineApp, size: tuple[int, int]
) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=then("2", "enter"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_quick_call_phone_with_extension(
    snap_compare, shell: SalesEngineApp, size: tuple[int, int]
) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=then("2", "c"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_edit_contact_phone(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=then("2", "enter", "e"))
