"""Customers as a marketing audience: who they are by status and where they came from, and
their email opt-out (the one place it changes, each change an entry on their timeline)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session

from ..activity.feed import ActivityKind, notify_activity
from ..db.models import Customer, CustomerOptOutChange, CustomerStatus, CustomerStatusChange, User

SOURCE_LIMIT = 100


@dataclass(frozen=True)
class SourceCounts:
    """Customers from one lead source (None: source unknown), split by status."""

    lead_source: str | None
    leads: int
    active: int
    churned: int
    total: int


@dataclass(frozen=True)
class StatusSourceBreakdown:
    sources: list[SourceCounts]  # the largest sources first, at most `limit`
    all_customers: SourceCounts  # every customer, including sources past the limit
    more_sources: int  # how many sources were left out by the limit


def status_source_breakdown(session: Session, limit: int = SOURCE_LIMIT) -> StatusSourceBreakdown:
    """Customer counts by lead source x status, biggest sources first, with a grand total.

    One scan of `customers` (lead_source is free text, so the number of groups is capped).
    """

    def by_status(status: CustomerStatus) -> sa.ColumnElement[int]:
        return sa.func.count().filter(Customer.status == status)

    groups = (
        sa.select(
            Customer.lead_source,
            by_status(CustomerStatus.lead).label("leads"),
            by_status(CustomerStatus.active).label("active"),
            by_status(CustomerStatus.churned).label("churned"),
            sa.func.count().label("total"),
        )
        .group_by(Customer.lead_source)
        .cte("groups")
    )
    ranked = sa.select(
        groups,
        sa.func.row_number()
        .over(order_by=(groups.c.total.desc(), groups.c.lead_source.asc().nulls_last()))
        .label("rank"),
        sa.func.count().over().label("group_count"),
        sa.func.sum(groups.c.leads).over().label("all_leads"),
        sa.func.sum(groups.c.active).over().label("all_active"),
        sa.func.sum(groups.c.churned).over().label("all_churned"),
        sa.func.sum(groups.c.total).over().label("all_total"),
    ).subquery()
    rows = session.execute(
        sa.select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.rank)
    ).all()
    sources = [
        SourceCounts(
            lead_source=r.lead_source,
            leads=r.leads,
            active=r.active,
            churned=r.churned,
            total=r.total,
        )
        for r in rows
    ]
    first = rows[0] if rows else None
    return StatusSourceBreakdown(
        sources=sources,
        all_customers=SourceCounts(
            lead_source=None,
            leads=int(first.all_leads) if first else 0,
            active=int(first.all_active) if first else 0,
            churned=int(first.all_churned) if first else 0,
            total=int(first.all_total) if first else 0,
        ),
        more_sources=(first.group_count - len(rows)) if first else 0,
    )


def record_status_change(
    session: Session,
    customer_ids: Sequence[uuid.UUID],
    *,
    from_status: CustomerStatus,
    to_status: CustomerStatus,
    by: uuid.UUID | None,
    at: datetime,
    reason: str,
) -> None:
    """One history row per customer whose status just changed (the timeline shows them)."""
    if not customer_ids:
        return
    session.execute(
        sa.insert(CustomerStatusChange),
        [
            {
                "customer_id": customer_id,
                "from_status": from_status,
                "to_status": to_status,
                "changed_by": by,
                "changed_at": at,
                "reason": reason,
            }
            for customer_id in customer_ids
        ],
    )
    notify_activity(session, ActivityKind.status_change)


def activate_leads(
    session: Session,
    customer_ids: Sequence[uuid.UUID],
    *,
    by: uuid.UUID | None,
    at: datetime,
    reason: str,
) -> list[uuid.UUID]:
    """A lead becomes an active customer (a conversion, a Won deal): the ones still `lead`
    change, in one statement for any number, each with its history row. Returns those."""
    if not customer_ids:
        return []
    changed = [
        row[0]
        for row in session.execute(
            sa.update(Customer)
            .where(Customer.id.in_(customer_ids), Customer.status == CustomerStatus.lead)
            .values(status=CustomerStatus.active, updated_at=at, version=Customer.version + 1)
            .returning(Customer.id)
        )
    ]
    record_status_change(
        session,
        changed,
        from_status=CustomerStatus.lead,
        to_status=CustomerStatus.active,
        by=by,
        at=at,
        reason=reason,
    )
    return changed


class OptOutVia(StrEnum):
    """How an opt-out (or an opt-in) came about."""

    link = "unsubscribe_link"  # the customer's own request: the link, relayed by the mailbox
    staff = "staff"  # someone at the desk, on the customer's profile
    provider = "provider"  # the customer, through the provider's own unsubscribe (link or list)
    complaint = "spam_complaint"  # the customer marked our email as spam (reported by the provider)
    reply = "reply"  # the customer answered an email with "unsubscribe" (or "stop")


@dataclass(frozen=True)
class OptOutRecord:
    """The latest opt-out change of a customer: when, how (None: before revision 0018, not
    recorded) and by whom (None: nobody at the desk)."""

    at: datetime | None
    via: OptOutVia | None
    by_name: str | None


def same_mailbox(customer_ids: Collection[uuid.UUID]) -> sa.ColumnElement[bool]:
    """These customers and every customer sharing one of their addresses (case-insensitive):
    one mailbox asking to stop is every record with that address."""
    addresses = sa.select(sa.func.lower(Customer.email)).where(
        Customer.id.in_(customer_ids), Customer.email.is_not(None)
    )
    return sa.or_(Customer.id.in_(customer_ids), sa.func.lower(Customer.email).in_(addresses))


def change_email_opt_out(
    session: Session,
    where: sa.ColumnElement[bool],
    *,
    opted_out: bool,
    via: OptOutVia,
    by: uuid.UUID | None,
    at: datetime,
) -> list[uuid.UUID]:
    """Opt the customers matching `where` out of email (or back in): those not already so
    change, in one statement, and each gets an entry on their timeline in the same
    transaction. Returns the customers that changed."""
    changed = [
        row[0]
        for row in session.execute(
            sa.update(Customer)
            .where(where, Customer.email_opt_out.is_not(opted_out))
            .values(email_opt_out=opted_out, opted_out_at=at if opted_out else None, updated_at=at)
            .returning(Customer.id)
        )
    ]
    if changed:
        session.execute(
            sa.insert(CustomerOptOutChange),
            [
                {"customer_id": customer_id, "opted_out": opted_out, "via": via.value,
                 "changed_by": by, "changed_at": at}
                for customer_id in changed
            ],
        )  # fmt: skip
    # No NOTIFY: the team's feed does not show opt-outs, and a profile reloads after its own.
    return changed


def staff_opt_out(
    session: Session, customer_id: uuid.UUID, *, opted_out: bool, by: uuid.UUID, at: datetime
) -> bool:
    """Someone at the desk opts the customer out of email (or back in, with their consent):
    False when it already was so."""
    changed = change_email_opt_out(
        session, Customer.id == customer_id, opted_out=opted_out, via=OptOutVia.staff, by=by, at=at
    )
    return bool(changed)


def last_opt_out(session: Session, customer_id: uuid.UUID) -> OptOutRecord | None:
    """When and how the customer last opted out (None: no opt-out recorded)."""
    ch = CustomerOptOutChange
    row = session.execute(
        sa.select(ch.changed_at, ch.via, User.name)
        .outerjoin(User, User.id == ch.changed_by)
        .where(ch.customer_id == customer_id, ch.opted_out)
        .order_by(ch.changed_at.desc(), ch.id.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return None
    return OptOutRecord(row.changed_at, OptOutVia(row.via) if row.via else None, row.name)
