"""Snapshots of the keys as people see them, at 80x24 and 120x40: `?` on the board and on the
leads (each thing done once, alternatives together, long details cut with "…"), the leads
inbox (every column, narrowed), My tasks, the command palette open, and `?` after a keymap.
Update on purpose (`pytest --snapshot-update`), then look at the SVGs before committing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from factories import Desk, app_context
from pilot_helpers import wait_until
from sqlalchemy import Engine
from test_snapshots_shell import then
from test_tasks_app import seed_tasks
from textual.command import CommandPalette
from textual.pilot import Pilot

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock

SIZES = [(80, 24), (120, 40)]
ids = [f"{w}x{h}" for w, h in SIZES]


@pytest.fixture
def shell(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    seed_tasks(engine, desk)
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def palette_open(*before: str) -> Callable[[Pilot[None]], object]:
    """The palette over a section with "call" typed: its matches listed, best first. (With
    nothing typed the palette lists each provider's commands as they arrive, in no fixed
    order: no picture to compare.)"""

    async def run(pilot: Pilot[None]) -> None:
        await then(*before, "ctrl+p")(pilot)
        app = pilot.app
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"call")
        commands = app.screen.query_one("CommandList")

        def listed() -> bool:
            return commands.option_count > 0 and "Call" in str(
                commands.get_option_at_index(0).prompt
            )

        await wait_until(pilot, listed, what="the palette's matches")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)  # the palette gathers hits in batches

    return run


@pytest.mark.parametrize("size", SIZES, ids=ids)
def test_help_on_the_board(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=then("question_mark"))


@pytest.mark.parametrize("size", SIZES, ids=ids)
def test_help_on_the_leads(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=then("2", "question_mark"))


@pytest.mark.parametrize("size", SIZES, ids=ids)
def test_leads(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=then("2"))


@pytest.mark.parametrize("size", SIZES, ids=ids)
def test_all_customers(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    """The status column too (the filter's "All customers")."""
    assert snap_compare(
        shell, terminal_size=size, run_before=then("2", "f", "down", "down", "down", "enter")
    )


@pytest.mark.parametrize("size", SIZES, ids=ids)
def test_tasks(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=then("6"))


@pytest.mark.parametrize("size", SIZES, ids=ids)
def test_palette_on_the_leads(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=palette_open("2"))


@pytest.mark.parametrize("size", SIZES, ids=ids)
def test_help_after_a_keymap(
    snap_compare,
    engine: Engine,
    clock: FixedClock,
    desk: Desk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
) -> None:
    """`"board.move_next" = "ctrl+l"`: `?` shows `^l / L  Move →` (L is its own id), the header
    and footer too. A sound keymap: no toast (its text would name this run's temporary path)."""
    config = tmp_path / "config.toml"
    config.write_text(
        'business_timezone = "America/Chicago"\nlive_updates = false\n[keymap]\n'
        '"board.move_next" = "ctrl+l"\n"go.leads" = "ctrl+e"\n'
    )
    monkeypatch.setenv("SALESENGINE_CONFIG_FILE", str(config))
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    assert snap_compare(app, terminal_size=size, run_before=then("question_mark"))
