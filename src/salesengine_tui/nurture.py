"""Nurture stale estimates (plan 3A): a polite follow-up when a quote sits quiet.

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
from sqlmodel import Session

from .users import system_user
from .validation import EMAIL_MAX, EMAIL_SQL_PATTERN

MAX_PER_ENTRY = 3

# What the candidates share: every estimate in a stage with a rule, with its last activity and
# how many follow-ups this stage entry has had. `entry` names the stage entry in keys.
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
"""

# Who can be emailed: a plausible address, not opted out, not suppressed by the provider.
_EMAILABLE = (
    f"coalesce(email, '') ~ '{EMAIL_SQL_PATTERN}' AND length(email) <= {EMAIL_MAX} "
    "AND NOT email_opt_out AND email_suppressed_at IS NULL"
)

_QUEUE = (
    _DUE
    + r"""
INSERT INTO email_outbox (idempotency_key, customer_id, to_email, to_name, subject, body_text,
                          is_campaign, created_by, created_at, next_attempt_at)
SELECT key_prefix || (n + 1), customer_id, email,
       regexp_replace(customer_name, '[[:cntrl:]]', ' ', 'g'),
       'Checking in on your quote: ' || regexp_replace(title, '[[:cntrl:]]', ' ', 'g'),
       'Hi ' || customer_name || E',\n\n'
           || 'Just checking in on the quote for ' || title || E'. If you have any questions, '
           || E'or would like to go ahead, reply to this email or give us a call.\n\n'
           || E'Thanks,\n' || rep_name || E'\n',
       false, :system_user, :now, :now
FROM due
WHERE """
    + _EMAILABLE
    + r"""
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id
"""
)

_CALL_INSTEAD = (
    _DUE
    + r"""
INSERT INTO notifications (user_id, kind, title, body, customer_id, estimate_id, dedupe_key,
                           created_at)
SELECT owner_id, 'call-instead',
       'Call instead: ' || customer_name || ' has gone quiet',
       'No follow-up email can go to ' || customer_name || ' ('
           || CASE WHEN email_opt_out THEN 'opted out of email'
                   WHEN email_suppressed_at IS NOT NULL THEN 'email address inactive'
                   ELSE 'no usable email address' END
           || ') about "' || title || '": give them a call.',
       customer_id, estimate_id, 'call-instead:' || key_prefix, :now
FROM due
WHERE owner_id IS NOT NULL AND NOT ("""
    + _EMAILABLE
    + r""")
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""
)


@dataclass(frozen=True)
class NurtureReport:
    emails_queued: int
    call_instead: int


def run(
    session: Session, *, now: datetime, max_per_entry: int = MAX_PER_ENTRY, dry_run: bool = False
) -> NurtureReport:
    """Queue today's follow-ups and "call instead" notices in the caller's transaction."""
    system = system_user(session).id
    params = {"now": now, "max_per_entry": max_per_entry, "system_user": system}
    if dry_run:
        emailable, owners = session.execute(
            sa.text(
                _DUE
                + f"SELECT count(*) FILTER (WHERE {_EMAILABLE}), "
                + f"count(*) FILTER (WHERE owner_id IS NOT NULL AND NOT ({_EMAILABLE})) FROM due"
            ),
            params,
        ).one()
        return NurtureReport(int(emailable), int(owners))
    called = len(session.execute(sa.text(_CALL_INSTEAD), params).all())
    queued = len(session.execute(sa.text(_QUEUE), params).all())
    return NurtureReport(queued, called)
