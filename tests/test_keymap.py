"""Keys a user can change: every binding has an id, a [keymap] table in the settings file
rebinds by id, its problems are said with the file and line (and left out), and `?`, the
palette, the header and the footer show the keys as the user has them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from factories import Desk, app_context, stages_of
from pilot_helpers import settle, wait_until
from sqlalchemy import Engine
from sqlmodel import Session, select
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import Static

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.keymap import Bound, KeymapEntry, Level, check_keymap, entry_lines
from salesengine_tui.base.settings import load_settings
from salesengine_tui.cli import main
from salesengine_tui.db.models import Estimate
from salesengine_tui.screens.help import HelpScreen
from salesengine_tui.screens.key_catalogue import binding_classes, merged_bindings
from salesengine_tui.screens.keys import is_key_name, key_display, normalize_key

SIZE = (120, 40)
BASE = 'business_timezone = "America/Chicago"\nlive_updates = false\n'


def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keymap: str) -> Path:
    """A settings file with this [keymap] table, read by everything from now on."""
    path = tmp_path / "config.toml"
    path.write_text(BASE + "\n[keymap]\n" + keymap)
    monkeypatch.setenv("SALESENGINE_CONFIG_FILE", str(path))
    return path


# --- every binding has an id ------------------------------------------------------------------


def test_every_binding_of_ours_has_a_dotted_id_and_a_description() -> None:
    missing, clashing = [], []
    for cls in binding_classes(SalesEngineApp):
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            where = f"{cls.__module__}.{cls.__name__} {binding.key!r}"
            if not binding.id or "." not in binding.id.strip("."):
                missing.append(f"{where}: id {binding.id!r}")
            if not binding.description:
                missing.append(f"{where}: no description")
        # One id, one thing done, on each screen and widget (with what it inherits).
        actions: dict[str, set[str]] = {}
        for binding in merged_bindings(cls):
            if binding.id:
                actions.setdefault(binding.id, set()).add(binding.action)
        clashing += [f"{cls.__name__}: {i} does {a}" for i, a in actions.items() if len(a) > 1]
    assert not missing and not clashing, missing + clashing


# --- reading and checking the table ---------------------------------------------------------------


def test_entry_lines_find_every_way_to_write_an_id() -> None:
    text = (
        'user = "x"\n'  # 1
        "[keymap]\n"  # 2
        '"board.move_next" = "ctrl+l"\n'  # 3
        "leads.call = 'C'  # bare dotted key\n"  # 4
        "\n"
        "[keymap.tasks]\n"  # 6
        'done = "X"\n'  # 7
        "[other]\n"
        'done = "no"\n'
    )
    assert entry_lines(text) == {
        "": 2,
        "board.move_next": 3,
        "leads.call": 4,
        "tasks": 6,
        "tasks.done": 7,
    }


LEVELS = [
    Level(
        "Pipeline",
        (
            Bound("board.move_next", ("shift+right", "L"), "Move →"),
            Bound("board.move_prev", ("shift+left", "H"), "Move ←"),
            Bound("board.undo", ("u",), "Undo"),
            Bound("app.quit", ("q",), "Quit"),
        ),
    ),
]


def checked(*entries: tuple[str, object]) -> tuple[dict[str, str], list[str]]:
    rows = [
        KeymapEntry(i, tuple(v.split(",")) if isinstance(v, str) else None, f"config.toml:{n}")
        for n, (i, v) in enumerate(entries, 12)
    ]
    result = check_keymap(rows, LEVELS, normalize=normalize_key, is_key=is_key_name)
    return result.keymap, result.problems


def test_a_sound_keymap_applies_whole() -> None:
    assert checked(("board.move_next", "ctrl+l, L"), ("board.undo", "U")) == (
        {"board.move_next": "ctrl+l,L", "board.undo": "U"},
        [],
    )
    # A key freed by one entry can be taken by another.
    assert checked(("board.undo", "z"), ("app.quit", "u"))[1] == []


def test_unknown_id_is_reported_with_file_and_line_and_left_out() -> None:
    keymap, problems = checked(("board.mvoe_next", "ctrl+l"), ("board.undo", "U"))
    assert keymap == {"board.undo": "U"}
    assert problems == [
        "config.toml:12: unknown key id 'board.mvoe_next' (did you mean 'board.move_next'?)"
    ]


def test_a_key_already_taken_on_the_screen_is_a_conflict() -> None:
    keymap, problems = checked(("board.undo", "ctrl+l"), ("board.move_next", "u"))
    assert keymap == {"board.undo": "ctrl+l", "board.move_next": "u"}  # `u` was freed first
    assert problems == []
    keymap, problems = checked(("board.move_next", "q"))
    assert keymap == {}
    assert problems == [
        "config.toml:12: 'q' for 'board.move_next' is already 'app.quit' (Quit) on Pipeline; "
        "ignored"
    ]


def test_two_ids_given_the_same_key_are_both_left_out() -> None:
    keymap, problems = checked(
        ("board.move_next", "ctrl+l"), ("board.move_prev", "ctrl+l"), ("board.undo", "U")
    )
    assert keymap == {"board.undo": "U"}
    assert problems == [
        "config.toml:12: 'ctrl+l' for 'board.move_next' is also given to 'board.move_prev' "
        "(config.toml:13) on Pipeline; both ignored",
        "config.toml:13: 'ctrl+l' for 'board.move_prev' is also given to 'board.move_next' "
        "(config.toml:12) on Pipeline; both ignored",
    ]


def test_keys_that_are_not_keys_and_values_that_are_not_text() -> None:
    keymap, problems = checked(("board.undo", "ctrl+lft"), ("board.move_next", 5))
    assert keymap == {}
    assert problems == [
        "config.toml:12: 'board.undo': 'ctrl+lft' is not a key name",
        'config.toml:13: \'board.move_next\': give the keys as text, e.g. "ctrl+l" or "ctrl+l,L"',
    ]


def test_keys_are_shown_each_as_itself() -> None:
    assert [key_display(k) for k in ("shift+right", "L", "ctrl+l", "question_mark", "space")] == [
        "⇧→",
        "L",
        "^l",
        "?",
        "␣",
    ]
    assert is_key_name("?") and is_key_name("f5") and is_key_name("alt+shift+up")
    assert not is_key_name("ctrl+") and not is_key_name("hyperspace")


def test_settings_read_the_table_nested_or_dotted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config(tmp_path, monkeypatch, '"board.move_next" = "ctrl+l"\nleads.call = "C"\n')
    assert load_settings().keymap == {"board.move_next": "ctrl+l", "leads": {"call": "C"}}


# --- the app ---------------------------------------------------------------------------------------

KeyedApp = Callable[[str], tuple[SalesEngineApp, Path]]


@pytest.fixture
def keyed(
    engine: Engine,
    clock: FixedClock,
    desk: Desk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> KeyedApp:
    """The app (as the manager) with this [keymap] table in its settings file."""

    def make(keymap: str) -> tuple[SalesEngineApp, Path]:
        path = config(tmp_path, monkeypatch, keymap)
        return SalesEngineApp(app_context(engine, clock, desk.manager)), path

    return make


def help_rows(app: SalesEngineApp) -> list[tuple[str, str]]:
    from salesengine_tui.widgets.safe_table import SafeTable

    table = app.screen.query_one("#help-keys", SafeTable)
    return [
        (str(table.get_row_at(i)[0]).strip(), str(table.get_row_at(i)[1]).strip())
        for i in range(table.row_count)
    ]


async def test_rebinding_changes_what_the_key_does(keyed: KeyedApp) -> None:
    app, _ = keyed('"board.move_next" = "ctrl+l"\n"go.tasks" = "ctrl+y"\n')
    engine = app.ctx.engine
    new = stages_of_new(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.keymap_problems == []
        card = app.screen.current_card
        assert card is not None and card.stage_id == new

        await pilot.press("shift+right")  # the old key: nothing moves
        await settle(pilot)
        assert stage_of(engine, card.id) == new

        await pilot.press("ctrl+l")
        await settle(pilot)
        assert stage_of(engine, card.id) != new

        # `?` shows the keys as they are now, each thing done once.
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(app)
        moves = [key for key, does in rows if does == "Move →"]
        assert len(moves) == 1 and "^l" in moves[0].split(" / ")
        assert "⇧→" not in moves[0]
        assert ("^y", "Tasks") in rows
        await pilot.press("escape")

        await pilot.press("6")  # its old key does nothing now
        await pilot.pause()
        assert app.current_mode == "pipeline"
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert app.current_mode == "tasks"
        header_tab = app.screen.query_one("#tab-tasks", Static)
        assert str(header_tab.render()).startswith("^y")


def stages_of_new(engine: Engine) -> object:
    with Session(engine) as session:
        return stages_of(session, "Residential Replacements")["New"].id


def stage_of(engine: Engine, estimate_id: object) -> object:
    with Session(engine) as session:
        return session.exec(select(Estimate.stage_id).where(Estimate.id == estimate_id)).one()


async def test_bad_entries_are_toasted_and_the_rest_apply(keyed: KeyedApp) -> None:
    app, path = keyed('"board.mvoe_next" = "ctrl+l"\n"board.undo" = "q"\n"go.tasks" = "ctrl+y"\n')
    assert app.keymap_problems == [
        f"{path}:5: unknown key id 'board.mvoe_next' (did you mean 'board.move_next'?)",
        f"{path}:6: 'q' for 'board.undo' is already 'app.quit' (Quit) on Pipeline; ignored",
    ]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        toast = "\n".join(n.message for n in app._notifications)
        assert f"{path.name}:5: unknown key id 'board.mvoe_next'" in toast
        assert f"{path.name}:6: 'q' for 'board.undo'" in toast
        await pilot.press("ctrl+y")  # the sound entry applies
        await settle(pilot)
        assert app.current_mode == "tasks"


async def test_palette_names_the_users_keys(keyed: KeyedApp) -> None:
    app, _ = keyed('"leads.call" = "C"\n"go.leads" = "ctrl+l"\n')
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert app.current_mode == "leads"
        for typed, shown in (("Call the lead", "Quick Call (key C)"), ("Go to Leads", "key ^l")):
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.press(*typed)
            palette = app.screen
            await wait_until(
                pilot,
                lambda p=palette, s=shown: (
                    s in str(p.query_one("CommandList").get_option_at_index(0).prompt)
                ),
                what=f"{shown!r} in the palette",
            )
            await pilot.press("escape")
            await pilot.pause()


# --- the command line ------------------------------------------------------------------------


def test_salesengine_keys_lists_defaults_and_current_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config(tmp_path, monkeypatch, '"board.move_next" = "ctrl+l"\n')
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["keys"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.split()[:1] == ["board.move_next"])
    assert line.split()[1:5] == ["Move", "→", "⇧→", "^l"]
    assert any(line.split()[:1] == ["leads.call"] for line in out.splitlines())


def test_salesengine_keys_check_reports_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(tmp_path, monkeypatch, '"board.move_next" = "ctrl+l"\n"leads.cal" = "C"\n')
    assert main(["keys", "--check"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"salesengine: keymap: {path}:6: unknown key id 'leads.cal' (did you mean 'leads.call'?)\n"
    )
    config(tmp_path, monkeypatch, '"board.move_next" = "ctrl+l"\n')
    assert main(["keys", "--check"]) == 0
    assert "1 rebound, no problems" in capsys.readouterr().out
