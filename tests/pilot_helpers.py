"""Waiting in Pilot tests on what the app does, never on the clock: its workers (a load, then
what its widgets fetch), a state reached, a listener's ready signal.

Every wait here is bounded by a deadline in seconds that only a broken app reaches; reaching it
fails with what was awaited."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from textual.pilot import Pilot

# Far beyond what any of these takes on a loaded machine: only a broken app gets there.
DEADLINE_SECONDS = 10.0


async def settle(pilot: Pilot[None]) -> None:
    """Two rounds: a screen's load, then the blocks its lists fetch once it has drawn.

    Only for apps whose workers all finish: a live listener is a worker that never does."""
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_until(
    pilot: Pilot[None],
    check: Callable[[], bool],
    seconds: float = DEADLINE_SECONDS,
    what: str = "condition",
) -> None:
    """Let the app run until `check()` holds; fail after `seconds` of it not holding."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {seconds:g} s")
        await pilot.pause(0.02)


async def wait_listening(
    pilot: Pilot[None], ready: threading.Event, what: str, seconds: float = DEADLINE_SECONDS
) -> None:
    """Until a LISTEN connection is up (its `on_connected` event is set): a NOTIFY sent
    before that would never be heard."""
    await wait_until(pilot, ready.is_set, seconds, what=f"the {what} listener connecting")
