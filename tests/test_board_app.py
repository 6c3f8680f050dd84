"""The board in the real app through Pilot: keys, moves, lost reasons, undo, live updates,
and data that looks like markup. Every step is checked in the database too."""

from __future__ import annotations

from factories import (
    FIXED_NOW,
    Desk,
    add_customer,
    add_estimate,
    add_user,
    app_context,
    days_before,
    stages_of,
)
from pilot_helpers import settle, wait_listening, wait_until
from sqlalchemy import Engine
from sqlmodel import Session, select

from salesengine_tui.access.users import Actor
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import Estimate, EstimateStageHistory, UserRole
from salesengine_tui.deals import board
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.screens.deal import DealScreen
from salesengine_tui.screens.lost_reason import LostReasonScreen
from salesengine_tui.screens.stage_picker import StagePicker
from salesengine_tui.widgets.board_column import BoardColumn

SIZE = (120, 40)


def other_manager(session: Session) -> Actor:
    """A second manager (a rep may move only their own and unassigned deals)."""
    return Actor.of(add_user(session, "mia", name="Mia Park", role=UserRole.manager))


def make_app(engine: Engine, clock: FixedClock, desk: Desk, **settings: object) -> SalesEngineApp:
    ctx = app_context(engine, clock, desk.manager)
    ctx.settings = ctx.settings.model_copy(update=settings)
    return SalesEngineApp(ctx)


def lane(app: SalesEngineApp) -> BoardColumn:
    focused = app.screen.focused
    assert isinstance(focused, BoardColumn)
    return focused


def lane_text(app: SalesEngineApp, name: str) -> list[str]:
    """The lines a lane draws now."""
    column = next(c for c in app.screen.query(BoardColumn) if c.column.name == name)
    return [column.render_line(y).text.rstrip() for y in range(column.size.height)]


def stage_of(engine: Engine, estimate_id) -> tuple[str, int, str | None]:
    with Session(engine) as s:
        est = s.get(Estimate, estimate_id)
        stage = next(
            n for n, st in stages_of(s, "Residential Replacements").items() if st.id == est.stage_id
        )
        return stage, est.version, est.lost_reason


def history_count(engine: Engine, estimate_id) -> int:
    with Session(engine) as s:
        rows = s.exec(
            select(EstimateStageHistory).where(EstimateStageHistory.estimate_id == estimate_id)
        )
        return len(rows.all())


async def test_navigate_columns_and_cards(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    app = make_app(engine, clock, desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert lane(app).column.name == "New"
        # oldest first: Peggy (3 days) above Hank (half a day)
        assert lane(app).current.customer_name == "Peggy Hill"
        await pilot.press("j")
        assert lane(app).current.customer_name == "Hank Hill"
        await pilot.press("down")  # past the end stays on the last card
        assert lane(app).cursor == 1
        await pilot.press("g")
        assert lane(app).cursor == 0
        await pilot.press("G")
        assert lane(app).cursor == 1
        text = "\n".join(lane_text(app, "New"))
        assert "Peggy Hill" in text and "$12,000" in text and "3d in stage" in text
        assert "☎ 1d" in text and "no next step" in text
        await pilot.press("l")
        assert lane(app).column.name == "Site Visit Scheduled"
        await pilot.press("right", "right")
        assert lane(app).column.name == "Negotiation"
        await pilot.press("h", "left")
        assert lane(app).column.name == "Site Visit Scheduled"


async def test_shift_keys_move_cards_and_undo(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = make_app(engine, clock, desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = lane(app).current
        await pilot.press("shift+right")
        await settle(pilot)
        assert stage_of(engine, card.id)[:2] == ("Site Visit Scheduled", card.version + 1)
        # the cursor followed the card
        assert lane(app).column.name == "Site Visit Scheduled"
        assert lane(app).current.id == card.id
        await pilot.press("L")
        await settle(pilot)
        assert stage_of(engine, card.id)[0] == "Proposal Sent"
        await pilot.press("H")
        await settle(pilot)
        assert stage_of(engine, card.id)[0] == "Site Visit Scheduled"
        await pilot.press("u")
        await settle(pilot)
        assert stage_of(engine, card.id)[0] == "Proposal Sent"
        assert history_count(engine, card.id) == 1 + 4  # seeded + three moves + undo
        assert lane(app).current.id == card.id


async def test_m_picks_won_and_lost_needs_reason(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = make_app(engine, clock, desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = lane(app).current
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, StagePicker)
        await pilot.press("escape")
        await pilot.pause()
        assert stage_of(engine, card.id)[0] == "New"
        # to Lost: the picker, then the reason; esc on the reason cancels the whole move
        await pilot.press("m", "end", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LostReasonScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert stage_of(engine, card.id) == ("New", card.version, None)
        # again, with the second configured reason
        await pilot.press("m", "end", "enter")
        await pilot.pause()
        await pilot.press("down", "enter")
        await settle(pilot)
        reason = app.ctx.settings.lost_reasons[1]
        assert stage_of(engine, card.id) == ("Lost", card.version + 1, reason)
        # the last option is free text
        await pilot.press("m", "home", "enter")  # back to New (no reason needed)
        await settle(pilot)
        assert stage_of(engine, card.id)[0] == "New"
        await pilot.press("m", "end", "enter")
        await pilot.pause()
        await pilot.press("end", "enter")
        await pilot.press(*"[b]Chose a cousin[/b]")
        await pilot.press("enter")
        await settle(pilot)
        assert stage_of(engine, card.id)[2] == "[b]Chose a cousin[/b]"


async def test_won_from_the_board_activates_lead(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = make_app(engine, clock, desk)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()
        # New, Site Visit, Proposal, Negotiation, Won, Lost: Won is next to last
        await pilot.press("end", "up", "enter")
        await settle(pilot)
        toast = "".join(str(t.render()) for t in app.screen.query("Toast"))
        assert "customer is now active" in toast


async def test_enter_opens_the_customer_and_d_the_estimate(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = make_app(engine, clock, desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.profile.name == "Peggy Hill"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)  # the deal screen replaced the card detail
        assert app.screen.read is not None
        assert app.screen.read.deal.customer_name == "Peggy Hill"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DealScreen)


async def test_filter_mine_sort_and_escape(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    with Session(engine) as s:
        sam_deal = add_estimate(
            s,
            desk.customers["Dale Gribble"],
            stages_of(s, "Residential Replacements")["New"],
            500,
            owner=desk.rep,
            entered_at=days_before(1),
        )
        sam_deal_id = sam_deal.id
        s.commit()
    app = make_app(engine, clock, desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert lane(app).count == 3
        await pilot.press("slash", *"hank")
        new = next(c for c in app.screen.query(BoardColumn) if c.column.name == "New")
        await wait_until(pilot, lambda: new.count == 1)  # once typing pauses
        await settle(pilot)
        assert new.count == 1 and "filter: hank" in str(
            app.screen.query_one("#section-title").render()
        )
        await pilot.press("enter")
        assert lane(app).current.customer_name == "Hank Hill"
        await pilot.press("escape")
        await settle(pilot)
        assert lane(app).count == 3
        await pilot.press("o")  # only mine: Dana's, not Sam's
        await settle(pilot)
        assert lane(app).count == 2
        await pilot.press("escape", "s")  # by value, largest first
        await settle(pilot)
        assert [lane(app).loaded[i].amount for i in range(3)] == sorted(
            (lane(app).loaded[i].amount for i in range(3)), reverse=True
        )
        assert sam_deal_id in {c.id for c in lane(app).loaded.values()}


async def test_someone_else_moved_it_first(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    app = make_app(engine, clock, desk)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        card = lane(app).current
        with session_scope(engine) as s:  # Mia, another manager, in another terminal
            board.move(
                s,
                other_manager(s),
                card.id,
                expected_version=card.version,
                to_stage_id=stages_of(s, "Residential Replacements")["Negotiation"].id,
                now=FIXED_NOW,
            )
        await pilot.press("shift+right")
        await settle(pilot)
        assert stage_of(engine, card.id)[0] == "Negotiation"  # Mia's move stands
        toast = "".join(str(t.render()) for t in app.screen.query("Toast"))
        assert "Mia Park changed this estimate first" in toast and "Negotiation" in toast
        assert history_count(engine, card.id) == 2
        # the board now shows the card where it is, with the cursor on it
        assert lane(app).column.name == "Negotiation" and lane(app).current.id == card.id


async def test_live_update_from_another_terminal_keeps_cursor(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = make_app(engine, clock, desk, live_updates=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: isinstance(app.screen.focused, BoardColumn) and lane(app).current is not None,
        )
        await pilot.press("j")  # on Hank, the second card of New
        await wait_listening(pilot, app.screen.listening, "board's")
        hank = lane(app).current
        assert hank.customer_name == "Hank Hill"
        with Session(engine) as s:
            peggy = board.page(s, lane(app).column.id, app.screen.view, limit=1)[0]
        with session_scope(engine) as s:  # another terminal moves Peggy, above the cursor
            board.move(
                s,
                other_manager(s),
                peggy.id,
                expected_version=peggy.version,
                to_stage_id=stages_of(s, "Residential Replacements")["Proposal Sent"].id,
                now=FIXED_NOW,
                origin="elsewhere",
            )
        proposal = next(
            c for c in app.screen.query(BoardColumn) if c.column.name == "Proposal Sent"
        )
        await wait_until(pilot, lambda: proposal.count == 2, seconds=5)  # within a second here
        await wait_until(pilot, lambda: lane(app).current is not None)
        assert lane(app).column.name == "New" and lane(app).current.id == hank.id
        assert lane(app).cursor == 0  # Hank moved up when Peggy left


EVIL_NAMES = [
    "[@click=app.quit]Acme",
    "[bold]Bold[/] Co",
    "[/]",
    "Esc\x1b[2J Inc",
    "😀 Emoji Heating",
    "שלום Cooling",
    "X" * 5000,
]


async def test_markup_and_escapes_in_data_render_literally(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    with Session(engine) as s:
        new = stages_of(s, "Residential Replacements")["New"]
        for i, name in enumerate(EVIL_NAMES):
            c = add_customer(s, name, n=100 + i)
            add_estimate(s, c, new, 100 + i, entered_at=days_before(40 - i), title=f"{name} title")
        s.commit()
    app = make_app(engine, clock, desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = []
        for index in range(len(EVIL_NAMES)):
            lane(app).move_to(index)
            await settle(pilot)
            shown.append("\n".join(lane_text(app, "New")))
            await pilot.click(lane(app), offset=(3, 1))  # clicking a name does nothing but select
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("escape")
            await pilot.pause()
        everything = "\n".join(shown)
        assert app.is_running
        assert "[@click=app.quit]Acme" in everything
        assert "[bold]Bold[/] Co" in everything
        assert "Esc␛[2J Inc" in everything and "\x1b" not in everything
        assert "😀 Emoji Heating" in everything and "שלום Cooling" in everything
        assert "XXXX…" in everything


async def test_a_refused_move_says_so(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    """A rep moving a deal of Dana's is told the move was refused, not that a load failed."""
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        card = lane(app).current
        assert card is not None and card.owner_id == desk.manager.id
        await pilot.press("shift+right")
        await settle(pilot)
        titles = [n.title for n in app._notifications]
        text = "\n".join(n.message for n in app._notifications)
        assert "Move refused" in titles and not any("Could not load" in t for t in titles)
        assert "You can't move this deal" in text and "Dana Reyes" in text
        assert stage_of(engine, card.id)[:2] == ("New", card.version)


async def test_move_keys_are_listed_as_themselves(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    """`L` and `H` are bindings of their own, shown as L and H (not as ⇧→ and ⇧← again),
    each with its own id, the same action and description as the arrow beside it."""
    app = make_app(engine, clock, desk)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown: dict[str, set[str]] = {}
        ids: dict[str, set[str]] = {}
        for active in app.screen.active_bindings.values():
            binding = active.binding
            if binding.description in {"Move →", "Move ←"}:
                shown.setdefault(binding.description, set()).add(app.get_key_display(binding))
                ids.setdefault(binding.description, set()).add(str(binding.id))
        assert shown == {"Move →": {"⇧→", "L"}, "Move ←": {"⇧←", "H"}}
        assert ids == {
            "Move →": {"board.move_next", "board.move_next_alt"},
            "Move ←": {"board.move_prev", "board.move_prev_alt"},
        }
