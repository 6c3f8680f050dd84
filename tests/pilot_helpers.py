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
    """At least two rounds (a screen's load, then the blocks its lists fetch once it has
    drawn), and then until two rounds in a row begin with no worker running: what the
    results start has run too, down to the footer's keys for the rows shown (a loaded machine, or a role
    taken per transaction, makes such chains longer than two rounds).

    Only for apps whose workers all finish: a live listener is a worker that never does."""
    quiet = 0
    for round_ in range(12):
        await pilot.pause()
        busy = any(worker.is_running for worker in pilot.app.workers)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        quiet = 0 if busy else quiet + 1
        if round_ >= 1 and quiet >= 2:
            return


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
