"""Make the README's screenshots: demo data (seed 42, a fixed clock) at 120x40.

python docs/screenshot.py          # writes docs/<section>.svg for each section
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from salesengine_tui.access.users import Actor, get_by_login
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db import migrate
from salesengine_tui.db.demo import seed_demo
from salesengine_tui.db.engine import make_engine, session_scope
from salesengine_tui.db.scratch import scratch_cluster
from salesengine_tui.usecases.context import AppContext

HERE = Path(__file__).parent
CLOCK = FixedClock(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
SHOTS = {"1": "pipeline", "2": "leads", "3": "segments", "4": "dashboard"}


async def shoot(ctx: AppContext) -> None:
    app = SalesEngineApp(ctx)
    async with app.run_test(size=(120, 40)) as pilot:
        for key, name in SHOTS.items():
            await pilot.press(key)
            for _ in range(2):  # a section's load, then what its widgets fetch
                await app.workers.wait_for_complete()
                await pilot.pause()
            app.save_screenshot(str(HERE / f"{name}.svg"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, scratch_cluster(Path(tmp)) as cluster:
        engine = make_engine(cluster.url(cluster.create()))
        migrate.upgrade(engine)
        seed_demo(engine, customers=5000, seed=42, clock=CLOCK)
        with session_scope(engine) as session:
            actor = Actor.of(get_by_login(session, "demo"))
        # No live-update listener: it runs until the app ends, and we wait for workers.
        settings = load_settings(live_updates=False)
        asyncio.run(shoot(AppContext(engine, CLOCK, settings, actor)))
        engine.dispose()


if __name__ == "__main__":
    main()
