"""What became of an email we sent, for its entry on the customer's timeline: delivered,
bounced (with the provider's reason), a soft bounce, marked as spam, unsubscribed, replied.

An outbound email entry knows its email (`customer_interactions.outbox_id`); the providers'
events name the same email (`email_events.outbox_id`). When several came back for one email,
the one that matters most is shown: a bounce over everything (it never arrived), then a
complaint, an unsubscribe, a reply, a delivery, and a soft bounce last (the provider retries;
a later delivery supersedes it). Nothing heard yet: no fate (the entry shows nothing).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import Session

from ..db.models import CustomerInteraction, EmailEvent, InteractionDirection

# Most telling first (see the module's docstring); "resubscribed" is about the address, not
# the email, and is not a fate.
_RANK = ("bounced", "dropped", "complained", "unsubscribed", "replied", "delivered", "soft_bounced")
_WORDS = {
    "bounced": "bounced",
    "dropped": "not sent by the provider",
    "complained": "marked as spam",
    "unsubscribed": "unsubscribed",
    "replied": "replied",
    "delivered": "delivered",
    "soft_bounced": "soft bounce",
}
_WITH_REASON = {"bounced", "dropped"}  # the provider's reason is worth showing with these


@dataclass(frozen=True)
class MessageFate:
    kind: str  # an `email_events.kind`
    detail: str | None = None  # the provider's words (a bounce's reason), one line

    def describe(self) -> str:
        """`bounced: mailbox does not exist`, `delivered`, `marked as spam`, ..."""
        words = _WORDS.get(self.kind, self.kind.replace("_", " "))
        if self.kind in _WITH_REASON and self.detail:
            return f"{words}: {self.detail}"
        return words


def of_interactions(
    session: Session, interaction_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, MessageFate]:
    """The fate of each outbound email entry among `interaction_ids` that has one (the
    others are left out), in one statement (ix_email_events_outbox)."""
    if not interaction_ids:
        return {}
    ci, e = CustomerInteraction, EmailEvent
    rank = sa.case(*((e.kind == kind, i) for i, kind in enumerate(_RANK)))
    rows = session.execute(
        sa.select(ci.id, e.kind, e.detail)
        .ext(distinct_on(ci.id))
        .join(e, e.outbox_id == ci.outbox_id)
        .where(
            ci.id == sa.any_(sa.literal(list(interaction_ids), sa.ARRAY(sa.Uuid()))),
            ci.direction == InteractionDirection.outbound,
            e.kind.in_(_RANK),
        )
        .order_by(ci.id, rank, e.occurred_at.desc())
    )
    return {row[0]: MessageFate(row[1], row[2]) for row in rows}
