"""The sender's steps, each in the caller's transaction: the use case (`usecases.email`)
runs them in order, one transaction each.

One round: give back a dead sender's rows, claim a batch (committed at once), skip rows whose
customer opted out or was suppressed meanwhile, then hand the batch to the provider one request
at a time (no transaction open) and record each request's answer in its own short transaction
as soon as it comes, renewing the lease on the rows still held. Whatever the provider accepted
is recorded as sent, whatever happens to the next request. The one window where a message can
go out twice: a sender killed (or its database lost) while a request is in flight or before its
answer is committed; that request's messages are sent again when the lease is over.

What only the sender can add is added as each batch goes out: the Message-ID and reply address
of the row, and a campaign's unsubscribe link, signed for its customer and dated the send day
(the business day), in the body's slot and the List-Unsubscribe header. A campaign whose link
cannot be made (the key or URL was removed since it was queued) waits, as if the provider were
busy, and fails after the last attempt: no campaign goes out without its link.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from ..base.errors import UserError
from ..base.logfmt import quote
from ..base.settings import Settings
from . import leases, outbox, tokens
from .compliance import UNSUBSCRIBE_SLOT, missing_link_settings, send_day
from .providers import (
    AuthFailed,
    FileProvider,
    Outcome,
    Outgoing,
    PostmarkProvider,
    Provider,
    Refused,
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
    stopped: str | None = None  # why the sender stopped early (credentials refused, a fault)
    errors: list[str] = field(default_factory=list)


def _link(row: outbox.Claimed, settings: Settings, day: date) -> str | None:
    """A campaign's unsubscribe link; None for other email, or when it cannot be made."""
    if not row.is_campaign or row.customer_id is None:
        return None
    return tokens.unsubscribe_link(settings, row.customer_id, day)


def _outgoing(row: outbox.Claimed, settings: Settings, day: date) -> Outgoing:
    headers = {}
    body = row.body_text
    link = _link(row, settings, day)  # one HMAC a campaign message
    if link is not None:
        headers = {
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        # A row queued before links were signed has no slot: its body goes as it is.
        body = body.replace(UNSUBSCRIBE_SLOT, link)
    return Outgoing(
        id=row.id,
        to_email=row.to_email,
        to_name=row.to_name,
        subject=row.subject,
        body_text=body,
        from_address=settings.email_from,
        headers=headers,
        is_campaign=row.is_campaign,
        message_id=tokens.message_id(settings, row.id),
        reply_to=tokens.reply_address(settings, row.id),
    )


def _unlinked(rows: list[outbox.Claimed], settings: Settings) -> list[outbox.Claimed]:
    """Campaign rows with a slot for a link that cannot be made now."""
    can_link = not missing_link_settings(settings)
    return [
        row
        for row in rows
        if row.is_campaign
        and UNSUBSCRIBE_SLOT in row.body_text
        and not (can_link and row.customer_id)
    ]


def recover(session: Session, settings: Settings, *, now: datetime) -> int:
    """Give back the rows of a sender whose lease is over (it died mid-batch)."""
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    return leases.recover_stale_claims(session, now=now, lease=lease)


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
    """What the provider said about one request: an outcome per row, or why the whole request
    was not sent (busy: try later; unclear: it may have gone; refused: our credentials;
    broken: the provider code failed in a way nobody foresaw, so it may have gone too)."""

    rows: list[outbox.Claimed]
    outcomes: list[Outcome] = field(default_factory=list)
    busy: TryLater | None = None
    unclear: Unclear | None = None
    refused: AuthFailed | None = None
    broken: str | None = None

    @property
    def ends_batch(self) -> bool:
        """The rest of the batch is not sent now (see `put_back`)."""
        return self.busy is not None or self.refused is not None or self.broken is not None


def deliver(
    provider: Provider,
    settings: Settings,
    rows: list[outbox.Claimed],
    *,
    now: datetime | None = None,
) -> Iterator[Delivery]:
    """Hand a batch to the provider one request at a time (no transaction is open meanwhile),
    yielding each request's answer as it comes. A request refused whole (4xx) is tried again
    one message per request, so only the bad message fails. Campaigns whose unsubscribe link
    cannot be made come last, as a busy answer: they wait. The caller stops iterating after a
    delivery that `ends_batch`."""
    day = send_day(settings, now or datetime.now(UTC))
    waiting = _unlinked(rows, settings)
    held_back = {row.id for row in waiting}
    rows = [row for row in rows if row.id not in held_back]
    by_id = {row.id: row for row in rows}
    pending = deque(provider.requests([_outgoing(row, settings, day) for row in rows]))
    while pending:
        request = pending.popleft()
        held = [by_id[message.id] for message in request]
        try:
            delivery = Delivery(held, provider.send(request))
        except Refused as refused:
            if len(request) > 1:
                pending.extendleft([message] for message in reversed(request))
                continue
            delivery = Delivery(held, [Outcome(request[0].id, False, error=str(refused))])
        except TryLater as wait:
            delivery = Delivery(held, busy=wait)
        except Unclear as unclear:
            delivery = Delivery(held, unclear=unclear)
        except AuthFailed as refused:
            delivery = Delivery(held, refused=refused)
        except Exception as exc:  # a fault in our provider code: stop, release the rest
            log.error("event=fault job=outbox error=%s", quote(f"{type(exc).__name__}: {exc}"))
            delivery = Delivery(held, broken=f"{type(exc).__name__}: {exc}")
        yield delivery
    if waiting:
        missing = " and ".join(missing_link_settings(settings)) or "its customer"
        yield Delivery(waiting, busy=TryLater(f"not sent: its unsubscribe link needs {missing}"))


def record(
    session: Session,
    delivery: Delivery,
    report: DrainReport,
    *,
    settings: Settings,
    provider: str,
    now: datetime,
) -> str | None:
    """Write down what the provider said about one request, right after it answered. Returns
    why sending must stop (credentials refused, a fault in the provider code)."""
    rows = delivery.rows
    if delivery.busy is not None:
        wait = delivery.busy
        report.retried += leases.retry_later(
            session,
            rows,
            str(wait),
            now=now,
            retry_after=wait.retry_after,
            longest=settings.outbox_retry_after_max_seconds,
        )
        report.errors.append(str(wait))
        log.warning("event=busy job=outbox reason=%s", quote(wait))
        return None
    if delivery.unclear is not None or delivery.broken is not None:
        why = delivery.broken or str(delivery.unclear)
        reason = f"{why}; not retried, so nobody gets it twice"
        outbox.mark_failed(session, rows, reason)
        report.failed += len(rows)
        report.errors.append(reason)
        return delivery.broken and f"the provider failed unexpectedly ({delivery.broken})"
    if delivery.refused is not None:
        reason = str(delivery.refused)
        outbox.mark_failed(session, rows, reason)
        outbox.tell_managers(
            session,
            kind="email-auth",
            title="Email sending stopped: the provider refused our credentials",
            body=f"{outbox.stored_error(reason)}. Fix the API key or token; queued email "
            "waits until then.",
            now=now,
        )
        report.failed += len(rows)
        report.errors.append(reason)
        log.error("event=stopped job=outbox reason=%s", quote(reason))
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


def put_back(
    session: Session,
    delivery: Delivery | None,
    rest: list[outbox.Claimed],
    report: DrainReport,
    *,
    settings: Settings,
    now: datetime,
) -> None:
    """The rows of a batch never handed to the provider, after a request that ends the batch
    (`delivery`) or when the sender stops between requests (None): busy, they wait as long as
    that request does; credentials refused, they fail with the reason (as the whole batch
    always did); after a fault, they are retried with a backoff; on a stop, queued again at
    once."""
    if not rest:
        return
    if delivery is None:
        leases.release(session, rest, now=now)
    elif delivery.refused is not None:
        outbox.mark_failed(session, rest, str(delivery.refused))
        report.failed += len(rest)
    else:
        wait = delivery.busy
        report.retried += leases.retry_later(
            session,
            rest,
            f"not sent: {wait or delivery.broken}",
            now=now,
            retry_after=wait.retry_after if wait else None,
            longest=settings.outbox_retry_after_max_seconds,
        )
