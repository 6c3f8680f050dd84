"""What happened to a blast's emails once they left: how many were delivered, bounced and
marked as spam, and how many recipients opted out, from the providers' events (`email_events`).

One statement for the blasts on show, each counted over its own range of the
`(blast_id, kind)` index. A message counts once per kind of event however often the provider
told us (`count(DISTINCT outbox_id)`). A "dropped" message (the provider refused to send it)
counts as bounced: neither reached the inbox (a provider drops or bounces a message, not both).
Soft bounces are not counted: the provider retries them.

Opted out counts recipients, either way they did it: the provider's own unsubscribe (its event
names the blast) or our unsubscribe link. The link's token names the customer, not the email,
so a link opt-out is put down to the latest blast emailed to that customer in the
`LINK_WINDOW` before they used it (each opt-out to one blast at most).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from ..db.models import Blast, CustomerOptOutChange, EmailEvent, EmailOutbox

# How long after a blast's email a link opt-out is still put down to it (CAN-SPAM wants the
# link to work at least 30 days after each send).
LINK_WINDOW = timedelta(days=30)
LINK_VIA = "unsubscribe_link"  # customers.status.OptOutVia.link (marketing does not import it)

# The outcome an event kind counts towards; kinds not here are not counted (but are "heard").
_COUNTED = {
    "delivered": "delivered",
    "bounced": "bounced",
    "dropped": "bounced",
    "complained": "complained",
}
UNSUBSCRIBED = "unsubscribed"
HEARD = "heard"  # any event at all for the blast


@dataclass(frozen=True)
class BlastOutcomes:
    """How many of a blast's emails were delivered, bounced or marked as spam, and how many of
    its recipients opted out. `heard`: anything came back at all; a blast nothing came back
    for (no provider events, or not yet) shows "—", not zeros."""

    delivered: int = 0
    bounced: int = 0
    complained: int = 0
    unsubscribed: int = 0
    heard: bool = False


NOTHING_HEARD = BlastOutcomes()


def _link_opt_outs(
    ids: sa.BindParameter[list[uuid.UUID]],
) -> sa.Select[tuple[uuid.UUID, uuid.UUID]]:
    """(blast, customer) for every unsubscribe-link opt-out put down to one of `ids`."""
    oc, o = CustomerOptOutChange, EmailOutbox
    # Only opt-outs that can belong to a blast on show: from the oldest one's sending on
    # (its creation: a primary key look-up, where the outbox has no index by blast).
    since = sa.select(sa.func.min(Blast.created_at)).where(Blast.id == sa.any_(ids))
    latest_blast = (
        sa.select(o.blast_id)
        .where(
            o.customer_id == oc.customer_id,  # ix_email_outbox_customer
            o.blast_id.is_not(None),
            o.sent_at <= oc.changed_at,
            o.sent_at > oc.changed_at - LINK_WINDOW,
        )
        .order_by(o.sent_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    attributed = (
        sa.select(latest_blast.label("blast_id"), oc.customer_id)
        .where(oc.opted_out, oc.via == LINK_VIA, oc.changed_at >= since.scalar_subquery())
        .subquery("link_opt_outs")
    )
    return sa.select(attributed.c.blast_id, attributed.c.customer_id).where(
        attributed.c.blast_id == sa.any_(ids)
    )


def for_blasts(session: Session, blast_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, BlastOutcomes]:
    """The outcomes of each of `blast_ids` (every one is in the answer), in one statement."""
    if not blast_ids:
        return {}
    e = EmailEvent
    ids = sa.bindparam("blast_ids", list(blast_ids), type_=sa.ARRAY(sa.Uuid()))
    # Grouped by the index's own columns: the groups come in index order, no sort of kinds.
    by_kind = (
        sa.select(e.blast_id, e.kind, sa.func.count(sa.distinct(e.outbox_id)))
        .where(e.blast_id == sa.any_(ids), e.kind != UNSUBSCRIBED)
        .group_by(e.blast_id, e.kind)
    )
    # Opted out: recipients, by the provider's unsubscribe (with the blast) or our link.
    # (An event whose customer is unknown counts as a recipient of its own: its email's id.)
    provider = sa.select(
        e.blast_id, sa.func.coalesce(e.customer_id, e.outbox_id).label("customer_id")
    ).where(e.blast_id == sa.any_(ids), e.kind == UNSUBSCRIBED)
    opted_out = sa.union(provider, _link_opt_outs(ids)).subquery("opted_out")
    by_customer = sa.select(
        opted_out.c.blast_id, sa.literal(UNSUBSCRIBED), sa.func.count(opted_out.c.customer_id)
    ).group_by(opted_out.c.blast_id)
    counts: dict[uuid.UUID, dict[str, int]] = {bid: {} for bid in blast_ids}
    for blast_id, kind, n in session.execute(sa.union_all(by_kind, by_customer)):
        name = _COUNTED.get(kind, UNSUBSCRIBED if kind == UNSUBSCRIBED else HEARD)
        counts[blast_id][name] = counts[blast_id].get(name, 0) + int(n)
    return {
        bid: BlastOutcomes(
            delivered=c.get("delivered", 0),
            bounced=c.get("bounced", 0),
            complained=c.get("complained", 0),
            unsubscribed=c.get(UNSUBSCRIBED, 0),
            heard=bool(c),
        )
        for bid, c in counts.items()
    }
