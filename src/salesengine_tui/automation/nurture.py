"""Nurture stale estimates: a polite follow-up when a quote sits quiet.

Set-based: one statement finds every due estimate and queues their emails through the outbox,
one more notifies the owners of customers who cannot be emailed; the number of statements does
not grow with the data. An estimate is due when it sits in a stage with a follow-up rule and
its last activity (the stage entry, any interaction with the customer, or a follow-up already
queued) is at least the rule's days old. Each stage entry gets at most `max_per_entry`
follow-ups; their idempotency keys (`nurture:<estimate>:<entry>:<n>`) make a rerun harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Insert
from sqlmodel import Session

from ..access.users import system_user
from ..base.validation import email_sql
from ..email.outbox import enqueue_statement
from .notices import notify_statement

MAX_PER_ENTRY = 3

# The due estimates: every estimate in a stage with a rule, with its last activity and how
# many follow-ups this stage entry has had (`n`); `key_prefix` names the stage entry in keys.
_DUE = """
WITH candidates AS (
    SELECT e.id AS estimate_id, e.customer_id, e.title, e.owner_id,
           c.name AS customer_name, c.email, c.email_opt_out, c.email_suppressed_at,
           coalesce(owner.name, 'your SalesEngine team') AS rep_name,
           s.follow_up_after_days AS days,
           floor(extract(epoch FROM e.stage_entered_at))::bigint AS entry,
           e.stage_entered_at, c.last_interaction_at
    FROM estimates e
    JOIN deal_stages s ON s.id = e.stage_id AND s.follow_up_after_days IS NOT NULL
    JOIN customers c ON c.id = e.customer_id
    LEFT JOIN users owner ON owner.id = e.owner_id
), prior AS (
    -- Follow-ups already queued, per estimate and stage entry: one range scan of the nurture
    -- keys on the byte-ordered index, then a hash join (no lookup per candidate).
    SELECT split_part(idempotency_key, ':', 2)::uuid AS estimate_id,
           split_part(idempotency_key, ':', 3)::bigint AS entry,
           count(*) AS n, max(created_at) AS last_queued
    FROM email_outbox
    WHERE idempotency_key COLLATE "C" >= 'nurture:' AND idempotency_key COLLATE "C" < 'nurture;'
    GROUP BY 1, 2
), counted AS (
    SELECT cand.*, 'nurture:' || cand.estimate_id || ':' || cand.entry || ':' AS key_prefix,
           coalesce(prior.n, 0) AS n,
           greatest(cand.stage_entered_at, cand.last_interaction_at, prior.last_queued)
               AS last_activity
    FROM candidates cand
    LEFT JOIN prior ON prior.estimate_id = cand.estimate_id AND prior.entry = cand.entry
), due AS (
    SELECT * FROM counted
    WHERE n < :max_per_entry
      AND last_activity <= :now - days * interval '1 day'
)
SELECT estimate_id, customer_id, owner_id, title, customer_name, email, email_opt_out,
       email_suppressed_at, rep_name, key_prefix, n
FROM due
"""


def _due(now: datetime, max_per_entry: int) -> sa.Subquery:
    """`_DUE` as a subquery the statements below select from (inlined by the planner)."""
    return (
        sa.text(_DUE)
        .bindparams(now=now, max_per_entry=max_per_entry)
        .columns(
            estimate_id=sa.Uuid,
            customer_id=sa.Uuid,
            owner_id=sa.Uuid,
            title=sa.Text,
            customer_name=sa.Text,
            email=sa.Text,
            email_opt_out=sa.Boolean,
            email_suppressed_at=sa.DateTime(timezone=True),
            rep_name=sa.Text,
            key_prefix=sa.Text,
            n=sa.BigInteger,
        )
        .subquery("due")
    )


def _emailable(due: sa.Subquery) -> sa.ColumnElement[bool]:
    """Who can be emailed: a plausible address, not opted out, not suppressed by the provider."""
    return sa.and_(
        email_sql(due.c.email), ~due.c.email_opt_out, due.c.email_suppressed_at.is_(None)
    )


def _follow_ups(due: sa.Subquery) -> sa.Select:
    """The follow-up email of every due estimate whose customer can be emailed."""
    return sa.select(
        (due.c.key_prefix + sa.cast(due.c.n + 1, sa.Text)).label("idempotency_key"),
        due.c.customer_id,
        due.c.estimate_id,  # the deal it is about: a reply or a bounce finds it
        due.c.email.label("to_email"),
        due.c.customer_name.label("to_name"),
        ("Checking in on your quote: " + due.c.title).label("subject"),
        (
            "Hi "
            + due.c.customer_name
            + ",\n\nJust checking in on the quote for "
            + due.c.title
            + ". If you have any questions, or would like to go ahead, reply to this email or "
            + "give us a call.\n\nThanks,\n"
            + due.c.rep_name
            + "\n"
        ).label("body_text"),
    ).where(_emailable(due))


def _call_instead(due: sa.Subquery, now: datetime) -> Insert:
    """A "call instead" notice to the owner of every due estimate that cannot be emailed."""
    why = sa.case(
        (due.c.email_opt_out, "opted out of email"),
        (due.c.email_suppressed_at.is_not(None), "email address inactive"),
        else_="no usable email address",
    )
    notices = sa.select(
        due.c.owner_id,
        sa.literal("call-instead", sa.Text),
        "Call instead: " + due.c.customer_name + " has gone quiet",
        "No follow-up email can go to "
        + due.c.customer_name
        + " ("
        + why
        + ') about "'
        + due.c.title
        + '": give them a call.',
        due.c.customer_id,
        due.c.estimate_id,
        "call-instead:" + due.c.key_prefix,
        sa.literal(now, sa.DateTime(timezone=True)),
    ).where(due.c.owner_id.is_not(None), ~_emailable(due))
    return notify_statement(notices)


@dataclass(frozen=True)
class NurtureReport:
    emails: int  # follow-up emails queued (a dry run: that would be queued)
    call_instead: int  # "call instead" notices to owners (a dry run: that would be sent)


def run(
    session: Session, *, now: datetime, max_per_entry: int = MAX_PER_ENTRY, dry_run: bool = False
) -> NurtureReport:
    """Queue today's follow-ups and "call instead" notices in the caller's transaction."""
    system = system_user(session).id
    due = _due(now, max_per_entry)
    if dry_run:
        emailable, owners = session.execute(
            sa.select(
                sa.func.count().filter(_emailable(due)),
                sa.func.count().filter(sa.and_(due.c.owner_id.is_not(None), ~_emailable(due))),
            ).select_from(due)
        ).one()
        return NurtureReport(int(emailable), int(owners))
    called = len(session.execute(_call_instead(due, now)).all())
    queued = len(
        session.execute(enqueue_statement(_follow_ups(due), now=now, created_by=system)).all()
    )
    return NurtureReport(queued, called)
