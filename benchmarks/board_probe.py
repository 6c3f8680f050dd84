"""One measured run of the board (or of a bare Textual app), in its own process.

    python benchmarks/board_probe.py URL LOGIN STARTED_EPOCH [--bare] [--leads] [--keys N]

`--keys 0` paints and exits at once: the parent's wall time is then start to exit.

Runs the app headless at 120x40, waits for the first full paint (every visible lane has its
cards and the screen has been refreshed), then presses keys and times each from the press to
the repainted screen (`--leads`: the leads inbox instead, cursor keys only). Prints one JSON
line: seconds from STARTED_EPOCH (taken by the parent just before it started this process)
to the first paint, key latencies, and peak RSS.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time


async def bare(started: float) -> dict[str, object]:
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("Hello")

    app = Bare()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        painted = time.time() - started
    return {"first_paint": painted}


async def board(started: float, url: str, login: str, keys: int) -> dict[str, object]:
    from sqlalchemy.engine import make_url
    from sqlmodel import Session

    from salesengine_tui.access.users import Actor, get_by_login
    from salesengine_tui.app import SalesEngineApp
    from salesengine_tui.base.clock import Clock
    from salesengine_tui.base.settings import load_settings
    from salesengine_tui.db.engine import make_engine
    from salesengine_tui.usecases.context import AppContext
    from salesengine_tui.widgets.board_column import BoardColumn
    from salesengine_tui.widgets.leads_table import LeadsTable

    engine = make_engine(make_url(url))
    with Session(engine) as session:
        actor = Actor.of(get_by_login(session, login))
    settings = load_settings(live_updates=False)
    section = "leads" if "--leads" in sys.argv else None
    app = SalesEngineApp(
        AppContext(engine=engine, clock=Clock(), settings=settings, actor=actor), section=section
    )

    def lane():  # the focused list: a board lane, or the leads table
        focused = app.screen.focused
        if section == "leads":
            return focused if isinstance(focused, LeadsTable) else None
        return focused if isinstance(focused, BoardColumn) else None

    def ready() -> bool:
        if section == "leads":
            return lane() is not None and lane().current is not None
        return board_ready()

    def board_ready() -> bool:
        lanes = list(app.screen.query(BoardColumn))
        if not lanes or lane() is None:
            return False
        visible = [c for c in lanes if c.region.width > 0 and c.count]
        return all(c.current is not None for c in visible)

    async def until(check, limit: float = 10.0, since: float | None = None) -> float:
        """Wait for `check`; return when it was last seen false (or `since`)."""
        last_false = time.perf_counter() if since is None else since
        deadline = time.perf_counter() + limit
        while not check():
            last_false = time.perf_counter()
            if last_false > deadline:
                raise TimeoutError("the board did not get there")
            await asyncio.sleep(0.001)
        return last_false

    # Headless apps compute each screen update but skip writing it; render it to text the way
    # a terminal driver would, and note when each paint finished.
    paints: list[float] = []
    display = app._display

    def timed_display(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None:
            renderable.render_segments(app.console)
            paints.append(time.perf_counter())

    app._display = timed_display  # type: ignore[method-assign]

    async def key_to_paint(key: str, done) -> float:
        """From the key press to the first paint that shows its effect."""
        t = time.perf_counter()
        await pilot.press(key)
        changed = await until(done, since=t)
        await until(lambda: paints and paints[-1] >= changed)
        return next(p for p in paints if p >= changed) - t

    async with app.run_test(size=(120, 40)) as pilot:
        changed = await until(ready)
        await until(lambda: paints and paints[-1] >= changed)
        painted = (
            time.time() - started - (time.perf_counter() - next(p for p in paints if p >= changed))
        )

        cursor: list[float] = []
        for i in range(keys):
            key = "j" if (i // 10) % 2 == 0 else "k"
            cursor.append(await key_to_paint(key, lambda: lane().current is not None))

        moves: list[float] = []
        for i in range(keys // 3 if keys and section is None else 0):
            current = lane().current
            assert current is not None
            key = "shift+right" if i % 2 == 0 else "shift+left"

            def arrived(card_id=current.id, stage=current.stage_id) -> bool:
                now = lane()
                return (
                    now is not None
                    and now.current is not None
                    and now.current.id == card_id
                    and now.column.id != stage
                )

            moves.append(await key_to_paint(key, arrived))
    engine.dispose()
    return {"first_paint": painted, "cursor": cursor, "move": moves}


def main() -> None:
    url, login, started = sys.argv[1], sys.argv[2], float(sys.argv[3])
    keys = int(sys.argv[sys.argv.index("--keys") + 1]) if "--keys" in sys.argv else 40
    if "--bare" in sys.argv:
        result = asyncio.run(bare(started))
    else:
        result = asyncio.run(board(started, url, login, keys))
    # ru_maxrss is in KiB on Linux
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
