"""A customer's profile and timeline: contact edits, interactions, opt-out; finding one for a
picker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from ..access import permissions
from ..activity import feed
from ..customers import profile, status, tickets
from ..db.models import InteractionDirection, InteractionType, Ticket
from ..search import Kind, search
from .base import UseCases

CUSTOMER_MATCHES = 12  # a customer picker lists this many


@dataclass(frozen=True)
class CustomerMatch:
    """A customer a picker offers: enough to tell two Hanks apart."""

    id: uuid.UUID
    name: str
    status: str
    phone: str | None  # E.164
    email: str | None
    phone_ext: str | None = None


@dataclass(frozen=True)
class ProfileView:
    profile: profile.Profile
    timeline_count: int


class Customers(UseCases):
    def profile(self, customer_id: uuid.UUID) -> ProfileView:
        with self.read() as session:
            return ProfileView(
                profile.profile(session, customer_id),
                feed.timeline_count(session, customer_id),
            )

    def timeline(
        self,
        customer_id: uuid.UUID,
        *,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None = None,
        offset: int = 0,
        from_end: bool = False,
    ) -> list[feed.ActivityItem]:
        """A page of the timeline, newest first: by keyset after a loaded entry's key, else by
        offset (`from_end`: the oldest `limit` entries)."""
        with self.read() as session:
            if after is not None:
                return feed.recent_activity(session, limit, customer_id=customer_id, before=after)
            if from_end:
                offset = max(0, feed.timeline_count(session, customer_id) - limit)
            return feed.recent_activity(session, limit, customer_id=customer_id, offset=offset)

    def call_sheet(self, customer_id: uuid.UUID) -> profile.CallSheet:
        """What Quick Call shows: the customer's open tasks and last interactions."""
        with self.read() as session:
            return profile.call_sheet(session, customer_id)

    def find(self, text: str) -> list[CustomerMatch]:
        """Customers for a form's customer picker (a new deal, a new task): the search's
        customer hits (name words, email, phone in any punctuation), best first."""
        with self.read() as session:
            hits = search(session, text, limit=CUSTOMER_MATCHES * 2)
        return [
            CustomerMatch(h.id, h.customer_name, h.state, h.phone, h.email, h.phone_ext)
            for h in hits
            if h.kind is Kind.customer
        ][:CUSTOMER_MATCHES]

    def update_contact(
        self, customer_id: uuid.UUID, *, expected_version: int, values: dict[str, str | None]
    ) -> int:
        """Saved only if nobody changed the customer since `expected_version` (else UserError)."""
        with self.write() as session:
            return profile.update_contact(
                session,
                self.actor,
                customer_id,
                expected_version=expected_version,
                values=values,
                now=self.now(),
                region=self.ctx.settings.phone_region,
            )

    def log_interaction(
        self,
        customer_id: uuid.UUID,
        *,
        type: InteractionType,
        direction: InteractionDirection,
        notes: str | None,
    ) -> None:
        with self.write() as session:
            profile.log_interaction(
                session,
                self.actor,
                customer_id,
                type=type,
                direction=direction,
                notes=notes,
                now=self.now(),
            )

    def set_opt_out(self, customer_id: uuid.UUID, opted_out: bool) -> bool:
        """Opt the customer out of email (or back in) as the person at the desk, with its entry
        on the timeline, in one transaction. False: it already was so (nothing written)."""
        with self.write() as session:
            return status.staff_opt_out(
                session, customer_id, opted_out=opted_out, by=self.actor.id, at=self.now()
            )

    def close_ticket(self, number: int, resolution: str) -> Ticket:
        """Close ticket `number` as the operations side does ("Equipment End of Life" feeds
        the upsell sync): technicians and managers."""
        permissions.require(self.actor, permissions.Action.close_tickets)
        with self.write() as session:
            return tickets.close(session, number, resolution=resolution, now=self.now())
