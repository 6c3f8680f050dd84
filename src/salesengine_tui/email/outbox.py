"""The email outbox: every email is first a row, written in the caller's transaction.

Enqueueing is idempotent (a unique key: the same email queued twice is stored once). Senders
claim due rows with FOR UPDATE SKIP LOCKED and commit the claim before talking to a provider,
so two senders never send the same row; a claim is a lease (`leases`: renewed between
requests, and a sender that dies leaves its rows to go back to the queue when it is over). No
Textual, no HTTP here: the providers and the sending steps are `providers` and `sender`.

Every row comes in through `enqueue_statement`: one email (`enqueue`) or a whole set chosen by
a SELECT (nurture, upsell, blasts) in one INSERT ... ON CONFLICT on the idempotency key.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlmodel import Session

from ..access.users import system_user
from ..activity.feed import CAMPAIGN_OUTCOME, ActivityKind, notify_activity
from ..base import validation
from ..base.errors import UserError
from ..base.settings import Settings
from ..db.models import (
    Customer,
    CustomerInteraction,
    EmailOutbox,
    InteractionDirection,
    InteractionType,
    Notification,
    OutboxStatus,
    User,
    UserRole,
)
from .compliance import (
    UNSUBSCRIBE_SLOT,
    campaign_footer,
    require_campaign_settings,
    unsubscribe,
    with_unsubscribe_link,
)

__all__ = [
    "UNSUBSCRIBE_SLOT",
    "campaign_footer",
    "require_campaign_settings",
    "unsubscribe",
    "with_unsubscribe_link",
]

SUBJECT_MAX = 300


def header_safe(text: str | None) -> str | None:
    """Names and subjects go into headers: CR, LF and other controls never reach them."""
    if text is None:
        return None
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split()) or None


def stored_error(reason: str) -> str:
    """A reason as `last_error` keeps it: a provider's words without control characters
    (newlines, ESC), at most 1,000 characters."""
    return (header_safe(reason) or "")[:1000]


def header_safe_sql(text: sa.ColumnElement[str | None]) -> sa.ColumnElement[str | None]:
    """`header_safe` for set-based SQL: control characters become spaces."""
    return sa.func.regexp_replace(text, "[[:cntrl:]]", " ", "g")


# Header columns a SELECT hands to the outbox: cleaned on the way in, whoever wrote the SELECT.
_HEADERS = ("to_name", "subject")


def enqueue_statement(
    source: sa.Select | Sequence[Mapping[str, object]],
    *,
    now: datetime,
    created_by: uuid.UUID | None,
    is_campaign: bool = False,
) -> Insert:
    """The one INSERT that puts email in the outbox, due at once; a key already queued is
    skipped (ON CONFLICT on the idempotency key), and RETURNING gives the new rows' ids.

    `source` is either rows (column -> value, checked by the caller as `enqueue` does) or a
    SELECT labelled with outbox columns (`idempotency_key`, `to_email`, `subject`,
    `body_text`, optionally `customer_id`, `to_name` and what the email is about,
    `estimate_id` or `blast_id`): a set-based caller queues any number of emails in this one
    statement."""
    stamps = {
        "is_campaign": is_campaign,
        "created_by": created_by,
        "created_at": now,
        "next_attempt_at": now,
    }
    statement = insert(EmailOutbox)
    if isinstance(source, sa.Select):
        given = source.subquery("queued")
        columns = [
            header_safe_sql(column).label(column.name) if column.name in _HEADERS else column
            for column in given.c
        ]
        table = EmailOutbox.__table__.c
        literals = [sa.literal(value, table[name].type) for name, value in stamps.items()]
        statement = statement.from_select(
            [column.name for column in given.c] + list(stamps), sa.select(*columns, *literals)
        )
    else:
        statement = statement.values([{**row, **stamps} for row in source])
    return statement.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(
        EmailOutbox.id
    )


@dataclass(frozen=True)
class Queued:
    id: uuid.UUID | None  # None: this key was queued before (stored once)
    key: str


def enqueue(
    session: Session,
    *,
    key: str,
    to_email: str | None,
    subject: str,
    body: str,
    now: datetime,
    settings: Settings,
    customer_id: uuid.UUID | None = None,
    to_name: str | None = None,
    is_campaign: bool = False,
    created_by: uuid.UUID | None = None,
    estimate_id: uuid.UUID | None = None,
    blast_id: uuid.UUID | None = None,
) -> Queued:
    """Queue one email in the caller's transaction; the same `key` twice is stored once.
    `estimate_id` / `blast_id`: the deal or blast it is about (what comes back finds them).

    A malformed or missing address is refused here with the reason, not at send time. A
    campaign gets the compliance footer, its unsubscribe link filled in when it is sent."""
    if not key.strip():
        raise UserError("an email needs an idempotency key")
    address = validation.email(to_email, "recipient")
    if address is None:
        raise UserError("no recipient address")
    clean_subject = header_safe(subject)
    if not clean_subject:
        raise UserError("the subject is empty")
    if len(clean_subject) > SUBJECT_MAX:
        raise UserError(f"the subject is too long ({SUBJECT_MAX} characters at most)")
    if is_campaign:
        require_campaign_settings(settings)
        if customer_id is None:
            raise UserError("a campaign email needs its customer: the unsubscribe link is theirs")
        # No control character, so nothing in the text can stand for the link's slot.
        validation.refuse_controls(body.replace("\r\n", "\n"), "body", multi_line=True)
        body = body.rstrip() + campaign_footer(settings)
    email = {
        "idempotency_key": key,
        "customer_id": customer_id,
        "to_email": address,
        "to_name": header_safe(to_name),
        "subject": clean_subject,
        "body_text": body,
        "estimate_id": estimate_id,
        "blast_id": blast_id,
    }
    row = session.execute(
        enqueue_statement([email], now=now, created_by=created_by, is_campaign=is_campaign)
    ).first()
    return Queued(row[0] if row else None, key)


@dataclass(frozen=True)
class Claimed:
    """A row a sender now holds (status `sending`)."""

    id: uuid.UUID
    customer_id: uuid.UUID | None
    to_email: str
    to_name: str | None
    subject: str
    body_text: str
    is_campaign: bool
    attempts: int
    created_by: uuid.UUID | None
    blocked: str | None  # why it must not go out now (opted out, suppressed), else None
    estimate_id: uuid.UUID | None = None  # the deal a follow-up is about
    blast_id: uuid.UUID | None = None


def claim(session: Session, *, now: datetime, limit: int) -> list[Claimed]:
    """Take up to `limit` due rows (SKIP LOCKED: other senders take others). The caller
    commits at once, so the claim holds while the provider is called."""
    due = (
        sa.select(EmailOutbox.id)
        .where(EmailOutbox.status == OutboxStatus.queued, EmailOutbox.next_attempt_at <= now)
        .order_by(EmailOutbox.next_attempt_at, EmailOutbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = (
        sa.update(EmailOutbox)
        .where(EmailOutbox.id.in_(due))
        .values(
            status=OutboxStatus.sending,
            claimed_at=now,
            attempts=EmailOutbox.attempts + 1,
        )
        .returning(EmailOutbox.id)
        .cte("claimed")
    )
    # Opt-outs are checked again now, not only when the row was queued.
    blocked = sa.case(
        (Customer.email_opt_out, "opted out"),
        (Customer.email_suppressed_at.is_not(None), "suppressed by the provider"),
        else_=None,
    )
    rows = session.execute(
        sa.select(
            EmailOutbox.id,
            EmailOutbox.customer_id,
            EmailOutbox.to_email,
            EmailOutbox.to_name,
            EmailOutbox.subject,
            EmailOutbox.body_text,
            EmailOutbox.is_campaign,
            EmailOutbox.attempts,
            EmailOutbox.created_by,
            blocked.label("blocked"),
            EmailOutbox.estimate_id,
            EmailOutbox.blast_id,
        )
        .join(claimed, claimed.c.id == EmailOutbox.id)
        .outerjoin(Customer, Customer.id == EmailOutbox.customer_id)
        .order_by(EmailOutbox.next_attempt_at, EmailOutbox.id)
    ).all()
    # The UPDATE in the CTE ran in this statement; `attempts` above is the value before it.
    return [Claimed(**{**r._mapping, "attempts": r.attempts + 1}) for r in rows]


def mark_sent(
    session: Session,
    sent: list[tuple[Claimed, str | None]],
    *,
    provider: str,
    now: datetime,
) -> None:
    """Rows the provider accepted (with its message id), each logged on its customer's
    timeline as an outbound email (notes: the subject; by: who caused it, or the system),
    linked to the email (its delivery shows beside it later) and to the deal it is about."""
    if not sent:
        return
    system = system_user(session).id
    # One statement for the whole batch: each row's own message id comes from the arrays.
    session.execute(
        sa.text(
            "UPDATE email_outbox AS o SET status = 'sent', provider = :provider, "
            "provider_message_id = v.message_id, sent_at = :now, claimed_at = NULL, "
            "last_error = NULL "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:message_ids AS text[])) "
            "AS v(id, message_id) WHERE o.id = v.id"
        ),
        {
            "provider": provider,
            "now": now,
            "ids": [row.id for row, _ in sent],
            "message_ids": [message_id for _, message_id in sent],
        },
    )
    logged = [
        {
            "customer_id": row.customer_id,
            "type": InteractionType.email,
            "direction": InteractionDirection.outbound,
            "notes": row.subject,
            # A blast's emails stay on each customer's timeline but out of the team's feed.
            "outcome": CAMPAIGN_OUTCOME if row.is_campaign else None,
            "created_by": row.created_by or system,
            "created_at": now,
            "outbox_id": row.id,
            "estimate_id": row.estimate_id,
        }
        for row, _ in sent
        if row.customer_id is not None
    ]
    if logged:
        session.execute(sa.insert(CustomerInteraction), logged)
        notify_activity(session, ActivityKind.interaction)
        session.execute(
            sa.update(Customer)
            .where(Customer.id.in_({entry["customer_id"] for entry in logged}))
            .values(last_interaction_at=sa.func.greatest(Customer.last_interaction_at, now))
        )


def mark_failed(session: Session, rows: list[Claimed], reason: str, *, suppressed=False) -> None:
    """Rows that will not be sent: the provider refused them, or the customer opted out."""
    if not rows:
        return
    session.execute(
        sa.update(EmailOutbox)
        .where(EmailOutbox.id.in_([row.id for row in rows]))
        .values(
            status=OutboxStatus.suppressed if suppressed else OutboxStatus.failed,
            last_error=stored_error(reason),
            claimed_at=None,
        )
    )


INACTIVE = "the provider reports the address inactive"


def suppress_customers(
    session: Session,
    customers: Collection[uuid.UUID] | Mapping[uuid.UUID, str],
    *,
    now: datetime,
    reason: str = INACTIVE,
) -> list[uuid.UUID]:
    """The provider says these addresses are inactive: never email them again. Why is
    `reason`, or each customer's own (`customers` as customer -> reason); one statement for
    any number. Returns the customers suppressed now (the others already were)."""
    reasons = customers if isinstance(customers, Mapping) else dict.fromkeys(customers, reason)
    if not reasons:
        return []
    rows = session.execute(
        sa.text(
            "UPDATE customers AS c SET email_suppressed_at = :now, "
            "email_suppressed_reason = v.reason "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:reasons AS text[])) AS v(id, reason) "
            "WHERE c.id = v.id AND c.email_suppressed_at IS NULL RETURNING c.id"
        ),
        {"now": now, "ids": list(reasons), "reasons": [stored_error(r) for r in reasons.values()]},
    )
    return [row[0] for row in rows]


def lift_suppression(session: Session, customer_ids: Collection[uuid.UUID]) -> list[uuid.UUID]:
    """The provider delivers to these addresses again: our suppression goes (a customer's own
    opt-out is another column and stays). Returns the customers it was lifted for."""
    if not customer_ids:
        return []
    rows = session.execute(
        sa.text(
            "UPDATE customers SET email_suppressed_at = NULL, email_suppressed_reason = NULL "
            "WHERE id = ANY(CAST(:ids AS uuid[])) AND email_suppressed_at IS NOT NULL "
            "RETURNING id"
        ),
        {"ids": list(customer_ids)},
    )
    return [row[0] for row in rows]


def tell_managers(session: Session, *, kind: str, title: str, body: str, now: datetime) -> None:
    """A notification for every active manager, once a day per kind (dedupe key)."""
    managers = session.execute(
        sa.select(User.id).where(User.active, User.role == UserRole.manager)
    ).scalars()
    day = now.date().isoformat()
    for manager in managers:
        session.execute(
            insert(Notification)
            .values(
                user_id=manager,
                kind=kind,
                title=title,
                body=body,
                dedupe_key=f"{kind}:{day}:{manager}",
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
