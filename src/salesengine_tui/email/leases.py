"""The sender's hold on outbox rows: a claim is a lease (`SALESENGINE_OUTBOX_LEASE_SECONDS`),
renewed between the requests of a batch once a quarter of it has gone (so it only has to outlast
that quarter and one request); rows of a sender whose lease is over (it died) go back to the
queue; rows not sent go back with a backoff or, never handed to the provider, at once."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from ..db.models import EmailOutbox, OutboxStatus
from .outbox import Claimed, mark_failed, stored_error

LEASE = timedelta(minutes=10)  # default: a claim older than this belongs to a dead sender
MAX_ATTEMPTS = 8


def recover_stale_claims(session: Session, *, now: datetime, lease: timedelta = LEASE) -> int:
    """Rows claimed by a sender that died (lease over) go back to the queue."""
    result = session.execute(
        sa.update(EmailOutbox)
        .where(EmailOutbox.status == OutboxStatus.sending, EmailOutbox.claimed_at < now - lease)
        .values(status=OutboxStatus.queued, claimed_at=None, next_attempt_at=now)
        .returning(EmailOutbox.id)
    )
    return len(result.all())


def _still_held(rows: list[Claimed]) -> sa.Update:
    """An UPDATE of these rows while they are still being sent."""
    ids = [row.id for row in rows]
    return sa.update(EmailOutbox).where(
        EmailOutbox.id.in_(ids), EmailOutbox.status == OutboxStatus.sending
    )


def renew(session: Session, rows: list[Claimed], *, now: datetime) -> None:
    """The sender still holds these rows: their lease starts again now (between requests, so
    a lease only has to outlast one request to the provider)."""
    if rows:
        session.execute(_still_held(rows).values(claimed_at=now))


def release(session: Session, rows: list[Claimed], *, now: datetime) -> None:
    """Rows the sender claimed but never handed to the provider go back to the queue, due now,
    and the claim does not count as an attempt."""
    if rows:
        session.execute(
            _still_held(rows).values(
                status=OutboxStatus.queued,
                claimed_at=None,
                next_attempt_at=now,
                attempts=sa.func.greatest(EmailOutbox.attempts - 1, 0),
            )
        )


def backoff(
    attempts: int, *, retry_after: float | None = None, longest: float = 3600.0
) -> timedelta:
    """Exponential with jitter (30 s, 1 min, 2 min, ... up to an hour); never sooner than the
    provider asked (`Retry-After`), unless it asked for more than `longest` seconds."""
    seconds = min(3600.0, 30.0 * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)
    asked = min(max(retry_after or 0.0, 0.0), longest)
    return timedelta(seconds=max(seconds, asked))


def retry_later(
    session: Session,
    rows: list[Claimed],
    reason: str,
    *,
    now: datetime,
    retry_after: float | None = None,
    longest: float = 3600.0,
) -> int:
    """Back to the queue with a backoff (`Retry-After` honoured up to `longest` seconds); rows
    past MAX_ATTEMPTS fail instead. Returns how many will be retried."""
    again = [row for row in rows if row.attempts < MAX_ATTEMPTS]
    mark_failed(
        session,
        [row for row in rows if row.attempts >= MAX_ATTEMPTS],
        f"gave up after {MAX_ATTEMPTS} attempts: {reason}",
    )
    if again:
        session.execute(
            sa.text(
                "UPDATE email_outbox AS o SET status = 'queued', claimed_at = NULL, "
                "last_error = :reason, next_attempt_at = :now + v.wait "
                "FROM unnest(CAST(:ids AS uuid[]), CAST(:waits AS interval[])) AS v(id, wait) "
                "WHERE o.id = v.id"
            ),
            {
                "reason": stored_error(reason),
                "now": now,
                "ids": [row.id for row in again],
                "waits": [
                    backoff(row.attempts, retry_after=retry_after, longest=longest) for row in again
                ],
            },
        )
    return len(again)
