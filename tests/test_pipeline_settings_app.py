"""Pipeline settings in the real app: a rep is told why not; a manager edits a stage, adds one,
reorders and is stopped from deleting a stage that holds estimates; each checked in the
database."""

from __future__ import annotations

from factories import Desk, app_context, stages_of
from pilot_helpers import settle, wait_until
from sqlalchemy import Engine
from sqlmodel import Session

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.deals import pipeline_admin
from salesengine_tui.screens.pipeline_settings import PipelineSettingsScreen, StageForm

SIZE = (120, 40)


def stage_rows(engine: Engine, pipeline_id) -> list[tuple[str, int, int | None]]:
    with Session(engine) as s:
        return [
            (x.name, x.probability, x.rotting_days) for x in pipeline_admin.stages(s, pipeline_id)
        ]


async def test_a_rep_cannot_open_pipeline_settings(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        assert not isinstance(app.screen, PipelineSettingsScreen)
        assert any("Only managers may edit pipelines" in n.message for n in app._notifications)


async def test_a_manager_edits_adds_reorders_and_is_stopped(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PipelineSettingsScreen)
        pid = screen.pipeline_id
        before = stage_rows(engine, pid)
        assert before[0][0] == "New"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, StageForm)
        await pilot.press("tab", "ctrl+u", *"150", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, StageForm)  # refused, with the reason
        await pilot.press("ctrl+u", *"15", "tab", "ctrl+u", *"9", "ctrl+s")
        await settle(pilot)
        assert stage_rows(engine, pid)[0] == ("New", 15, 9)
        await pilot.press("a", *"Survey [bold]", "enter")
        await settle(pilot)
        assert [r[0] for r in stage_rows(engine, pid)][:2] == ["New", "Survey [bold]"]
        await pilot.press("J")  # the cursor is on the new stage: one place later
        await settle(pilot)
        assert [r[0] for r in stage_rows(engine, pid)][1:3] == [before[1][0], "Survey [bold]"]
        await pilot.press("up", "up", "d")  # New holds estimates
        await settle(pilot)
        assert any("holds 2 estimates" in n.message for n in app._notifications)
        assert stage_rows(engine, pid)[0][0] == "New"
        await pilot.press("p")  # the next pipeline
        await settle(pilot)
        with Session(engine) as s:
            commercial = stages_of(s, "Commercial Contracts")["Qualified"].pipeline_id
        assert screen.pipeline_id == commercial
        assert "Qualified" in [x.name for x in screen.stages]
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, PipelineSettingsScreen)


async def test_a_manager_reassigns_a_deal_on_the_board(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    from sqlalchemy import select

    from salesengine_tui.db.models import Estimate
    from salesengine_tui.screens.picker import Picker

    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = app.screen.current_lane.current
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        names = [str(label) for label, _ in app.screen.choices]
        await pilot.press(*["down"] * names.index("Sam Ortiz"), "enter")
        await settle(pilot)
    with Session(engine) as s:
        owner = s.execute(select(Estimate.owner_id).where(Estimate.id == card.id)).scalar_one()
    assert owner == desk.rep.id
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert not isinstance(app.screen, Picker)
        assert any(
            "Only managers may reassign customers or deals" in n.message for n in app._notifications
        )


async def test_screen_keys_are_in_the_palette_too(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    from textual.command import CommandPalette

    from salesengine_tui.screens.text_prompt import TextPrompt

    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"add a stage after")
        palette = app.screen
        await wait_until(
            pilot,
            lambda: (
                "Add a stage after this one"
                in str(palette.query_one("CommandList").get_option_at_index(0).prompt)
            ),
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TextPrompt))


async def test_deleting_an_empty_stage_asks_first(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    from salesengine_tui.screens.confirm import ConfirmDialog

    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        pid = app.screen.pipeline_id
        await pilot.press("a", *"Survey", "enter")  # an empty stage, the cursor on it
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")  # kept
        await settle(pilot)
        assert "Survey" in [r[0] for r in stage_rows(engine, pid)]
        await pilot.press("d", "y")
        await settle(pilot)
        assert "Survey" not in [r[0] for r in stage_rows(engine, pid)]
