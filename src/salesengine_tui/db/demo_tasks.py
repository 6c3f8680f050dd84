"""Demo tasks for one customer: the plans reps (and some managers) made, open and done.

A realistic desk: about a third of leads and half of the customers with an open deal have an
open task (a few have two), some of them for the deal; a quarter are overdue, a fifth due
today, the rest over the next three weeks; most are timed (office hours, on the quarter hour),
the rest all-day (due at the start of their day in the business time zone). About one in eight
belongs to a manager, most often `demo`, so the demo's My tasks and "my day" have work in them.
Timed tasks already due are marked reminded, as the migration marks old next steps: the jobs
runner announces what falls due after the seed, not the history. Some customers also have a
task done at one of their past calls.

Tasks draw on a random stream of their own (seeded from the demo's seed), so adding them left
every other demo row as it was: same seed, same customers, deals and tickets as before.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from . import demo_words as w
from .demo_pools import POOL_BITS, copy_text

if TYPE_CHECKING:
    from .demo_gen import DemoGenerator

DAY = 86_400
NULL = "\\N"
# The business time zone the generator's office hours assume (`DemoGenerator.office`).
TZ = ZoneInfo("America/Chicago")
_KINDS = {
    "lead": (("call", 70), ("email", 15), ("site_visit", 10), ("meeting", 5)),
    "deal": (("call", 40), ("email", 20), ("site_visit", 20), ("meeting", 10), ("todo", 10)),
    "active": (("call", 40), ("todo", 40), ("email", 20)),
}
# Version 4 / RFC 4122 variant bits, as `DemoGenerator.new_id`.
_UUID_MASK = ((1 << 128) - 1) ^ (0xF << 76) ^ (0x3 << 62)
_UUID_V4 = (4 << 76) | (2 << 62)
_TITLES = {kind: tuple(copy_text(t) for t in titles) for kind, titles in w.TASK_TITLES.items()}
_NOTES = tuple(copy_text(n) for n in w.TASK_NOTES)


class TaskClock:
    """Local days and times as epoch seconds, for due times where the business is, and the
    tasks' own random stream."""

    def __init__(self, now_e: int, seed: int) -> None:
        rng = random.Random(f"tasks:{seed}")
        self.rand = rng.random
        self.bits = rng.getrandbits
        self.now_e = now_e
        self.today = datetime.fromtimestamp(now_e, TZ).date()
        self._midnight: dict[int, int] = {}

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def midnight(self, offset: int) -> int:
        """The start of the local day `offset` days from today (23 or 25 hours on DST days)."""
        found = self._midnight.get(offset)
        if found is None:
            found = int(datetime.combine(self.day(offset), time(0), tzinfo=TZ).timestamp())
            self._midnight[offset] = found
        return found

    def at(self, offset: int, hour: int, minute: int) -> int:
        return int(datetime.combine(self.day(offset), time(hour, minute), tzinfo=TZ).timestamp())

    def new_id(self) -> str:
        return "%032x" % ((self.bits(128) & _UUID_MASK) | _UUID_V4)

    def pick(self, seq: tuple[str, ...]) -> str:
        return seq[int(self.rand() * len(seq))]


def _pick_kind(clock: TaskClock, table: tuple[tuple[str, int], ...]) -> str:
    r = clock.rand() * sum(weight for _, weight in table)
    for kind, weight in table:
        r -= weight
        if r < 0:
            return kind
    return table[-1][0]


def tasks(
    g: DemoGenerator,
    clock: TaskClock,
    cid: str,
    status: str,
    owner: str | None,
    created: int,
    open_est: tuple[str, int, str] | None,
    touches: list[int],
) -> None:
    rand, now, pick = clock.rand, g.now_e, clock.pick
    if status == "lead" and rand() < 0.35:
        context = "lead"
    elif open_est is not None and rand() < 0.5:
        context = "deal"
    elif status == "active" and rand() < 0.03:
        context = "active"
    else:
        context = None
    out = g.out["tasks"]
    if context is not None:
        for _ in range(2 if rand() < 0.2 else 1):
            if open_est is not None and context == "deal":
                who = open_est[2]
            else:
                who = owner or g.owner_pool[clock.bits(POOL_BITS)]
            managers = g.staff.managers
            if managers and rand() < 0.12:
                who = managers[0] if rand() < 0.6 else managers[int(rand() * len(managers))]
            kind = _pick_kind(clock, _KINDS[context])
            title = pick(_TITLES[kind])
            estimate = open_est[0] if context == "deal" and rand() < 0.7 else NULL
            notes = pick(_NOTES) if rand() < 0.15 else NULL
            r = rand()
            if r < 0.25:
                offset = -1 - int(rand() * 10)
            elif r < 0.45:
                offset = 0
            else:
                offset = 1 + int(rand() * 21)
            timed = rand() < 0.6
            if timed:
                due = clock.at(offset, 8 + int(rand() * 10), 15 * int(rand() * 4))
            else:
                due = clock.midnight(offset)
            if due < created:  # a plan cannot predate its customer: today instead
                due = max(created, clock.at(0, 17, 0)) if timed else clock.midnight(0)
            made = max(created, min(due, now) - int(rand() * 5 * DAY))
            reminded = g.ts(due + 30) if timed and due + 30 <= now else NULL
            out.append(
                "\t".join(
                    (
                        clock.new_id(),
                        cid,
                        estimate,
                        kind,
                        title,
                        notes,
                        g.ts(due),
                        "f" if timed else "t",
                        who,
                        who,
                        g.ts(made),
                        NULL,
                        NULL,
                        reminded,
                        g.ts(made),
                        "1",
                    )
                )
            )
    # History: a call planned and done at one of the customer's past touches.
    if touches and rand() < 0.25:
        at = touches[int(rand() * len(touches))]
        who = owner or g.owner_pool[clock.bits(POOL_BITS)]
        made = max(created, at - int((1 + rand() * 6) * DAY))
        out.append(
            "\t".join(
                (
                    clock.new_id(),
                    cid,
                    NULL,
                    "call",
                    pick(_TITLES["call"]),
                    NULL,
                    g.ts(at),
                    "f",
                    who,
                    who,
                    g.ts(made),
                    g.ts(at),
                    who,
                    g.ts(at),
                    g.ts(at),
                    "2",
                )
            )
        )
