"""What Postmark POSTs to our webhooks, read into `ProviderEvent`s: the Bounce, SpamComplaint,
SubscriptionChange and Delivery webhooks (one JSON object a request, `RecordType` says which;
a list of them is read too), and the Inbound webhook (one email as JSON).

Pure functions: no database, no HTTP. Any JSON in, a `Parsed` out, never an exception.

Field names are Postmark's own (developer/webhooks/*-webhook, developer/api/bounce-api).
Event keys, so that a replayed webhook is stored once:
- Bounce and SpamComplaint: `bounce:<ID>` (one id space: a spam complaint is a bounce record
  in Postmark's Bounce API, which `bounce_key` lets the suppression pull use too);
- SubscriptionChange: the record type, MessageID (null for manual suppressions and
  reactivations), Recipient, ChangedAt and on/off; Delivery: MessageID, Recipient and
  DeliveredAt. Without its timestamp such an item has no stable key: it is a problem;
- Inbound: `inbound:<MessageID>`.
When a time is missing or unreadable (Bounce, Inbound), `received_at` (when we received the
request) stands in for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from . import event_fields as f
from .events import EventKind, Parsed, ProviderEvent

PROVIDER = "postmark"

# Bounce types (Postmark's Bounce API "bounce types") and what each means for the address:
# - the address does not exist or is not an address: bounced (suppressed);
# - Postmark will not send to it (deactivated by hand on Postmark): dropped (suppressed, but
#   the customer did not opt out);
# - the recipient asked to unsubscribe by email (an NDR Postmark classed so): unsubscribed;
# - everything about the message, the moment or the receiving server rather than the address
#   (full mailbox, delay, DNS, a spam filter's or an ISP's block, DMARC, unknown): recorded
#   only, as soft_bounced. `Blocked` is among these: an ISP refused the message (reputation,
#   content), the address itself is fine, and Postmark does not deactivate it either;
# - autoresponders, subscribe requests, challenges and relay tests say nothing about delivery:
#   ignored, no problem.
_BOUNCE_KINDS: Mapping[str, EventKind] = {
    "HardBounce": EventKind.bounced,
    "BadEmailAddress": EventKind.bounced,
    "ManuallyDeactivated": EventKind.dropped,
    "SpamComplaint": EventKind.complained,
    "Unsubscribe": EventKind.unsubscribed,
}
_BOUNCES_IGNORED = frozenset(
    {"AutoResponder", "Subscribe", "ChallengeVerification", "OpenRelayTest", "InboundError"}
)
# SubscriptionChange with SuppressSending true, by SuppressionReason. ManualSuppression is how
# Postmark records a recipient's unsubscribe (Origin "Recipient"); one made by the account's
# people (Origin "Customer" or "Admin") only stops sending: dropped, as is a reason not listed.
_SUPPRESSION_KINDS: Mapping[str, EventKind] = {
    "HardBounce": EventKind.bounced,
    "SpamComplaint": EventKind.complained,
    "ManualSuppression": EventKind.unsubscribed,
}
# Record types we do not act on (opens, link clicks): ignored, no problem.
_RECORDS_IGNORED = frozenset({"Open", "Click"})


def bounce_key(bounce_id: int | str) -> str:
    """The key of a Postmark bounce (webhook or Bounce API): the same bounce, stored once."""
    return f"bounce:{bounce_id}"


def parse_webhook(payload: object, *, received_at: datetime | None = None) -> Parsed:
    """A Bounce, SpamComplaint, SubscriptionChange or Delivery webhook's JSON (or a list of
    them) as events; other record types are ignored, malformed ones are problems."""
    now = f.received(received_at)
    batch = f.Batch()
    try:
        items = f.items_of(payload, what="a Postmark webhook object")
    except f.Skip as skip:
        batch.problem(str(skip))
        return batch.parsed()
    batch.read(items, lambda item: _record(item, now))
    return batch.parsed()


def parse_inbound(payload: object, *, received_at: datetime | None = None) -> Parsed:
    """An Inbound webhook's JSON (one email) as one `replied` event."""
    now = f.received(received_at)
    return f.one_item(payload, lambda item: _inbound(item, now))


# --- webhook records ---------------------------------------------------------------------------


def _record(item: object, now: datetime) -> ProviderEvent | None:
    if not isinstance(item, dict):
        raise f.Skip(f"not an object (got {type(item).__name__})")
    record_type = item.get("RecordType")
    if not isinstance(record_type, str):
        raise f.Skip("no RecordType")
    if record_type in ("Bounce", "SpamComplaint"):
        return _bounce(item, now, complaint=record_type == "SpamComplaint")
    if record_type == "SubscriptionChange":
        return _subscription_change(item, now)
    if record_type == "Delivery":
        return _delivery(item, now)
    if record_type in _RECORDS_IGNORED:
        return None
    raise f.Skip(f"unknown RecordType {f.one_line(record_type, 40)!r}")


def _metadata_outbox(item: dict) -> uuid.UUID | None:
    metadata = item.get("Metadata")
    return f.outbox_id(metadata.get("outbox_id")) if isinstance(metadata, dict) else None


def _bounce(item: dict, now: datetime, *, complaint: bool) -> ProviderEvent | None:
    bounce_type = f.one_line(item.get("Type"), 60)
    if complaint:
        kind = EventKind.complained
    elif bounce_type is None:
        raise f.Skip("no bounce Type")
    elif bounce_type in _BOUNCES_IGNORED:
        return None
    else:
        kind = _BOUNCE_KINDS.get(bounce_type, EventKind.soft_bounced)
    bounce_id = _bounce_id(item.get("ID"))
    if bounce_id is None:
        raise f.Skip("no ID")
    recipient = f.address(item.get("Email"))
    if recipient is None:
        raise f.Skip("no valid Email")
    words = f.one_line(item.get("Details"), f.DETAIL_MAX) or f.one_line(
        item.get("Description"), f.DETAIL_MAX
    )
    detail = f"{bounce_type or 'SpamComplaint'}: {words}" if words else bounce_type
    return ProviderEvent(
        provider=PROVIDER,
        key=bounce_key(bounce_id),
        kind=kind,
        occurred_at=f.believable(f.iso_time(item.get("BouncedAt")), now),
        email=recipient,
        outbox_id=_metadata_outbox(item),
        message_id=f.token(item.get("MessageID")),
        detail=f.clip(detail, f.DETAIL_MAX) if detail else None,
    )


def _bounce_id(value: object) -> int | None:
    """Postmark's bounce ID: a whole number (64-bit), or its digits in a string."""
    if isinstance(value, str) and len(value) <= 20 and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        return None
    return value


def _recipient_at(item: dict, time_field: str) -> tuple[str, datetime]:
    """The Recipient and the time of a record whose key is made of them: both required."""
    recipient = f.address(item.get("Recipient"))
    if recipient is None:
        raise f.Skip("no valid Recipient")
    when = f.iso_time(item.get(time_field))
    if when is None:
        raise f.Skip(f"no {time_field}")
    return recipient, when


def _subscription_change(item: dict, now: datetime) -> ProviderEvent:
    recipient, changed_at = _recipient_at(item, "ChangedAt")
    suppress = item.get("SuppressSending")
    if not isinstance(suppress, bool):
        raise f.Skip("no SuppressSending")
    reason = f.one_line(item.get("SuppressionReason"), 60)
    origin = f.one_line(item.get("Origin"), 60)
    if not suppress:
        kind = EventKind.resubscribed
    elif reason == "ManualSuppression" and origin not in (None, "Recipient"):
        kind = EventKind.dropped
    else:
        kind = _SUPPRESSION_KINDS.get(reason or "", EventKind.dropped)
    message_id = f.token(item.get("MessageID"))
    on_off = "on" if suppress else "off"
    said = " ".join(
        part
        for part in (
            "suppressed" if suppress else "reactivated",
            reason and f"({reason})",
            origin and f"by {origin}",
        )
        if part
    )
    return ProviderEvent(
        provider=PROVIDER,
        key=f"SubscriptionChange:{message_id or '-'}:{recipient}:{changed_at.isoformat()}:{on_off}",
        kind=kind,
        occurred_at=f.believable(changed_at, now),
        email=recipient,
        outbox_id=_metadata_outbox(item),
        message_id=message_id,
        detail=said,
    )


def _delivery(item: dict, now: datetime) -> ProviderEvent:
    recipient, delivered_at = _recipient_at(item, "DeliveredAt")
    message_id = f.token(item.get("MessageID"))
    return ProviderEvent(
        provider=PROVIDER,
        key=f"Delivery:{message_id or '-'}:{recipient}:{delivered_at.isoformat()}",
        kind=EventKind.delivered,
        occurred_at=f.believable(delivered_at, now),
        email=recipient,
        outbox_id=_metadata_outbox(item),
        message_id=message_id,
        detail=f.one_line(item.get("Details"), f.DETAIL_MAX),
    )


# --- inbound -----------------------------------------------------------------------------------


def _full_addresses(value: object) -> list[object]:
    """The `Email` of each entry of a ToFull/CcFull/BccFull list."""
    if not isinstance(value, list):
        return []
    return [entry.get("Email") for entry in value[:100] if isinstance(entry, dict)]


def _headers(value: object) -> dict[str, str]:
    pairs = (
        (entry["Name"], entry["Value"])
        for entry in (value[:500] if isinstance(value, list) else [])
        if isinstance(entry, dict)
        and isinstance(entry.get("Name"), str)
        and isinstance(entry.get("Value"), str)
    )
    return f.headers_named(pairs, "Message-ID", "In-Reply-To", "References")


def _inbound(item: object, now: datetime) -> ProviderEvent:
    if not isinstance(item, dict):
        raise f.Skip(f"not a Postmark inbound email (got {type(item).__name__})")
    sender = item.get("FromFull")
    sender = sender if isinstance(sender, dict) else {}
    from_email = f.address(sender.get("Email")) or next(iter(f.addresses([item.get("From")])), None)
    if from_email is None:
        raise f.Skip("no valid From address")
    headers = _headers(item.get("Headers"))
    # OriginalRecipient is the address Postmark received it at (the reply+... one even when it
    # was a Bcc); then whoever it was addressed to.
    to = f.addresses(
        [
            item.get("OriginalRecipient"),
            *_full_addresses(item.get("ToFull")),
            *_full_addresses(item.get("CcFull")),
            *_full_addresses(item.get("BccFull")),
            item.get("To"),
        ]
    )
    message_id = f.token(item.get("MessageID")) or f.message_id_header(headers.get("message-id"))
    return f.replied(
        PROVIDER,
        from_email=from_email,
        from_name=sender.get("Name") or item.get("FromName"),
        to=to,
        mailbox_hash=f.token(item.get("MailboxHash")),
        subject=item.get("Subject"),
        text=f.reply_text(
            stripped=item.get("StrippedTextReply"),
            text=item.get("TextBody"),
            html=item.get("HtmlBody"),
        ),
        headers=headers,
        message_id=message_id,
        occurred_at=f.believable(f.mail_time(item.get("Date")), now),
    )
