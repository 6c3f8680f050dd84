"""Waiting in Pilot tests: for workers (a load, then what its widgets fetch) and for states."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot


async def settle(pilot: Pilot[None]) -> None:
    """Two rounds: a screen's load, then the blocks its lists fetch once it has drawn."""
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_until(pilot: Pilot[None], check: Callable[[], bool], seconds: float = 3) -> None:
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not reached")
