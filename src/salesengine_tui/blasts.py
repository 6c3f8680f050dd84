"""Email blasts to a segment: template, preview, dry run, confirmed send, progress.

Who gets a blast is decided in one place, the `_classified` query: every member of the segment
is either a recipient or excluded for one reason (opted out, suppressed, no email, invalid
email, duplicate address). The dry run counts that query; sending inserts from it, one outbox
row per recipient with the key `blast:<blast>:<customer>`, in a single INSERT ... SELECT.
Templates are rendered in SQL from literal parts (bound parameters) and placeholder columns,
so the preview and the queued emails come from the same expression and nothing a person
types is ever interpreted.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from . import permissions, segments
from .db.models import Blast, Customer, EmailOutbox, Equipment, OutboxStatus, User
from .errors import UserError
from .outbox import SUBJECT_MAX, campaign_footer, require_campaign_settings
from .settings import Settings
from .users import Actor
from .validation import EMAIL_MAX, EMAIL_SQL_PATTERN

BODY_MAX = 20_000
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


@dataclass(frozen=True)
class Template:
    name: str
    subject: str
    body: str


TEMPLATES = (
    Template(
        "Replacement season",
        "{first_name}, is your {equipment_kind} ready for another year?",
        "Hi {first_name},\n\nYour {equipment_kind} is {equipment_age} years old. Units that age "
        "work harder and cost more to run. We would be glad to give you a free replacement "
        "quote, with no obligation.\n\nReply to this email or call us to book a visit.\n\n"
        "Thanks,\n{owner_name}\n",
    ),
    Template(
        "Tune-up reminder",
        "Time for a tune-up, {first_name}",
        "Hi {first_name},\n\nA yearly tune-up keeps your system efficient and catches small "
        "problems before they become big ones. Reply to this email to pick a time.\n\n"
        "Thanks,\n{owner_name}\n",
    ),
)


# --- placeholders ----------------------------------------------------------------------------


def _placeholders(now: datetime) -> dict[str, tuple[str, sa.ColumnElement[str]]]:
    """name -> (what it is, its SQL value for one customer)."""
    installed = (
        sa.select(sa.func.min(Equipment.installed_on))
        .where(Equipment.customer_id == Customer.id)
        .scalar_subquery()
    )
    age = sa.func.date_part("year", sa.func.age(sa.literal(now.date(), sa.Date), installed))
    kind = (
        sa.select(Equipment.kind)
        .where(Equipment.customer_id == Customer.id)
        .order_by(Equipment.installed_on, Equipment.id)
        .limit(1)
        .scalar_subquery()
    )
    owner = sa.select(User.name).where(User.id == Customer.owner_id).scalar_subquery()
    first = sa.func.split_part(sa.func.btrim(Customer.name), " ", 1)
    return {
        "first_name": (
            "the first word of the name",
            sa.func.coalesce(sa.func.nullif(first, ""), "there"),
        ),
        "name": ("the customer's name", Customer.name),
        "city": ("the city", sa.func.coalesce(Customer.city, "")),
        "equipment_age": (
            "the oldest unit's age in years",
            sa.func.coalesce(sa.cast(sa.cast(age, sa.Integer), sa.Text), "?"),
        ),
        "equipment_kind": (
            "the oldest unit's kind",
            sa.func.coalesce(sa.func.lower(kind), "system"),
        ),
        "owner_name": ("the customer's rep", sa.func.coalesce(owner, "The team")),
    }


PLACEHOLDER_NAMES = ("first_name", "name", "city", "equipment_age", "equipment_kind", "owner_name")
_PLACEHOLDER = re.compile(r"\{([^{}\n]*)\}")


def _parts(template: str, where: str) -> list[str | tuple[str]]:
    """Literal text and ("placeholder",) parts; an unknown placeholder is an error naming it."""
    parts: list[str | tuple[str]] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        name = m.group(1).strip()
        if name not in PLACEHOLDER_NAMES:
            line = template.count("\n", 0, m.start()) + 1
            raise UserError(
                f"unknown placeholder {m.group(0)!r} in the {where} (line {line}); "
                f"use {', '.join('{' + n + '}' for n in PLACEHOLDER_NAMES)}"
            )
        parts.append(template[pos : m.start()])
        parts.append((name,))
        pos = m.end()
    parts.append(template[pos:])
    return [p for p in parts if p != ""]


def _render(template: str, where: str, now: datetime) -> sa.ColumnElement[str]:
    values = _placeholders(now)
    pieces: list[sa.ColumnElement[str]] = []
    for part in _parts(template, where):
        if isinstance(part, tuple):
            # Control characters in a name never reach a header or the text.
            pieces.append(sa.func.regexp_replace(values[part[0]][1], "[[:cntrl:]]", " ", "g"))
        else:
            pieces.append(sa.literal(part, sa.Text))
    return sa.func.concat(*pieces) if pieces else sa.literal("", sa.Text)


def check_template(subject: str, body: str) -> None:
    if not subject.strip():
        raise UserError("the subject is empty")
    if "\n" in subject.strip() or "\r" in subject:
        raise UserError("the subject must be one line")
    if len(subject) > SUBJECT_MAX:
        raise UserError(f"the subject is too long ({SUBJECT_MAX} characters at most)")
    if not body.strip():
        raise UserError("the body is empty")
    if len(body) > BODY_MAX:
        raise UserError(f"the body is too long ({BODY_MAX:,} characters at most)")
    _parts(subject, "subject")
    _parts(body, "body")


# --- who gets it -----------------------------------------------------------------------------


def _classified(definition: segments.Definition, now: datetime) -> sa.Subquery:
    """Every member of the segment with the reason it is or is not a recipient."""
    email = sa.func.btrim(sa.func.coalesce(Customer.email, ""))
    first_reason = sa.case(
        (Customer.email_opt_out, Reason.opted_out),
        (Customer.email_suppressed_at.is_not(None), Reason.suppressed),
        (email == "", Reason.no_email),
        (
            sa.or_(~email.regexp_match(EMAIL_SQL_PATTERN), sa.func.length(email) > EMAIL_MAX),
            Reason.invalid_email,
        ),
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
    """The email as the first recipients will get it, footer included."""
    check_template(subject, body)
    c = _classified(definition, now)
    stmt = (
        sa.select(Customer.id, Customer.name, c.c.email, *_rendered(subject, body, now, settings))
        .join(c, c.c.id == Customer.id)
        .where(c.c.reason == Reason.recipient)
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    )
    return [Rendered(*row) for row in session.execute(stmt)]


_FOOTER_SLOT = uuid.UUID(int=0)  # stands for the customer's id in the footer text


def _rendered(
    subject: str, body: str, now: datetime, settings: Settings
) -> tuple[sa.ColumnElement[str], sa.ColumnElement[str]]:
    """The subject (one clean header line) and the body with the compliance footer."""
    clean = sa.func.btrim(
        sa.func.regexp_replace(_render(subject, "subject", now), r"\s+", " ", "g")
    )
    footer = campaign_footer(settings, _FOOTER_SLOT)
    text = sa.func.concat(
        sa.func.regexp_replace(_render(body, "body", now), r"\s+$", ""),
        sa.func.replace(sa.literal(footer), str(_FOOTER_SLOT), sa.cast(Customer.id, sa.Text)),
    )
    return sa.func.left(clean, SUBJECT_MAX).label("subject"), text.label("body")


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    blast_id: uuid.UUID
    queued: int  # new outbox rows now
    recipients: int
    again: bool  # this blast was sent before: only members not yet queued were added


def content_key(definition: segments.Definition, subject: str, body: str, now: datetime) -> str:
    """The same email to the same segment on the same day is one blast."""
    raw = "\x00".join((segments.to_text(definition), subject, body, now.date().isoformat()))
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
    key = content_key(definition, subject, body, now)
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
    rendered_subject, rendered_body = _rendered(subject, body, now, settings)
    recipients = (
        sa.select(
            (sa.literal(f"blast:{blast_id}:") + sa.cast(Customer.id, sa.Text)).label("key"),
            Customer.id.label("customer_id"),
            c.c.email.label("to_email"),
            sa.func.regexp_replace(Customer.name, "[[:cntrl:]]", " ", "g").label("to_name"),
            rendered_subject.label("subject"),
            rendered_body.label("body_text"),
        )
        .join(c, c.c.id == Customer.id)
        .where(c.c.reason == Reason.recipient)
        .cte("recipients")
    )
    columns = ["idempotency_key", "customer_id", "to_email", "to_name", "subject", "body_text"]
    stamps = [sa.true(), sa.literal(actor.id, sa.Uuid)] + [
        sa.literal(now, sa.DateTime(timezone=True))
    ] * 2
    inserted = (
        insert(EmailOutbox)
        .from_select(
            [*columns, "is_campaign", "created_by", "created_at", "next_attempt_at"],
            sa.select(*recipients.c, *stamps),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(EmailOutbox.id)
        .cte("inserted")
    )
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


def recent(session: Session, *, limit: int = 10) -> list[BlastSummary]:
    """The latest blasts, newest first, each with how far its emails have gone."""
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
    out = []
    for bid, subject, name, definition, recipients, by, created in rows.all():
        segment = name or segments.to_text(segments.from_json(definition))
        out.append(
            BlastSummary(bid, subject, segment, recipients, by, created, progress(session, bid))
        )
    return out


def content_of(session: Session, blast_id: uuid.UUID) -> tuple[str, str]:
    """A past blast's subject and body, to start a new one from."""
    row = session.execute(sa.select(Blast.subject, Blast.body).where(Blast.id == blast_id)).first()
    if row is None:
        raise UserError("that blast is gone")
    return row[0], row[1]
