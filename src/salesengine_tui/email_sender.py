"""The sender: drains the outbox through the configured provider.

One round: give back a dead sender's rows, claim a batch (committed at once), skip rows whose
customer opted out or was suppressed meanwhile, call the provider, and record each outcome in
its own short transaction right after the answer. The only window where a message can go out
twice is between the provider's answer and that commit (milliseconds); a sender killed there
leaves the rows claimed, and they are sent again when the lease is over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from . import outbox
from .clock import Clock
from .db.engine import session_scope
from .email_providers import (
    AuthFailed,
    FileProvider,
    Outgoing,
    PostmarkProvider,
    Provider,
    SendGridProvider,
    TryLater,
    Unclear,
)
from .errors import UserError
from .settings import Settings

log = logging.getLogger("salesengine.email")


def make_provider(settings: Settings) -> Provider:
    """The configured provider; a missing key is a clear error, never a traceback."""
    if settings.email_provider == "sendgrid":
        if settings.sendgrid_api_key is None:
            raise UserError(
                "SALESENGINE_EMAIL_PROVIDER=sendgrid needs SALESENGINE_SENDGRID_API_KEY"
            )
        return SendGridProvider(
            settings.sendgrid_api_key.get_secret_value(),
            settings.sendgrid_base_url,
            settings.email_from,
        )
    if settings.email_provider == "postmark":
        if settings.postmark_server_token is None:
            raise UserError(
                "SALESENGINE_EMAIL_PROVIDER=postmark needs SALESENGINE_POSTMARK_SERVER_TOKEN"
            )
        return PostmarkProvider(
            settings.postmark_server_token.get_secret_value(),
            settings.postmark_base_url,
            settings.postmark_stream,
            settings.postmark_broadcast_stream,
        )
    folder = settings.outbox_dir or Path(settings.data_dir) / "outbox"
    return FileProvider(folder)


@dataclass
class DrainReport:
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    retried: int = 0
    recovered: int = 0
    stopped: str | None = None  # why the sender stopped early (credentials refused)
    errors: list[str] = field(default_factory=list)


def _outgoing(row: outbox.Claimed, settings: Settings) -> Outgoing:
    headers = {}
    if row.is_campaign:
        link = outbox.unsubscribe_link(settings, row.customer_id)
        headers = {
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    return Outgoing(
        id=row.id,
        to_email=row.to_email,
        to_name=row.to_name,
        subject=row.subject,
        body_text=row.body_text,
        from_address=settings.email_from,
        headers=headers,
        is_campaign=row.is_campaign,
    )


def drain(
    engine: Engine,
    provider: Provider,
    settings: Settings,
    *,
    clock: Clock,
    max_batches: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> DrainReport:
    """Send due rows until none are left (or `max_batches`, or `should_stop`)."""
    report = DrainReport()
    with session_scope(engine) as session:
        lease = timedelta(seconds=settings.outbox_lease_seconds)
        report.recovered = outbox.recover_stale_claims(session, now=clock.now(), lease=lease)
    batches = 0
    while not should_stop() and (max_batches is None or batches < max_batches):
        with session_scope(engine) as session:  # the claim is committed before any sending
            rows = outbox.claim(session, now=clock.now(), limit=provider.batch_size)
        if not rows:
            break
        batches += 1
        stop = _send_batch(engine, provider, settings, rows, clock.now, report)
        if stop:
            report.stopped = stop
            break
    return report


def _send_batch(
    engine: Engine,
    provider: Provider,
    settings: Settings,
    rows: list[outbox.Claimed],
    now: Callable[[], datetime],
    report: DrainReport,
) -> str | None:
    blocked = [row for row in rows if row.blocked]
    sendable = [row for row in rows if not row.blocked]
    with session_scope(engine) as session:
        for reason in {row.blocked for row in blocked}:
            outbox.mark_failed(
                session, [r for r in blocked if r.blocked == reason], reason or "", suppressed=True
            )
    report.suppressed += len(blocked)
    if not sendable:
        return None
    by_id = {row.id: row for row in sendable}
    try:
        outcomes = provider.send([_outgoing(row, settings) for row in sendable])
    except TryLater as wait:
        with session_scope(engine) as session:
            report.retried += outbox.retry_later(
                session, sendable, str(wait), now=now(), retry_after=wait.retry_after
            )
        report.errors.append(str(wait))
        log.warning("email provider busy: %s", wait)
        return None
    except Unclear as unclear:
        reason = f"{unclear}; not retried, so nobody gets it twice"
        with session_scope(engine) as session:
            outbox.mark_failed(session, sendable, reason)
        report.failed += len(sendable)
        report.errors.append(reason)
        return None
    except AuthFailed as refused:
        reason = str(refused)
        with session_scope(engine) as session:
            outbox.mark_failed(session, sendable, reason)
            outbox.tell_managers(
                session,
                kind="email-auth",
                title="Email sending stopped: the provider refused our credentials",
                body=f"{reason}. Fix the API key or token; queued email waits until then.",
                now=now(),
            )
        report.failed += len(sendable)
        report.errors.append(reason)
        log.error("email sending stopped: %s", reason)
        return reason
    # Record what happened at once: the shorter this gap, the rarer a resend after a crash.
    at = now()
    with session_scope(engine) as session:
        sent = [(by_id[o.id], o.message_id) for o in outcomes if o.accepted]
        outbox.mark_sent(session, sent, provider=provider.name, now=at)
        refused = [o for o in outcomes if not o.accepted]
        for outcome in refused:
            outbox.mark_failed(
                session,
                [by_id[outcome.id]],
                outcome.error or "refused",
                suppressed=outcome.inactive,
            )
        outbox.suppress_customers(
            session,
            {by_id[o.id].customer_id for o in refused if o.inactive and by_id[o.id].customer_id},
            now=at,
        )
    report.sent += len(sent)
    report.failed += sum(1 for o in refused if not o.inactive)
    report.suppressed += sum(1 for o in refused if o.inactive)
    return None
