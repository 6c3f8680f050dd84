"""Run a callback once typing pauses: a search per keystroke would queue a query per letter."""

from __future__ import annotations

from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer

TYPING_PAUSE = 0.15  # seconds: shorter than a person notices, longer than between keystrokes


class Debounce:
    def __init__(
        self, owner: MessagePump, callback: Callable[[str], None], delay: float = TYPING_PAUSE
    ) -> None:
        self.owner = owner
        self.callback = callback
        self.delay = delay
        self.timer: Timer | None = None
        self.pending: str | None = None

    def __call__(self, value: str) -> None:
        if self.timer is not None:
            self.timer.stop()
        self.pending = value
        self.timer = self.owner.set_timer(self.delay, self.flush)

    def flush(self) -> None:
        """Run now (enter pressed), if anything is waiting."""
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        if self.pending is not None:
            value, self.pending = self.pending, None
            self.callback(value)
