"""One live desk for the sessions benchmark: the real app, headless, in its own process.

    python benchmarks/session_probe.py --database-url POOLED --listen-url DIRECT \\
        --login LOGIN [--section pipeline|dashboard]

Opens the app as a user would (settings -> `open_engine`, so the default connection budget:
one query connection kept, two more while busy, one LISTEN connection), at 120x40 with live
updates on, and prints one JSON line per event to stdout:

    {"e": "ready", "t": EPOCH}                 loaded and listening
    {"e": "heard", "id": ESTIMATE, "t": EPOCH} the board's screen takes in a change (NOTIFY)
    {"e": "shown", "id": ESTIMATE, "t": EPOCH} the board shows it (`BoardPatched`)

It runs until its stdin closes (the benchmark ends it that way; it also dies with its parent).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import inspect
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Linux: be killed when the benchmark that started us goes (even by SIGKILL), so no app is
    left running after a failed or interrupted run."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: nothing to ask for
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"e": event, "t": time.time(), **fields}), flush=True)


def stdin_closed(loop: asyncio.AbstractEventLoop, done: asyncio.Event) -> None:
    """Wait (in a thread) for the benchmark to close our stdin, then end the run."""
    sys.stdin.read()
    loop.call_soon_threadsafe(done.set)


async def run(args: argparse.Namespace) -> None:
    from textual import on

    from salesengine_tui.app import SalesEngineApp
    from salesengine_tui.base.clock import Clock
    from salesengine_tui.base.settings import load_settings
    from salesengine_tui.db.connect import open_engine
    from salesengine_tui.screens.board_live import BoardLive
    from salesengine_tui.screens.dashboard import DashboardScreen
    from salesengine_tui.screens.messages import BoardChanged, BoardPatched
    from salesengine_tui.usecases import AppContext, Desk
    from salesengine_tui.widgets.board_column import BoardColumn
    from salesengine_tui.widgets.safe_table import SafeTable

    settings = load_settings(
        database_url=args.database_url, listen_url=args.listen_url, live_updates=True
    )
    engine = open_engine(settings)
    desk = Desk(AppContext(engine=engine, clock=Clock(), settings=settings, actor=None))
    desk.ctx.actor = desk.users.actor_for(args.login)

    class Session(SalesEngineApp):
        # Textual reads CSS_PATH beside the class's own file: point at the app's.
        CSS_PATH = str(Path(inspect.getfile(SalesEngineApp)).with_name("app.tcss"))

        @on(BoardPatched)
        def _shown(self, message: BoardPatched) -> None:
            emit("shown", id=str(message.change.estimate_id))

    app = Session(desk.ctx, section=None if args.section == "pipeline" else args.section)

    def board_ready() -> bool:
        screen = app.screen
        if not isinstance(screen, BoardLive) or screen.view is None:
            return False
        lanes = [c for c in screen.query(BoardColumn) if c.region.width > 0 and c.count]
        return (
            bool(lanes) and all(c.current is not None for c in lanes) and screen.listening.is_set()
        )

    def dashboard_ready() -> bool:
        screen = app.screen
        if not isinstance(screen, DashboardScreen) or screen.dashboard is None:
            return False
        tables = list(screen.query(SafeTable))
        return bool(tables) and not any(t.loading for t in tables) and screen.listening.is_set()

    ready: Callable[[], bool] = board_ready if args.section == "pipeline" else dashboard_ready

    # Headless apps compute each screen update but skip writing it; render it to text as a
    # terminal driver would (board_probe.py does the same), so the CPU a session costs is real.
    display = app._display

    def rendered(screen, renderable) -> None:  # type: ignore[no-untyped-def]
        display(screen, renderable)
        if renderable is not None:
            renderable.render_segments(app.console)

    app._display = rendered  # type: ignore[method-assign]

    def hook(message: object) -> None:
        # When the board's screen takes the change in (heard through LISTEN): with "shown",
        # this splits the delay into the NOTIFY's delivery and the board's own work.
        if isinstance(message, BoardChanged):
            emit("heard", id=str(message.change.estimate_id))

    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(target=stdin_closed, args=(loop, done), daemon=True).start()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    async with app.run_test(size=(120, 40), message_hook=hook):
        deadline = time.monotonic() + 180
        while not ready():
            if time.monotonic() > deadline or done.is_set():
                raise TimeoutError(f"the {args.section} did not load and listen in time")
            await asyncio.sleep(0.02)
        emit("ready")
        await done.wait()
    engine.dispose()


def main() -> None:
    die_with_parent()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="queries: the pooler")
    parser.add_argument("--listen-url", required=True, help="LISTEN: the server itself")
    parser.add_argument("--login", required=True)
    parser.add_argument("--section", choices=("pipeline", "dashboard"), default="pipeline")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
