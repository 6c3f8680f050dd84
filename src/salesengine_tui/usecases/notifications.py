"""Notifications: the unread count, the Alerts list, marking read, hearing new ones arrive."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from ..activity import notifications
from ..activity.notifications import Arrived, Item
from .base import UseCases


class Notifications(UseCases):
    def unread_count(self) -> int:
        """The acting user's unread notifications."""
        with self.read() as session:
            return notifications.unread_count(session, self.actor)

    def alerts(self, *, everyone: bool = False) -> tuple[list[Item], int]:
        """Newest first, the actor's own or (managers only) everyone's, with the actor's unread
        count read in the same look."""
        with self.read() as session:
            items = notifications.recent(session, self.actor, everyone=everyone)
            return items, notifications.unread_count(session, self.actor)

    def mark_read(self, ids: list[uuid.UUID] | None) -> int:
        """Mark the actor's own notifications read (all of them when `ids` is None)."""
        with self.write() as session:
            return notifications.mark_read(session, self.actor, ids, now=self.now())

    def listen(
        self,
        arrived: Callable[[Arrived], None],
        stop: threading.Event,
        *,
        on_connected: Callable[[], None] | None = None,
    ) -> None:
        """Call `arrived` for each new notification of the acting user's, until `stop` is set
        (blocks: run it in a worker thread)."""
        me = self.actor.id

        def heard(payload: str) -> None:
            new = Arrived.from_json(payload)
            if new is not None and new.user_id == me:
                arrived(new)

        self.listen_on(notifications.CHANNEL, heard, stop, on_connected=on_connected)
