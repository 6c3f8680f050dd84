"""An open board shows the upsell sync's new opportunities as they are made, without `r`: the
sync's NOTIFY reloads the pipeline, the new card appears in the first stage and the cursor
stays on the card it was on."""

from __future__ import annotations

import asyncio

from factories import Desk
from pilot_helpers import wait_listening, wait_until
from sqlalchemy import Engine
from test_board_app import SIZE, lane, make_app
from test_upsell import close_ticket, made, sync

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.widgets.board_column import BoardColumn


def lane_text(app: SalesEngineApp, name: str) -> str:
    column = next(c for c in app.screen.query(BoardColumn) if c.column.name == name)
    return "\n".join(column.render_line(y).text.rstrip() for y in range(column.size.height))


def new_lane(app: SalesEngineApp) -> BoardColumn:
    return next(c for c in app.screen.query(BoardColumn) if c.column.name == "New")


async def test_an_open_board_shows_a_new_opportunity_after_a_sync(
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
        assert hank.customer_name == "Hank Hill" and new_lane(app).count == 2
        assert "Upsell Customer 1" not in lane_text(app, "New")

        close_ticket(engine, desk, owner=desk.rep)
        report = await asyncio.to_thread(sync, engine)  # the jobs runner's sync, elsewhere
        assert made(report) == (1, 2, 1)

        await wait_until(pilot, lambda: new_lane(app).count == 3, seconds=5, what="the new card")
        await wait_until(pilot, lambda: "Upsell Customer 1" in lane_text(app, "New"))
        # Oldest in the stage first: the new card is last, and the cursor stayed on Hank.
        assert lane(app).column.name == "New" and lane(app).current.id == hank.id
        assert lane(app).cursor == 1
