"""What SendGrid POSTs, read into `ProviderEvent`s: the Event Webhook (a JSON array of events;
its signature is checked first, by `sendgrid_signature`) and Inbound Parse (one email as
multipart form fields).

Pure functions: no database, no HTTP. Any input in, a `Parsed` out, never an exception.

Field names are SendGrid's own (for-developers/tracking-events/event, .../parse/...). Our
custom arg `outbox_id` comes back at the top level of each event. Event keys: the event's
`sg_event_id`; an inbound email's is "inbound:" + its Message-ID header, else a SHA-256 of
sender, subject and text. A missing or unreadable `timestamp` is replaced by `received_at`
(when we received the request).
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import json
from collections.abc import Mapping
from datetime import datetime

from . import event_fields as f
from .events import EventKind, Parsed, ProviderEvent

PROVIDER = "sendgrid"

# Events that change what we may send, or that we count. `bounce` is split by its `type`
# below. Not here: processed, deferred (SendGrid retries), open, click: ignored, no problem.
_KINDS: Mapping[str, EventKind] = {
    "delivered": EventKind.delivered,
    "dropped": EventKind.dropped,
    "spamreport": EventKind.complained,
    "spam_report": EventKind.complained,  # spelled so in some of SendGrid's own material
    "unsubscribe": EventKind.unsubscribed,
    "group_unsubscribe": EventKind.unsubscribed,
    # The recipient chose to get a group's mail again: SendGrid lifts its suppression, and
    # we lift ours (never an opt-out the customer made with us: `events.record`'s rule).
    "group_resubscribe": EventKind.resubscribed,
}
# A drop whose reason is the message, not the address (spam content with the Spam Checker
# app, a broken SMTPAPI header, a plan's quota): the address is fine, so it is recorded only,
# as soft_bounced. A drop for a listed address (Bounced Address, Unsubscribed Address, Spam
# Reporting Address, Invalid) or an unknown reason stays `dropped`, which suppresses.
_MESSAGE_DROPS = ("spam content", "invalid smtpapi header", "recipient list over package quota")
# The part of `sg_message_id` before the first "." is the X-Message-Id the send answered with,
# which the outbox keeps: the message id is given in that form.


def parse_events(payload: object, *, received_at: datetime | None = None) -> Parsed:
    """An Event Webhook's JSON array as events; events we do not act on are ignored,
    malformed ones are problems."""
    now = f.received(received_at)
    batch = f.Batch()
    if not isinstance(payload, list):
        batch.problem(f"not a list of SendGrid events (got {type(payload).__name__})")
        return batch.parsed()
    batch.read(payload, lambda item: _event(item, now))
    return batch.parsed()


def parse_inbound(
    form: Mapping[str, str | bytes], *, received_at: datetime | None = None
) -> Parsed:
    """Inbound Parse's form fields (from, to, subject, text, html, headers, envelope,
    charsets) as one `replied` event. A field given as bytes is decoded with the charset
    SendGrid names for it in `charsets` (UTF-8 when it names none or an unknown one)."""
    now = f.received(received_at)
    return f.one_item(form, lambda item: _inbound(item, now))


# --- events ------------------------------------------------------------------------------------


def _event(item: object, now: datetime) -> ProviderEvent | None:
    if not isinstance(item, dict):
        raise f.Skip(f"not an object (got {type(item).__name__})")
    name = item.get("event")
    if not isinstance(name, str):
        raise f.Skip("no event")
    detail: str | None
    if name == "bounce":
        kind, detail = _bounce(item)
    elif name == "dropped":
        reason = f.one_line(item.get("reason"), f.DETAIL_MAX)
        message_side = reason is not None and reason.lower().startswith(_MESSAGE_DROPS)
        kind = EventKind.soft_bounced if message_side else EventKind.dropped
        detail = f"dropped: {reason}" if message_side else reason
    elif name in _KINDS:
        kind = _KINDS[name]
        group = item.get("asm_group_id")
        detail = f"group {group}" if type(group) is int else None  # a bool is not a group
    else:
        return None
    event_id = f.token(item.get("sg_event_id"))
    if event_id is None:
        raise f.Skip("no sg_event_id")
    recipient = f.address(item.get("email"))
    if recipient is None:
        raise f.Skip("no valid email")
    message_id = f.token(item.get("sg_message_id"))
    return ProviderEvent(
        provider=PROVIDER,
        key=event_id,
        kind=kind,
        occurred_at=f.believable(f.unix_time(item.get("timestamp")), now),
        email=recipient,
        outbox_id=f.outbox_id(item.get("outbox_id")),
        message_id=message_id.split(".", 1)[0] if message_id else None,
        detail=f.clip(detail, f.DETAIL_MAX) if detail else None,
    )


def _bounce(item: dict) -> tuple[EventKind, str | None]:
    """`type` "bounce": the receiving server refused the address (SendGrid suppresses it);
    "blocked": it refused the message for now (reputation, content, a full mailbox) and
    SendGrid does not suppress the address: recorded only."""
    blocked = item.get("type") == "blocked"
    words = [
        f.one_line(item.get("bounce_classification"), 60),
        f.one_line(item.get("status"), 20),
        f.one_line(item.get("reason"), f.DETAIL_MAX),
    ]
    detail = ": ".join(w for w in ["blocked" if blocked else None, *words] if w) or None
    return (EventKind.soft_bounced if blocked else EventKind.bounced), detail


# --- inbound parse -----------------------------------------------------------------------------


def _charsets(value: object) -> dict[str, str]:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or len(value) > 2_000:
        return {}
    try:
        decoded = json.loads(value)
    except ValueError:
        return {}
    if not isinstance(decoded, dict):
        return {}
    return {k: v for k, v in decoded.items() if isinstance(k, str) and isinstance(v, str)}


def _field(form: Mapping[str, object], name: str, charsets: Mapping[str, str]) -> str | None:
    value = form.get(name)
    if isinstance(value, bytes):
        charset = charsets.get(name, "utf-8")
        try:
            return value.decode(charset, "replace")
        except (LookupError, UnicodeError):  # a charset Python does not know, or "idna"
            return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _envelope_to(value: str | None) -> list[object]:
    """The addresses of the SMTP envelope (`{"to": [...], "from": "..."}`): where the email
    really went, the reply+... address even when it was a Bcc."""
    if not value or len(value) > 20_000:
        return []
    try:
        envelope = json.loads(value)
    except ValueError:
        return []
    to = envelope.get("to") if isinstance(envelope, dict) else None
    return to[:100] if isinstance(to, list) else []


def _headers(raw: str | None) -> dict[str, str]:
    """Message-ID, In-Reply-To, References and Date from the raw header block, read by the
    standard library's parser (compat32: plain strings, no header objects to trip on)."""
    if not raw:
        return {}
    try:
        message = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(raw[:200_000])
        pairs = [(str(name), str(value)) for name, value in message.items()]
    except Exception:
        return {}
    return f.headers_named(pairs, "Message-ID", "In-Reply-To", "References", "Date")


def _inbound(form: object, now: datetime) -> ProviderEvent:
    if not isinstance(form, Mapping):
        raise f.Skip(f"not a form (got {type(form).__name__})")
    charsets = _charsets(form.get("charsets"))
    sender = _field(form, "from", charsets)
    parsed_from = f.addresses([sender])
    if not parsed_from:
        raise f.Skip("no valid from address")
    headers = _headers(_field(form, "headers", charsets))
    envelope_to = _envelope_to(_field(form, "envelope", charsets))
    to = f.addresses([*envelope_to, _field(form, "to", charsets)])
    return f.replied(
        PROVIDER,
        from_email=parsed_from[0],
        from_name=email.utils.parseaddr((sender or "")[: f.TO_MAX])[0],
        to=to,
        mailbox_hash=None,
        subject=_field(form, "subject", charsets),
        text=f.reply_text(text=_field(form, "text", charsets), html=_field(form, "html", charsets)),
        headers=headers,
        message_id=f.message_id_header(headers.get("message-id")),
        occurred_at=f.believable(f.mail_time(headers.get("date")), now),
    )
