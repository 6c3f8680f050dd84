"""The dashboard: one pipeline's figures, what is due for the acting user, the team feed, and
hearing when any of it changes elsewhere."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from ..activity import feed
from ..deals import board, figures
from ..marketing import blasts
from ..marketing.blasts import BlastSummary
from ..tasks.live import TASKS_CHANNEL
from .base import UseCases

# What repaints the dashboard: a card moved, an interaction or status change, an upsell flag,
# a task created, done or moved (my day).
LIVE_CHANNELS = (board.BOARD_CHANNEL, feed.ACTIVITY_CHANNEL, feed.UPSELL_CHANNEL, TASKS_CHANNEL)


class Dashboard(UseCases):
    def load(
        self, pipeline_id: uuid.UUID | None, *, by_close_month: bool = False
    ) -> figures.Dashboard:
        """Everything the dashboard shows, for `pipeline_id` (None or unknown: the first
        pipeline); its list of pipelines is what `p` steps through. `by_close_month`: with the
        forecast by expected close month (read only while it is shown)."""
        return figures.load(
            self.read,  # read-only sessions, one per part (the parts run side by side)
            pipeline_id=pipeline_id,
            user_id=self.actor.id,
            now=self.now(),
            tz=self.tz,
            by_close_month=by_close_month,
            at_once=self.parts_at_once,
        )

    @property
    def parts_at_once(self) -> int:
        """How many of the dashboard's parts load side by side: every connection the pool may
        lend (kept and overflow), so no part waits on the pool while the others run."""
        settings = self.ctx.settings
        return settings.pool_size + settings.pool_overflow

    def recent_blasts(self, limit: int) -> list[BlastSummary]:
        """The latest blasts for the "Recent blasts" cell, with what came back of each."""
        with self.read() as session:
            return blasts.recent(session, limit=limit)

    def listen(
        self,
        changed: Callable[[], None],
        stop: threading.Event,
        *,
        on_connected: Callable[[], None] | None = None,
    ) -> None:
        """Call `changed` whenever another terminal changes what the dashboard shows, until
        `stop` is set (blocks: run it in a worker thread)."""
        self.listen_on(LIVE_CHANNELS, lambda _payload: changed(), stop, on_connected=on_connected)
