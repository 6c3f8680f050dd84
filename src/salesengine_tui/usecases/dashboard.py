"""The dashboard: one pipeline's figures, what is due for the acting user, the team feed, and
hearing when any of it changes elsewhere."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from ..activity import feed
from ..deals import board, figures
from .base import UseCases

# What repaints the dashboard: a card moved, an interaction or status change, an upsell flag.
LIVE_CHANNELS = (board.BOARD_CHANNEL, feed.ACTIVITY_CHANNEL, feed.UPSELL_CHANNEL)


class Dashboard(UseCases):
    def load(self, pipeline_id: uuid.UUID | None) -> figures.Dashboard:
        """Everything the dashboard shows, for `pipeline_id` (None or unknown: the first
        pipeline); its list of pipelines is what `p` steps through."""
        return figures.load(
            self.read,  # read-only sessions, one per part (the parts run side by side)
            pipeline_id=pipeline_id,
            user_id=self.actor.id,
            now=self.now(),
            tz=self.tz,
        )

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
