"""The activity feed: interactions and stage moves (and, for one customer, tickets opened and
closed, the changes people made to their deals and their email opt-outs), merged, newest
first. The team's feed on the dashboard and a customer's timeline on their profile are the same
query; the timeline pages through it by keyset.

The team's feed also shows technicians' upsell flags (tickets closed as end of life) and
status changes (conversions). Writers of feed entries call `notify_activity` in their
transaction, so open dashboards hear of them when (and only if) it commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..db.models import (
    END_OF_LIFE_RESOLUTION,
    Customer,
    CustomerInteraction,
    CustomerOptOutChange,
    CustomerStatusChange,
    Estimate,
    EstimateChange,
    EstimateStageHistory,
    Ticket,
    User,
    UserRole,
)
from . import message_fates
from .message_fates import MessageFate

FEED_LIMIT = 50
# LISTEN/NOTIFY channel for new feed entries (interactions, emails sent, status changes, upsell
# opportunities); the payload names the kind. Stage moves are heard on the board's channel and
# technicians' end-of-life closures on `UPSELL_CHANNEL` (a trigger, migration 0008).
ACTIVITY_CHANNEL = "salesengine_activity"
UPSELL_CHANNEL = "salesengine_upsell"


class ActivityKind(StrEnum):
    interaction = "interaction"
    stage_move = "stage_move"
    ticket_opened = "ticket_opened"
    ticket_closed = "ticket_closed"
    status_change = "status_change"
    upsell_flag = "upsell_flag"  # a technician closed a ticket as end of life (team feed)
    deal_change = "deal_change"  # a person changed a deal's title, value, close date or owner
    email_opt_out = "email_opt_out"  # opted out of email (`outcome`: how, `customers.status`)
    email_opt_in = "email_opt_in"  # opted back in to email


@dataclass(frozen=True)
class ActivityItem:
    """One feed entry. Interaction fields are None on a stage move and the other way round."""

    at: datetime
    kind: ActivityKind
    customer_id: uuid.UUID
    customer_name: str
    user_name: str | None
    # interactions
    interaction_type: str | None
    direction: str | None
    outcome: str | None
    notes: str | None
    # stage moves (a status change uses from_stage / to_stage for the statuses, a deal change
    # for the old and new values; a move into Lost has its reason in `notes`)
    estimate_number: int | None
    estimate_title: str | None
    from_stage: str | None
    to_stage: str | None
    # tickets
    ticket_number: int | None = None
    ticket_text: str | None = None  # summary when opened, resolution when closed; status: why
    id: uuid.UUID | None = None  # with `at`, the keyset for the next page
    automated: bool = False  # written by the system user (an automated email, an upsell lead)
    field: str | None = None  # a deal change: which field (`deals.editing.FIELD_LABELS`)
    user_initials: str | None = None  # the user's, unique on the desk (narrow columns)
    # An outbound email on a customer's timeline: what became of it (None: nothing heard yet).
    email_fate: MessageFate | None = None

    @property
    def key(self) -> tuple[datetime, uuid.UUID]:
        assert self.id is not None
        return (self.at, self.id)


# The feed's columns, in order; every side of the UNION labels its columns with these.
COLUMNS = (
    "id",
    "at",
    "kind",
    "customer_id",
    "user_id",
    "interaction_type",
    "direction",
    "outcome",
    "notes",
    "estimate_number",
    "estimate_title",
    "from_stage",
    "to_stage",
    "ticket_number",
    "ticket_text",
    "field",
)


# The outcome of the interaction logged for a sent marketing email (outbox.mark_sent).
CAMPAIGN_OUTCOME = "campaign"
# The outcome of the inbound email a customer's reply became (email.replies): its notes are
# the subject, a newline, then the reply's text.
REPLY_OUTCOME = "reply"


def reply_parts(notes: str | None) -> tuple[str, str]:
    """A reply's subject and text, from the notes `email.replies` wrote."""
    subject, _, text = (notes or "").partition("\n")
    return subject, text


def _null(type_: sa.types.TypeEngine[object]) -> sa.ColumnElement[object]:
    return sa.cast(sa.null(), type_)


def recent_activity(
    session: Session,
    limit: int = FEED_LIMIT,
    *,
    customer_id: uuid.UUID | None = None,
    before: tuple[datetime, uuid.UUID] | None = None,
    offset: int = 0,
) -> list[ActivityItem]:
    """The newest `limit` entries (older than `before`, if given; `offset` skips that many,
    for a jump in a long timeline): one UNION ALL, each side cut by its time index.
    With `customer_id`, one customer's timeline, tickets and changes to deals too."""
    ci, h, e, t = CustomerInteraction, EstimateStageHistory, Estimate, Ticket
    ch = EstimateChange

    def side(columns, at, id_, customer, join=None, where=None):
        """One kind of entry, its columns labelled as the feed's, cut to `limit`."""
        stmt = sa.select(*(c.label(name) for c, name in zip(columns, COLUMNS, strict=True)))
        if join is not None:
            stmt = stmt.join(*join)
        conditions = [] if where is None else [where]
        if customer_id is not None:
            conditions.append(customer == customer_id)
        if before is not None:
            conditions.append(sa.tuple_(at, id_) < sa.tuple_(*before))
        return stmt.where(*conditions).order_by(at.desc(), id_.desc()).limit(limit + offset)

    def nulls(*types: sa.types.TypeEngine[object]) -> list[sa.ColumnElement[object]]:
        return [_null(type_) for type_ in types]

    text, number = sa.Text(), sa.BigInteger()
    sides = [
        side(
            [
                ci.id,
                ci.created_at,
                sa.literal(ActivityKind.interaction.value),
                ci.customer_id,
                ci.created_by,
                sa.cast(ci.type, sa.Text),
                sa.cast(ci.direction, sa.Text),
                ci.outcome,
                ci.notes,
                *nulls(number, text, text, text, number, text, text),
            ],
            ci.created_at,
            ci.id,
            ci.customer_id,
            # a 100,000-recipient blast would bury the team's feed: its emails show per customer
            where=None
            if customer_id is not None
            else ci.outcome.is_distinct_from(CAMPAIGN_OUTCOME),
        ),
        side(
            [
                h.id,
                h.moved_at,
                sa.literal(ActivityKind.stage_move.value),
                e.customer_id,
                h.moved_by,
                *nulls(text, text, text),
                h.lost_reason,  # shown on the entry of a move into Lost
                e.number,
                e.title,
                h.from_stage_name,
                h.to_stage_name,
                *nulls(number, text, text),
            ],
            h.moved_at,
            h.id,
            e.customer_id,
            join=(e, e.id == h.estimate_id),
        ),
    ]
    if customer_id is not None:  # a customer's timeline: every change made to their deals
        sides.append(
            side(
                [
                    ch.id,
                    ch.changed_at,
                    sa.literal(ActivityKind.deal_change.value),
                    ch.customer_id,
                    ch.changed_by,
                    *nulls(text, text, text, text),
                    e.number,
                    e.title,
                    ch.old_value,
                    ch.new_value,
                    *nulls(number, text),
                    ch.field,
                ],
                ch.changed_at,
                ch.id,
                ch.customer_id,
                join=(e, e.id == ch.estimate_id),
            )
        )
        oc = CustomerOptOutChange
        kind = sa.case(
            (oc.opted_out, ActivityKind.email_opt_out.value),
            else_=ActivityKind.email_opt_in.value,
        )
        opt_out_columns = [
            oc.id, oc.changed_at, kind, oc.customer_id, oc.changed_by, *nulls(text, text),
            oc.via, *nulls(text, number, text, text, text, number, text, text),
        ]  # fmt: skip
        sides.append(side(opt_out_columns, oc.changed_at, oc.id, oc.customer_id))
    # Tickets: a customer's timeline shows them opened and closed; the team's feed shows the
    # end-of-life closures (technicians' upsell flags). Both show status changes.
    ticket_sides = (
        [(ActivityKind.upsell_flag, t.closed_at, t.summary)]
        if customer_id is None
        else [
            (ActivityKind.ticket_opened, t.opened_at, t.summary),
            (ActivityKind.ticket_closed, t.closed_at, t.resolution),
        ]
    )
    for kind, at, said in ticket_sides:
        columns = [
            t.id,
            at,
            sa.literal(kind.value),
            t.customer_id,
            t.technician_id,
            *nulls(text, text, text, text, number, text, text, text),
            t.number,
            said,
            *nulls(text),
        ]
        where = {
            ActivityKind.ticket_closed: t.closed_at.is_not(None),
            # the partial index ix_tickets_end_of_life, newest first
            ActivityKind.upsell_flag: t.resolution == END_OF_LIFE_RESOLUTION,
        }.get(kind)
        sides.append(side(columns, at, t.id, t.customer_id, where=where))
    sc = CustomerStatusChange
    status_columns = [
        sc.id, sc.changed_at, sa.literal(ActivityKind.status_change.value), sc.customer_id,
        sc.changed_by, *nulls(text, text, text, text, number, text),
        sa.cast(sc.from_status, sa.Text), sa.cast(sc.to_status, sa.Text),
        *nulls(number), sc.reason, *nulls(text),
    ]  # fmt: skip
    sides.append(side(status_columns, sc.changed_at, sc.id, sc.customer_id))
    # Each side in its own subquery so its ORDER BY ... LIMIT uses its time index.
    feed = sa.union_all(*(sa.select(s.subquery()) for s in sides)).subquery("feed")
    user = aliased(User)
    stmt = (
        sa.select(
            feed,
            Customer.name.label("customer_name"),
            user.name.label("user_name"),
            user.initials.label("user_initials"),
            (user.role == UserRole.system).label("automated"),
        )
        .join(Customer, Customer.id == feed.c.customer_id)
        .outerjoin(user, user.id == feed.c.user_id)
        .order_by(feed.c.at.desc(), feed.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    rows = session.execute(stmt).all()
    # A customer's timeline: what became of the emails sent to them (one more statement).
    fates = (
        message_fates.of_interactions(
            session, [r.id for r in rows if r.kind == ActivityKind.interaction.value]
        )
        if customer_id is not None
        else {}
    )
    return [
        ActivityItem(
            at=r.at,
            kind=ActivityKind(r.kind),
            customer_id=r.customer_id,
            customer_name=r.customer_name,
            user_name=r.user_name,
            interaction_type=r.interaction_type,
            direction=r.direction,
            outcome=r.outcome,
            notes=r.notes,
            estimate_number=r.estimate_number,
            estimate_title=r.estimate_title,
            from_stage=r.from_stage,
            to_stage=r.to_stage,
            ticket_number=r.ticket_number,
            ticket_text=r.ticket_text,
            id=r.id,
            automated=bool(r.automated),
            field=r.field,
            user_initials=r.user_initials,
            email_fate=fates.get(r.id),
        )
        for r in rows
    ]


def notify_activity(session: Session, kind: ActivityKind) -> None:
    """Queue a NOTIFY on the activity channel; PostgreSQL delivers it when (and only if) the
    transaction commits, and sends one for any number of identical ones in a transaction."""
    session.execute(sa.select(sa.func.pg_notify(ACTIVITY_CHANNEL, kind.value)))


def timeline_count(session: Session, customer_id: uuid.UUID) -> int:
    """How many entries a customer's timeline holds (index counts, one statement)."""
    ci, h, e, t = CustomerInteraction, EstimateStageHistory, Estimate, Ticket
    counts = [
        sa.select(sa.func.count()).select_from(ci).where(ci.customer_id == customer_id),
        sa.select(sa.func.count())
        .select_from(h)
        .join(e, e.id == h.estimate_id)
        .where(e.customer_id == customer_id),
        sa.select(sa.func.count()).select_from(t).where(t.customer_id == customer_id),
        sa.select(sa.func.count())
        .select_from(t)
        .where(t.customer_id == customer_id, t.closed_at.is_not(None)),
        sa.select(sa.func.count())
        .select_from(CustomerStatusChange)
        .where(CustomerStatusChange.customer_id == customer_id),
        sa.select(sa.func.count())
        .select_from(EstimateChange)
        .where(EstimateChange.customer_id == customer_id),
        sa.select(sa.func.count())
        .select_from(CustomerOptOutChange)
        .where(CustomerOptOutChange.customer_id == customer_id),
    ]
    return int(session.execute(sa.select(sum(c.scalar_subquery() for c in counts))).scalar_one())
