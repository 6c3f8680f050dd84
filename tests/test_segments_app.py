"""The segment builder and the blast flow in the real app through Pilot: the plan's example built
with the keyboard, the text form round trip, invalid values, saving and loading, and a blast
from preview to queued rows (dry-run numbers checked against the database)."""

from __future__ import annotations

from factories import FIXED_NOW, Desk
from pilot_helpers import settle, wait_until
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session
from test_app_shell import rows
from test_blasts import SETTINGS
from test_blasts import seed as seed_blast
from test_segments import seed
from textual.widgets import Input, OptionList, Static

from salesengine_tui.access.users import Actor
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import Blast, EmailOutbox, Segment, User
from salesengine_tui.marketing import blasts, segments
from salesengine_tui.screens.blast import BlastScreen
from salesengine_tui.screens.condition_form import ConditionForm
from salesengine_tui.screens.picker import Picker
from salesengine_tui.screens.text_prompt import TextPrompt
from salesengine_tui.usecases.context import AppContext

SIZE = (120, 40)
PLAN = "equipment.age > 10 and last_service > 6mo"


def make_app(engine: Engine, clock: FixedClock, user: User) -> SalesEngineApp:
    return SalesEngineApp(
        AppContext(engine=engine, clock=clock, settings=SETTINGS, actor=Actor.of(user))
    )


def text_form(app: SalesEngineApp) -> str:
    return app.screen.query_one("#segment-text", Input).value


def row_labels(app: SalesEngineApp) -> list[str]:
    options = app.screen.query_one("#segment-rows", OptionList)
    labels = (str(options.get_option_at_index(i).prompt) for i in range(options.option_count))
    return list(labels)


def shown(app: SalesEngineApp, selector: str) -> str:
    """What a widget draws, as text (wrapped lines joined with a space)."""
    widget = app.screen.query_one(selector, Static)
    lines = [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]
    return " ".join(line for line in lines if line)


async def add_condition(pilot, field: str, op: str, value: str) -> None:
    await pilot.press("a")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ConditionForm)
    names = list(segments.FIELDS)
    await pilot.press(*["down"] * names.index(field), "enter")
    ops = segments.ALLOWED[segments.FIELDS[field].kind]
    await pilot.press(*["down"] * ops.index(op), "enter")
    await pilot.press(*value, "enter")
    await settle(pilot)


async def type_segment(pilot, source: str) -> None:
    await pilot.press("t", "ctrl+u", *source, "enter")
    await settle(pilot)


async def test_the_plans_example_with_the_keyboard(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed(engine, desk)
    app = make_app(engine, clock, desk.manager)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await add_condition(pilot, "equipment.age", ">", "10")
        await add_condition(pilot, "last_service", ">", "6mo")
        assert text_form(app) == PLAN
        assert row_labels(app) == [
            "Match ALL of",
            "  • equipment.age > 10",
            "  • last_service > 6mo",
        ]
        with Session(engine) as s:
            expected = segments.count(s, segments.parse(PLAN), now=FIXED_NOW)
        assert expected == 1
        assert shown(app, "#segment-count").startswith("1 customer match")
        assert rows(app, "#segment-preview") == [["Old Unit Owner", "old@example.com", "lead"]]
        # o switches the group to ANY; the text follows, and so does the count
        await pilot.press("o")
        await settle(pilot)
        assert text_form(app) == "equipment.age > 10 or last_service > 6mo"
        with Session(engine) as s:
            either = segments.count(s, segments.parse(text_form(app)), now=FIXED_NOW)
        assert either > 1  # never serviced counts as "a long time ago"
        assert shown(app, "#segment-count").startswith(f"{either} customers match")
        # d removes the focused row (the last condition)
        await pilot.press("d")
        await settle(pilot)
        assert text_form(app) == "equipment.age > 10"


async def test_text_form_round_trip_and_errors(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed(engine, desk)
    app = make_app(engine, clock, desk.manager)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await type_segment(pilot, "(city = Dallas or city = 'Fort Worth') and has_email = yes")
        assert row_labels(app) == [
            "Match ALL of",
            "  • has_email = yes",
            "  └ match ANY of",
            "    • city = Dallas",
            "    • city = 'Fort Worth'",
        ] or row_labels(app) == [
            "Match ALL of",
            "  └ match ANY of",
            "    • city = Dallas",
            "    • city = 'Fort Worth'",
            "  • has_email = yes",
        ]
        assert shown(app, "#segment-count").startswith("1 customer match")
        before = row_labels(app)
        await type_segment(pilot, "equipment.age > ten")
        error = shown(app, "#segment-error")
        assert "'ten' is not a number" in error
        assert error.index("^") == len("Segment ") + 1 + len("equipment.age > ")
        assert row_labels(app) == before  # the builder keeps the last good segment
        # the builder rewrites the text: edit a row and the text follows
        await pilot.press("escape", "ctrl+u")
        await type_segment(pilot, "status = lead")
        await pilot.press("down", "enter")  # edit the condition
        await pilot.pause()
        assert isinstance(app.screen, ConditionForm)
        await pilot.press("tab", "tab", "ctrl+u", *"churned", "enter")
        await settle(pilot)
        assert text_form(app) == "status = churned"


async def test_an_invalid_value_keeps_the_form_open(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = make_app(engine, clock, desk.manager)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        names = list(segments.FIELDS)
        await pilot.press(*["down"] * names.index("equipment.age"), "enter", "enter")
        await pilot.press(*"ten", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConditionForm)
        assert "'ten' is not a number" in shown(app, "#condition-error")
        await pilot.press("escape")
        await settle(pilot)
        assert text_form(app) == "" and row_labels(app) == ["Match ALL of"]
        assert rows(app, "#sources")[-1][0] == "All customers"


async def test_save_open_rename_copy_delete(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    seed(engine, desk)
    app = make_app(engine, clock, desk.manager)

    def names() -> list[str]:
        with Session(engine) as s:
            return sorted(s.execute(select(Segment.name)).scalars())

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await type_segment(pilot, PLAN)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"Old units [bold]x[/]", "enter")
        await settle(pilot)
        assert names() == ["Old units [bold]x[/]"]
        assert "Old units [bold]x[/]" in shown(app, "#section-title")
        await pilot.press("N")
        await settle(pilot)
        assert text_form(app) == ""
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        await pilot.press("enter")
        await settle(pilot)
        assert text_form(app) == PLAN
        await pilot.press("n", "ctrl+u", *"Old units", "enter")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert names() == ["Old units", "Old units (copy)"]
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("enter")  # "Delete" is the first choice
        await settle(pilot)
        assert names() == ["Old units"]
        # saving a new segment under a taken name is refused with the reason
        await pilot.press("N")
        await type_segment(pilot, "status = lead")
        await pilot.press("s", *"old UNITS", "enter")
        await settle(pilot)
        assert names() == ["Old units"]
        assert any("already exists" in n.message for n in app._notifications)


async def test_blast_from_preview_to_queued_rows(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_blast(engine)
    app = make_app(engine, clock, desk.manager)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await type_segment(pilot, "lead_source = 'Blast test'")
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BlastScreen)
        with Session(engine) as s:
            dry = blasts.dry_run(s, segments.parse("lead_source = 'Blast test'"), now=FIXED_NOW)
        numbers = shown(app, "#blast-numbers")
        assert f"{dry.recipients}  will get it" in numbers
        for reason, label in blasts.EXCLUSIONS.items():
            assert f"{dry.excluded[reason]}  left out: {label}" in numbers
        head = shown(app, "#blast-preview-head")
        assert head.startswith("Preview 1 of 3 · To: Ann Good <ann@example.com>")
        await pilot.press("ctrl+n")
        assert "Bob [bold]Markup[/] [@click=app.quit]" in shown(app, "#blast-preview-head")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        await pilot.press(*"4", "enter")
        await pilot.pause()
        assert "type 3" in shown(app, "#prompt-error")
        await pilot.press("backspace", "3", "enter")
        await settle(pilot)
        await wait_until(pilot, lambda: "0 sent" in shown(app, "#blast-progress-text"))
        assert "3 waiting for the sender" in shown(app, "#blast-progress-text")
        with Session(engine) as s:
            assert s.execute(select(func.count()).select_from(EmailOutbox)).scalar_one() == 3
            assert s.execute(select(func.count()).select_from(Blast)).scalar_one() == 1
            s.execute(text("UPDATE email_outbox SET status = 'sent'"))
            s.commit()
        await wait_until(pilot, lambda: "3 sent" in shown(app, "#blast-progress-text"))
        assert "done" in shown(app, "#blast-progress-text")
        # back on the segments home, the blast is listed with how far it has gone
        await pilot.press("escape", "N")
        await settle(pilot)
        listed = rows(app, "#blasts")
        assert len(listed) == 1 and listed[0][3:] == [
            "3 / 0 / 0",
            "✓— ✗— ⚑— ⊘—",
        ]  # "To" left out first
        assert listed[0][1].startswith("{first_name}, is your")


async def test_a_rep_is_told_why_not(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    seed_blast(engine)
    app = make_app(engine, clock, desk.rep)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await type_segment(pilot, "lead_source = 'Blast test'")
        await pilot.press("b")
        await settle(pilot)
        assert not isinstance(app.screen, BlastScreen)
        assert any("Only managers may send an email blast" in n.message for n in app._notifications)
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(EmailOutbox)).scalar_one() == 0
