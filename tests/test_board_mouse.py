"""The board and the mouse, through Pilot's mouse events and on to PostgreSQL: a card dragged
to another lane moves as `shift+→` moves it (history, version, what the stage sets off, the
Lost reason, undo); `esc` and a release outside another lane change nothing; a click selects, a
double-click opens the deal, the wheel scrolls a lane by whole cards. And the lanes' layout:
whole lanes only, at 80 and 120 columns; a new order or filter starts each lane at its top."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from factories import Desk, add_customer, add_estimate, days_before, stages_of
from pilot_helpers import settle
from sqlalchemy import Engine
from sqlmodel import Session
from test_board_app import history_count, lane, make_app, stage_of
from textual import events
from textual.pilot import Pilot
from textual.widget import Widget

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import Customer, CustomerStatus
from salesengine_tui.screens.deal import DealScreen
from salesengine_tui.screens.lost_reason import LostReasonScreen
from salesengine_tui.widgets.board_column import BoardColumn
from salesengine_tui.widgets.board_lanes import LANE_MIN, BoardLanes
from salesengine_tui.widgets.lane_strip import LaneStrip, strip_layout

WIDE, NARROW = (120, 40), (80, 24)
CARD = (4, 1)  # a cell on the first card of a lane: its customer's name
SECOND_CARD = (4, 6)  # on the second card (a card is five lines: four and a space)


@asynccontextmanager
async def board_open(
    engine: Engine, clock: FixedClock, desk: Desk, size: tuple[int, int] = WIDE
) -> AsyncIterator[tuple[SalesEngineApp, Pilot[None]]]:
    """The app on the board, loaded, with toasts on."""
    app = make_app(engine, clock, desk)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        yield app, pilot


def column(app: SalesEngineApp, name: str) -> BoardColumn:
    return next(c for c in app.screen.query(BoardColumn) if c.column.name == name)


def board(app: SalesEngineApp) -> BoardLanes:
    return app.screen.query_one(BoardLanes)


def title(app: SalesEngineApp) -> str:
    return str(app.screen.query_one("#section-title").render())


def header(app: SalesEngineApp, name: str) -> str:
    box = column(app, name).parent
    assert box is not None
    return str(box.query_one(".lane-header").render())


def toasts(app: SalesEngineApp) -> str:
    return "".join(str(t.render()) for t in app.screen.query("Toast"))


async def on_strip(pilot: Pilot[None], name: str) -> tuple[LaneStrip, tuple[int, int]]:
    """The strip and the offset (in it) of a lane's name on it."""
    strip = pilot.app.screen.query_one(LaneStrip)
    drawn = strip.layout_now()
    names = [lane.column.name for lane in board(pilot.app).lanes]
    start = next(s for s, _, index in drawn.names if names[index] == name)
    padding = strip.content_region.x - strip.region.x
    return strip, (padding + start + 1, 0)


async def drag_to(pilot: Pilot[None], source: Widget, target: Widget, at=(6, 3)) -> None:
    """Press on `source`'s first card and move the pointer over `target`."""
    await pilot.mouse_down(source, offset=CARD)
    await pilot.hover(target, offset=at)


# --- drag and drop ------------------------------------------------------------------------


async def test_drag_to_a_lane_moves_the_card_and_undo_puts_it_back(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    async with board_open(engine, clock, desk) as (app, pilot):
        new, visit = column(app, "New"), column(app, "Site Visit Scheduled")
        peggy = new.item(0)
        assert peggy is not None and peggy.customer_name == "Peggy Hill"
        await drag_to(pilot, new, visit)
        # Where it would land: the lane outlined, its header and the title line say so.
        assert visit.parent is not None and visit.parent.has_class("-drop-target")
        assert "Drop here" in header(app, "Site Visit Scheduled")
        assert "drop: move to Site Visit Scheduled" in title(app) and "esc cancels" in title(app)
        await pilot.mouse_up(visit, offset=(6, 3))
        await settle(pilot)
        assert stage_of(engine, peggy.id)[:2] == ("Site Visit Scheduled", peggy.version + 1)
        assert history_count(engine, peggy.id) == 2
        assert "Peggy Hill: New → Site Visit Scheduled" in toasts(app)
        # The lane is itself again; the cursor followed the card, as after shift+→.
        assert not visit.parent.has_class("-drop-target")
        assert "Drop here" not in header(app, "Site Visit Scheduled")
        assert "dragging" not in title(app) and "drop:" not in title(app)
        assert lane(app) is visit and lane(app).current.id == peggy.id
        await pilot.press("u")  # the same undo as a keyboard move
        await settle(pilot)
        assert stage_of(engine, peggy.id)[0] == "New"
        assert history_count(engine, peggy.id) == 3


async def test_drag_to_won_on_the_strip_runs_what_won_sets_off(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    """Won is off screen at 120 columns: its name on the lane strip is the target. Entering
    Won makes the lead an active customer, as a move by keys does."""
    async with board_open(engine, clock, desk) as (app, pilot):
        new = column(app, "New")
        await pilot.press("j")  # Hank Hill, a lead
        hank = new.current
        assert hank is not None and hank.customer_name == "Hank Hill"
        strip, at = await on_strip(pilot, "Won")
        await pilot.mouse_down(new, offset=SECOND_CARD)
        await pilot.hover(strip, offset=at)
        assert "▼Won" in str(strip.render())
        assert "drop: move to Won" in title(app)
        await pilot.mouse_up(strip, offset=at)
        await settle(pilot)
        assert stage_of(engine, hank.id)[0] == "Won"
        with Session(engine) as s:
            assert s.get(Customer, hank.customer_id).status == CustomerStatus.active
        assert "customer is now active" in toasts(app)
        assert lane(app).column.name == "Won" and lane(app).current.id == hank.id
        assert board(app).is_shown(board(app).lanes.index(lane(app)))  # brought into view


async def test_drop_on_lost_asks_the_reason_first(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    async with board_open(engine, clock, desk) as (app, pilot):
        new = column(app, "New")
        peggy = new.item(0)
        strip, at = await on_strip(pilot, "Lost")
        await drag_to(pilot, new, strip, at)
        await pilot.mouse_up(strip, offset=at)
        await pilot.pause()
        assert isinstance(app.screen, LostReasonScreen)
        await pilot.press("escape")  # no reason: no move
        await settle(pilot)
        assert stage_of(engine, peggy.id) == ("New", peggy.version, None)
        strip, at = await on_strip(pilot, "Lost")
        await drag_to(pilot, new, strip, at)
        await pilot.mouse_up(strip, offset=at)
        await pilot.pause()
        await pilot.press("enter")  # the first configured reason
        await settle(pilot)
        reason = app.ctx.settings.lost_reasons[0]
        assert stage_of(engine, peggy.id) == ("Lost", peggy.version + 1, reason)


async def test_esc_during_a_drag_cancels_it(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    async with board_open(engine, clock, desk) as (app, pilot):
        new, proposal = column(app, "New"), column(app, "Proposal Sent")
        peggy = new.item(0)
        await drag_to(pilot, new, proposal)
        assert proposal.parent is not None and proposal.parent.has_class("-drop-target")
        await pilot.press("escape")
        await pilot.pause()
        assert not proposal.parent.has_class("-drop-target")
        assert "Drop here" not in header(app, "Proposal Sent")
        assert "esc cancels" not in title(app) and "drag cancelled" in toasts(app)
        assert app.mouse_captured is None
        # The release that follows is no drop.
        await pilot.mouse_up(proposal, offset=(6, 3))
        await settle(pilot)
        assert stage_of(engine, peggy.id)[:2] == ("New", peggy.version)
        assert history_count(engine, peggy.id) == 1


async def test_release_outside_a_lane_or_on_its_own_changes_nothing(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    async with board_open(engine, clock, desk) as (app, pilot):
        new, visit = column(app, "New"), column(app, "Site Visit Scheduled")
        peggy = new.item(0)
        await drag_to(pilot, new, visit)
        await pilot.hover("#section-title", offset=(2, 0))  # off the lanes: no target
        assert visit.parent is not None and not visit.parent.has_class("-drop-target")
        assert "drop on another lane to move" in title(app)
        await pilot.mouse_up("#section-title", offset=(2, 0))
        await settle(pilot)
        assert "dropped outside another lane" in toasts(app)
        # Out and back onto its own lane: released there, nothing moves either.
        await drag_to(pilot, new, visit)
        await pilot.hover(new, offset=(6, 12))
        assert not any(c.parent.has_class("-drop-target") for c in board(app).lanes)
        await pilot.mouse_up(new, offset=(6, 12))
        await settle(pilot)
        assert stage_of(engine, peggy.id)[:2] == ("New", peggy.version)
        assert history_count(engine, peggy.id) == 1
        assert app.mouse_captured is None


async def test_dragging_over_a_strip_arrow_brings_the_next_lane_in(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    async with board_open(engine, clock, desk) as (app, pilot):
        lanes = board(app)
        assert (lanes.first, lanes.shown) == (0, 3)
        strip = app.screen.query_one(LaneStrip)
        start, _, _ = next(a for a in strip.layout_now().arrows if a[2] == 1)
        padding = strip.content_region.x - strip.region.x
        await drag_to(pilot, column(app, "New"), strip, (padding + start + 1, 0))
        assert lanes.first == 1
        await pilot.press("escape")


# --- click, double-click, wheel ------------------------------------------------------------


async def test_click_selects_and_double_click_opens_the_deal(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    async with board_open(engine, clock, desk) as (app, pilot):
        new, proposal = column(app, "New"), column(app, "Proposal Sent")
        await pilot.click(new, offset=SECOND_CARD)
        assert lane(app) is new and new.cursor == 1
        await pilot.click(proposal, offset=CARD)
        assert lane(app) is proposal and proposal.current.customer_name == "Bill Dauterive"
        await pilot.click(new, offset=SECOND_CARD, times=2)
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)  # as `d`
        assert app.screen.read is not None
        assert app.screen.read.deal.customer_name == "Hank Hill"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, DealScreen)
        # Nothing moved along the way.
        assert stage_of(engine, new.item(1).id)[0] == "New"


def add_cards(engine: Engine, desk: Desk, count: int) -> None:
    """`count` more deals in New, each a day older than the last."""
    with Session(engine) as s:
        new = stages_of(s, "Residential Replacements")["New"]
        for i in range(count):
            customer = add_customer(s, f"Customer {i:02d}", n=200 + i)
            add_estimate(s, customer, new, 1000 + i, entered_at=days_before(10 + i))
        s.commit()


def wheel(widget: Widget, kind: type[events.MouseEvent], *, shift: bool = False) -> None:
    widget.post_message(kind(widget, 4, 4, 0, 0, 0, shift, False, False))


async def test_wheel_scrolls_a_lane_by_whole_cards_and_shift_wheel_the_lanes(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    add_cards(engine, desk, 20)
    async with board_open(engine, clock, desk) as (app, pilot):
        new = column(app, "New")
        for _ in range(3):
            wheel(new, events.MouseScrollDown)
        await settle(pilot)
        assert new.scroll_offset.y == 3 * BoardColumn.ITEM_HEIGHT  # three cards, none cut
        wheel(new, events.MouseScrollUp)
        await pilot.pause()
        assert new.scroll_offset.y == 2 * BoardColumn.ITEM_HEIGHT
        await pilot.press("G")  # the last card: the end of the lane is a whole card too
        await pilot.pause()
        assert new.scroll_offset.y > 0 and new.scroll_offset.y % BoardColumn.ITEM_HEIGHT == 0
        for _ in range(3):
            wheel(new, events.MouseScrollDown)  # past the end: nothing more
        await pilot.pause()
        assert new.scroll_offset.y == new.max_scroll_y
        assert new.scroll_offset.y % BoardColumn.ITEM_HEIGHT == 0
        wheel(new, events.MouseScrollDown, shift=True)  # sideways: a lane along
        await pilot.pause()
        assert board(app).first == 1
        wheel(new, events.MouseScrollUp, shift=True)
        await pilot.pause()
        assert board(app).first == 0


# --- layout --------------------------------------------------------------------------------


def assert_whole_lanes(app: SalesEngineApp) -> None:
    """Every lane on screen is whole, at least LANE_MIN wide; the first starts at the left."""
    width = app.screen.size.width
    shown = [box for box in board(app).boxes if box.display]
    assert shown
    assert shown[0].region.x == 0
    for box in shown:
        assert box.region.width >= LANE_MIN
        assert box.region.right <= width


async def test_whole_lanes_at_120_columns(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    async with board_open(engine, clock, desk) as (app, pilot):
        assert board(app).shown == 3
        assert_whole_lanes(app)
        shown = [box for box in board(app).boxes if box.display]
        assert shown[-1].region.right == WIDE[0]  # the lanes fill the width: nothing clipped
        await pilot.press("l", "l", "l")  # to Negotiation: one lane along, whole
        await pilot.pause()
        assert board(app).first == 1
        assert_whole_lanes(app)
        assert "Negotiation" in str(app.screen.query_one(LaneStrip).render())


async def test_whole_lanes_at_80_columns_to_the_last(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    async with board_open(engine, clock, desk, NARROW) as (app, pilot):
        assert board(app).shown == 2
        assert_whole_lanes(app)
        for expected in ["Site Visit Scheduled", "Proposal Sent", "Negotiation", "Won", "Lost"]:
            await pilot.press("l")
            await pilot.pause()
            assert lane(app).column.name == expected
            assert lane(app).parent.display  # the focused lane is in view, whole
            marked = [box for box in board(app).boxes if box.has_class("-current")]
            assert marked == [lane(app).parent]  # its header, and only its, marked
            assert_whole_lanes(app)
        assert board(app).first == 4
        strip = str(app.screen.query_one(LaneStrip).render())
        assert strip.startswith("◀") and "▶" not in strip  # more that way, none this way
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        assert board(app).shown == 3 and lane(app).column.name == "Lost"
        assert lane(app).parent.display
        assert_whole_lanes(app)


async def test_a_new_order_or_filter_starts_lanes_at_the_top(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    add_cards(engine, desk, 20)
    async with board_open(engine, clock, desk) as (app, pilot):
        new = column(app, "New")
        await pilot.press(*["j"] * 15)
        await settle(pilot)
        assert new.cursor == 15 and new.scroll_offset.y > 0
        await pilot.press("s")  # another order
        await settle(pilot)
        assert new.cursor == 0 and new.scroll_offset.y == 0
        await pilot.press(*["j"] * 15, "o")  # only mine (Dana's: all of the seeded ones)
        await settle(pilot)
        assert new.cursor == 0 and new.scroll_offset.y == 0
        await pilot.press(*["j"] * 3, "escape")  # the filter cleared
        await settle(pilot)
        assert new.cursor == 0 and new.scroll_offset.y == 0


def test_the_strip_names_every_lane_and_cuts_with_an_ellipsis() -> None:
    names = ["New", "Site Visit Scheduled", "Proposal Sent", "Negotiation", "Won", "Lost"]
    wide = strip_layout(names, 2, 2, 78).content.plain
    assert wide == "◀ New · Site Visit Scheduled │ Proposal Sent · Negotiation │ Won · Lost ▶"
    narrow = strip_layout(names, 2, 2, 60).content.plain
    assert len(narrow) <= 60 and "…" in narrow and "Won" in narrow
    tiny = strip_layout(names, 2, 2, 40).content.plain
    assert tiny.startswith("◀ 2 more │") and tiny.endswith("│ 2 more ▶") and len(tiny) <= 40
    dropping = strip_layout(names, 0, 2, 78, drop=4)
    assert "▼Won" in dropping.content.plain
    start, end, index = next(n for n in dropping.names if n[2] == 4)
    assert dropping.content.plain[start:end] == "▼Won" and index == 4
