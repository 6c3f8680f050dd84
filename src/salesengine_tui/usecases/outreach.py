"""The outreach loop's use cases, for the outreach service (`salesengine-jobs serve`): the
providers' events recorded (each once), the unsubscribe link's page and its one-click
opt-out, and a health check. They act for nobody: the service has no user."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..email import one_click
from ..email.events import ProviderEvent, Recorded, record
from ..email.one_click import UnsubscribeView
from .base import UseCases

__all__ = ["Outreach", "UnsubscribeView"]


class Outreach(UseCases):
    SYSTEM_WORK = True

    def record_events(self, events: list[ProviderEvent]) -> Recorded:
        """Store a provider's events, each once, and apply the new ones: one transaction."""
        with self.write() as session:
            return record(session, events, settings=self.ctx.settings, now=self.now())

    def unsubscribe_page(self, token: str) -> UnsubscribeView:
        """What the link's page shows; changes nothing. Raises `email.tokens.BadToken`
        (forged, altered, or the customer is gone) or `ExpiredToken`."""
        with self.read() as session:
            return one_click.view(session, self.ctx.settings, token, today=self._today())

    def unsubscribe(self, token: str) -> UnsubscribeView:
        """The one-click opt-out (RFC 8058): at once, on the timeline; a repeat is harmless.
        Raises as `unsubscribe_page` does, and then changes nothing."""
        with self.write() as session:
            return one_click.unsubscribe(
                session, self.ctx.settings, token, now=self.now(), today=self._today()
            )

    def ping(self) -> None:
        """The database answers (the service's health check)."""
        with self.read() as session:
            session.execute(sa.text("SELECT 1"))

    def _today(self) -> date:
        return self.now().astimezone(self.tz).date()
