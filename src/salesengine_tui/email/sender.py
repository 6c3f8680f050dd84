"""The sender's steps, each in the caller's transaction: the use case (`usecases.email`)
runs them in order, one transaction each.

One round: give back a dead sender's rows, claim a batch (committed at once), skip rows whose
customer opted out or was suppressed meanwhile, call the provider (no transaction open), and
record each outcome in its own short transaction right after the answer. The only window where
a message can go out twice is between the provider's answer and that commit (milliseconds); a
sender killed there leaves the rows claimed, and they are sent again when the lease is over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from ..base.errors import UserError
from ..base.settings import Settings
from . import outbox
from .providers import (
    AuthFailed,
    FileProvider,
    Outcome,
    Outgoing,
    PostmarkProvider,
    Provider,
    SendGridProvider,
    TryLater,
    Unclear,
)

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


def recover(session: Session, settings: Settings, *, now: datetime) -> int:
    """Give back the rows of a sender whose lease is over (it died mid-batch)."""
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    return outbox.recover_stale_claims(session, now=now, lease=lease)


def skip_blocked(
    session: Session, rows: list[outbox.Claimed], report: DrainReport
) -> list[outbox.Claimed]:
    """Rows whose customer opted out or was suppressed since they were queued are marked and
    not sent; the rest are returned."""
    blocked = [row for row in rows if row.blocked]
    for reason in {row.blocked for row in blocked}:
        outbox.mark_failed(
            session, [r for r in blocked if r.blocked == reason], reason or "", suppressed=True
        )
    report.suppressed += len(blocked)
    return [row for row in rows if not row.blocked]


@dataclass(frozen=True)
class Delivery:
    """What the provider said about one batch: an outcome per row, or why the whole batch was
    not sent (busy: try later; unclear: it may have gone; refused: our credentials)."""

    rows: list[outbox.Claimed]
    outcomes: list[Outcome] = field(default_factory=list)
    busy: TryLater | None = None
    unclear: Unclear | None = None
    refused: AuthFailed | None = None


def deliver(provider: Provider, settings: Settings, rows: list[outbox.Claimed]) -> Delivery:
    """Hand a batch to the provider (no transaction is open meanwhile)."""
    try:
        return Delivery(rows, provider.send([_outgoing(row, settings) for row in rows]))
    except TryLater as wait:
        return Delivery(rows, busy=wait)
    except Unclear as unclear:
        return Delivery(rows, unclear=unclear)
    except AuthFailed as refused:
        return Delivery(rows, refused=refused)


def record(
    session: Session, delivery: Delivery, report: DrainReport, *, provider: str, now: datetime
) -> str | None:
    """Write down what the provider said, right after it answered: the shorter this gap, the
    rarer a resend after a crash. Returns why sending must stop (credentials refused)."""
    rows = delivery.rows
    if delivery.busy is not None:
        wait = delivery.busy
        report.retried += outbox.retry_later(
            session, rows, str(wait), now=now, retry_after=wait.retry_after
        )
        report.errors.append(str(wait))
        log.warning("email provider busy: %s", wait)
        return None
    if delivery.unclear is not None:
        reason = f"{delivery.unclear}; not retried, so nobody gets it twice"
        outbox.mark_failed(session, rows, reason)
        report.failed += len(rows)
        report.errors.append(reason)
        return None
    if delivery.refused is not None:
        reason = str(delivery.refused)
        outbox.mark_failed(session, rows, reason)
        outbox.tell_managers(
            session,
            kind="email-auth",
            title="Email sending stopped: the provider refused our credentials",
            body=f"{reason}. Fix the API key or token; queued email waits until then.",
            now=now,
        )
        report.failed += len(rows)
        report.errors.append(reason)
        log.error("email sending stopped: %s", reason)
        return reason
    by_id = {row.id: row for row in rows}
    sent = [(by_id[o.id], o.message_id) for o in delivery.outcomes if o.accepted]
    outbox.mark_sent(session, sent, provider=provider, now=now)
    refused = [o for o in delivery.outcomes if not o.accepted]
    for outcome in refused:
        outbox.mark_failed(
            session, [by_id[outcome.id]], outcome.error or "refused", suppressed=outcome.inactive
        )
    outbox.suppress_customers(
        session,
        {by_id[o.id].customer_id for o in refused if o.inactive and by_id[o.id].customer_id},
        now=now,
    )
    report.sent += len(sent)
    report.failed += sum(1 for o in refused if not o.inactive)
    report.suppressed += sum(1 for o in refused if o.inactive)
    return None
