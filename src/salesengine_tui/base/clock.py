"""One clock for "now": tests and snapshots fix it, everything else reads it from here."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    """The wall clock. `FixedClock` stands in for it where time must not move."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at
