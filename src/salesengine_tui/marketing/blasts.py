"""Email blasts to a segment: template, preview, dry run, confirmed send, progress.

Who gets a blast is decided in one place, the `_classified` query: every member of the segment
is either a recipient or excluded for one reason (opted out, suppressed, no email, invalid
email, duplicate address). The dry run counts that query; sending inserts from it, one outbox
row per recipient with the key `blast:<blast>:<customer>`, in a single INSERT ... SELECT.
Templates and their rendering in SQL are `blast_templates`: the preview and the queued emails
come from the same expression.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base.errors import UserError
from ..base.settings import Settings
from ..base.validation import email_sql
from ..db.models import Blast, Customer, EmailOutbox, OutboxStatus, User
from ..email.compliance import send_day, with_unsubscribe_link
from ..email.outbox import SUBJECT_MAX, enqueue_statement, require_campaign_settings
from . import blast_outcomes, segments
from .blast_outcomes import NOTHING_HEARD, BlastOutcomes
from .blast_templates import (
    BODY_MAX,
    PLACEHOLDER_NAMES,
    TEMPLATES,
    Template,
    check_template,
    rendered,
)

__all__ = [
    "BODY_MAX",
    "PLACEHOLDER_NAMES",
    "SUBJECT_MAX",
    "TEMPLATES",
    "Template",
    "check_template",
]

PREVIEW = 5


class Reason:
    recipient = "recipient"
    opted_out = "opted_out"
    suppressed = "suppressed"
    no_email = "no_email"
    invalid_email = "invalid_email"
    duplicate_address = "duplicate_address"


EXCLUSIONS = {
    Reason.opted_out: "opted out",
    Reason.suppressed: "suppressed by the provider",
    Reason.no_email: "no email",
    Reason.invalid_email: "invalid email",
    Reason.duplicate_address: "duplicate address",
}


# --- who gets it -----------------------------------------------------------------------------


def _classified(definition: segments.Definition, now: datetime) -> sa.Subquery:
    """Every member of the segment with the reason it is or is not a recipient."""
    email = sa.func.btrim(sa.func.coalesce(Customer.email, ""))
    first_reason = sa.case(
        (Customer.email_opt_out, Reason.opted_out),
        (Customer.email_suppressed_at.is_not(None), Reason.suppressed),
        (email == "", Reason.no_email),
        (~email_sql(email), Reason.invalid_email),
        else_=sa.null(),
    ).label("reason")
    members = (
        sa.select(Customer.id, Customer.created_at, email.label("email"), first_reason)
        .where(segments.compile_definition(definition, now))
        .subquery("members")
    )
    # The oldest customer with an address gets the email; later ones with it are duplicates.
    rank = sa.func.row_number().over(
        partition_by=(members.c.reason, sa.func.lower(members.c.email)),
        order_by=(members.c.created_at, members.c.id),
    )
    reason = sa.func.coalesce(
        members.c.reason,
        sa.case((rank > 1, Reason.duplicate_address), else_=Reason.recipient),
    )
    return sa.select(members.c.id, members.c.email, reason.label("reason")).subquery("classified")


@dataclass(frozen=True)
class DryRun:
    recipients: int
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def members(self) -> int:
        return self.recipients + sum(self.excluded.values())


def dry_run(session: Session, definition: segments.Definition, *, now: datetime) -> DryRun:
    c = _classified(definition, now)
    rows = session.execute(sa.select(c.c.reason, sa.func.count()).group_by(c.c.reason)).all()
    counts = {reason: int(n) for reason, n in rows}
    recipients = counts.pop(Reason.recipient, 0)
    return DryRun(recipients, {r: counts.get(r, 0) for r in EXCLUSIONS})


@dataclass(frozen=True)
class Rendered:
    customer_id: uuid.UUID
    name: str
    email: str
    subject: str
    body: str


def preview(
    session: Session,
    definition: segments.Definition,
    subject: str,
    body: str,
    *,
    now: datetime,
    settings: Settings,
    limit: int = PREVIEW,
) -> list[Rendered]:
    """The email as the first recipients will get it, footer included: each with its own
    unsubscribe link as if sent today (or the setting it still needs)."""
    check_template(subject, body)
    c = _classified(definition, now)
    stmt = (
        sa.select(Customer.id, Customer.name, c.c.email, *rendered(subject, body, now, settings))
        .join(c, c.c.id == Customer.id)
        .where(c.c.reason == Reason.recipient)
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    )
    day = send_day(settings, now)
    return [
        Rendered(cid, name, email, subject, with_unsubscribe_link(text, settings, cid, day))
        for cid, name, email, subject, text in session.execute(stmt)
    ]


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    blast_id: uuid.UUID
    queued: int  # new outbox rows now
    recipients: int
    again: bool  # this blast was sent before: only members not yet queued were added


def content_key(
    definition: segments.Definition, subject: str, body: str, now: datetime, tz: ZoneInfo
) -> str:
    """The same email to the same segment on the same day is one blast: the business day
    (`tz`, the business time zone), not the UTC date, which turns over in the evening."""
    day = now.astimezone(tz).date().isoformat()
    raw = "\x00".join((segments.to_text(definition), subject, body, day))
    return hashlib.sha256(raw.encode()).hexdigest()


def send(
    session: Session,
    *,
    actor: Actor,
    definition: segments.Definition,
    subject: str,
    body: str,
    confirm: int,
    now: datetime,
    settings: Settings,
    segment_id: uuid.UUID | None = None,
    segment_name: str | None = None,
) -> Sent:
    """Queue the blast in the caller's transaction, once the actor typed the recipient count."""
    permissions.require(actor, permissions.Action.send_blast)
    check_template(subject, body)
    require_campaign_settings(settings)
    counted = dry_run(session, definition, now=now)
    if confirm != counted.recipients:
        raise UserError(
            f"the segment has {counted.recipients:,} recipients now, not {confirm:,}: "
            "check the numbers and type the count again"
        )
    key = content_key(definition, subject, body, now, ZoneInfo(settings.business_timezone))
    created = session.execute(
        insert(Blast)
        .values(
            content_key=key,
            segment_id=segment_id,
            segment_name=segment_name,
            definition=segments.to_json(definition),
            subject=subject,
            body=body,
            recipients=counted.recipients,
            excluded=counted.excluded,
            created_by=actor.id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["content_key"])
        .returning(Blast.id)
    ).first()
    again = created is None
    blast_id = (
        session.execute(sa.select(Blast.id).where(Blast.content_key == key)).scalar_one()
        if again
        else created[0]
    )
    c = _classified(definition, now)
    rendered_subject, rendered_body = rendered(subject, body, now, settings)
    recipients = (
        sa.select(
            (sa.literal(f"blast:{blast_id}:") + sa.cast(Customer.id, sa.Text)).label(
                "idempotency_key"
            ),
            Customer.id.label("customer_id"),
            c.c.email.label("to_email"),
            Customer.name.label("to_name"),
            rendered_subject.label("subject"),
            rendered_body.label("body_text"),
            sa.literal(blast_id, sa.Uuid).label("blast_id"),
        )
        .join(c, c.c.id == Customer.id)
        .where(c.c.reason == Reason.recipient)
        .cte("recipients")
    )
    inserted = enqueue_statement(
        sa.select(*recipients.c), now=now, created_by=actor.id, is_campaign=True
    ).cte("inserted")
    # One statement, one snapshot: the recipients inserted are the ones counted here, so a
    # segment that changed since the confirmation is caught. Counted in the database: 100,000
    # new ids need not travel back to say how many.
    now_recipients, queued = session.execute(
        sa.select(
            sa.select(sa.func.count()).select_from(recipients).scalar_subquery(),
            sa.select(sa.func.count()).select_from(inserted).scalar_subquery(),
        )
    ).one()
    if now_recipients != confirm:
        raise UserError(
            f"the segment changed while sending ({now_recipients:,} recipients, not "
            f"{confirm:,}); nothing was queued: check the numbers again"
        )
    return Sent(blast_id, int(queued or 0), counted.recipients, again)


# --- progress --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    queued: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.sending + self.sent + self.failed + self.suppressed

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.suppressed


def _key_range(blast_id: uuid.UUID) -> sa.ColumnElement[bool]:
    # A range on the byte-ordered key index ('blast:<id>:' up to the next character).
    key = sa.collate(EmailOutbox.idempotency_key, "C")
    return sa.and_(key >= f"blast:{blast_id}:", key < f"blast:{blast_id};")


def progress(session: Session, blast_id: uuid.UUID) -> Progress:
    rows = session.execute(
        sa.select(EmailOutbox.status, sa.func.count())
        .where(_key_range(blast_id))
        .group_by(EmailOutbox.status)
    ).all()
    counts = {OutboxStatus(status).value: int(n) for status, n in rows}
    return Progress(**{k: v for k, v in counts.items() if k in Progress.__dataclass_fields__})


@dataclass(frozen=True)
class BlastSummary:
    id: uuid.UUID
    subject: str
    segment: str
    recipients: int
    by: str | None
    created_at: datetime
    progress: Progress
    outcomes: BlastOutcomes = NOTHING_HEARD  # what came back from the providers


def recent(session: Session, *, limit: int = 10) -> list[BlastSummary]:
    """The latest blasts, newest first, each with how far its emails have gone and what
    happened to them (`blast_outcomes`, one statement for them all)."""
    rows = session.execute(
        sa.select(
            Blast.id,
            Blast.subject,
            sa.func.coalesce(Blast.segment_name, ""),
            Blast.definition,
            Blast.recipients,
            User.name,
            Blast.created_at,
        )
        .outerjoin(User, User.id == Blast.created_by)
        .order_by(Blast.created_at.desc(), Blast.id)
        .limit(limit)
    )
    listed = rows.all()
    outcomes = blast_outcomes.for_blasts(session, [row[0] for row in listed])
    out = []
    for bid, subject, name, definition, recipients, by, created in listed:
        segment = name or segments.to_text(segments.from_json(definition))
        out.append(
            BlastSummary(
                bid,
                subject,
                segment,
                recipients,
                by,
                created,
                progress(session, bid),
                outcomes[bid],
            )
        )
    return out


def content_of(session: Session, blast_id: uuid.UUID) -> tuple[str, str]:
    """A past blast's subject and body, to start a new one from."""
    row = session.execute(sa.select(Blast.subject, Blast.body).where(Blast.id == blast_id)).first()
    if row is None:
        raise UserError("that blast is gone")
    return row[0], row[1]
