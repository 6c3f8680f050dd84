"""One measured start of the dashboard, in its own process (the board's probe, for the
dashboard section).

    python benchmarks/dashboard_probe.py URL LOGIN STARTED_EPOCH

Runs the app headless at 120x40 on the dashboard, waits for the first full paint (the
figures, the feed and my day on screen, no loading indicator, and the screen refreshed after
that), and prints one JSON line: seconds from STARTED_EPOCH (taken by the parent just before
it started this process) to that paint, and peak RSS.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time


async def dashboard(started: float, url: str, login: str) -> dict[str, object]:
    from sqlalchemy.engine import make_url
    from sqlmodel import Session

    from salesengine_tui.access.users import Actor, get_by_login
    from salesengine_tui.app import SalesEngineApp
    from salesengine_tui.base.clock import Clock
    from salesengine_tui.base.settings import load_settings
    from salesengine_tui.db.engine import make_engine
    from salesengine_tui.screens.dashboard import DashboardScreen
    from salesengine_tui.usecases.context import AppContext
    from salesengine_tui.widgets.safe_table import SafeTable

    engine = make_engine(make_url(url))
    with Session(engine) as session:
        actor = Actor.of(get_by_login(session, login))
    settings = load_settings(live_updates=False)
    app = SalesEngineApp(
        AppContext(engine=engine, clock=Clock(), settings=settings, actor=actor),
        section="dashboard",
    )

    def ready() -> bool:
        screen = app.screen
        if not isinstance(screen, DashboardScreen) or screen.dashboard is None:
            return False
        tables = list(screen.query(SafeTable))
        return bool(tables) and not any(t.loading for t in tables)

    # Headless apps compute each screen update but skip writing it; render it to text the way
    # a terminal driver would, and note when each paint finished (as board_probe.py does).
    paints: list[float] = []
    display = app._display

    def timed_display(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None:
            renderable.render_segments(app.console)
            paints.append(time.perf_counter())

    app._display = timed_display  # type: ignore[method-assign]

    async def until(check, limit: float = 30.0) -> float:
        last_false = time.perf_counter()
        deadline = last_false + limit
        while not check():
            last_false = time.perf_counter()
            if last_false > deadline:
                raise TimeoutError("the dashboard did not get there")
            await asyncio.sleep(0.001)
        return last_false

    async with app.run_test(size=(120, 40)):
        changed = await until(ready)
        await until(lambda: paints and paints[-1] >= changed)
        painted = (
            time.time() - started - (time.perf_counter() - next(p for p in paints if p >= changed))
        )
    engine.dispose()
    return {"first_paint": painted}


def main() -> None:
    url, login, started = sys.argv[1], sys.argv[2], float(sys.argv[3])
    result = asyncio.run(dashboard(started, url, login))
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
