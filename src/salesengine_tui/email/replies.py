"""Replies: which customer (and which email and deal) an inbound email answers, and what it
does once stored: an inbound email on the customer's timeline, their last touch moved (so
nurture waits: a reply is activity), and a notification to whoever owns the conversation.

Matching, most trusted first: the signed reply token of `reply+<token>@...` (Postmark's
MailboxHash, else the To address); our Message-IDs in In-Reply-To or References; then the
sender's address. Every field of a reply is untrusted: tokens and ids count only when they
name an existing outbox row, and the text is stored without control characters. Set-based:
a batch of any size takes a fixed number of statements.
"""

from __future__ import annotations

import email.utils
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ..access.users import system_user
from ..activity.feed import REPLY_OUTCOME, ActivityKind, notify_activity
from ..base.settings import Settings
from ..base.validation import EMAIL_MAX, without_hidden
from ..customers.status import OptOutVia, change_email_opt_out, same_mailbox
from .event_fields import clip
from .events import EventKind, InboundReply, ProviderEvent
from .tokens import outbox_ids_in, read_reply_token

NOTIFICATION_KIND = "reply"
TEXT_MAX = 2_000  # characters of a reply's text kept on the timeline
SUBJECT_MAX = 300
TITLE_SUBJECT_MAX = 120  # of the subject in a notification's title (a toast)
BODY_MAX = 200  # the notification's body: the reply's first line
# A reply by sender alone is about the deal of the customer's last follow-up this recent.
DEAL_WINDOW = timedelta(days=60)


@dataclass(frozen=True)
class ReplyMatch:
    customer_id: uuid.UUID | None
    outbox_id: uuid.UUID | None
    estimate_id: uuid.UUID | None


NO_MATCH = ReplyMatch(None, None, None)

# The deal an outbox row is about: its own column, else the estimate its nurture key names
# (rows queued before the column was filled); a key that is not one of ours gives NULL.
_OUTBOX_ESTIMATE = """coalesce(o.estimate_id, (
    SELECT ek.id FROM estimates ek
    WHERE ek.id = CASE WHEN o.idempotency_key ~ '^nurture:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:'
                       THEN split_part(o.idempotency_key, ':', 2)::uuid END))"""  # noqa: E501

_OUTBOX_ROWS = sa.text(
    f"""
    SELECT o.id, o.customer_id, {_OUTBOX_ESTIMATE} AS estimate_id
    FROM email_outbox o WHERE o.id = ANY(CAST(:ids AS uuid[]))
    """
)

# Per sender address, the customer with it most recently emailed (then the most recently in
# touch), and the deal of their latest follow-up with when it was sent.
_BY_SENDER = sa.text(
    f"""
    SELECT DISTINCT ON (lower(c.email)) lower(c.email) AS address, c.id,
           deal.estimate_id, deal.sent_at
    FROM customers c
    LEFT JOIN LATERAL (
        SELECT max(o.sent_at) AS sent_at FROM email_outbox o WHERE o.customer_id = c.id
    ) emailed ON true
    LEFT JOIN LATERAL (
        SELECT {_OUTBOX_ESTIMATE} AS estimate_id, o.sent_at
        FROM email_outbox o
        WHERE o.customer_id = c.id AND o.sent_at IS NOT NULL
          AND (o.estimate_id IS NOT NULL OR (o.idempotency_key COLLATE "C" >= 'nurture:'
                                             AND o.idempotency_key COLLATE "C" < 'nurture;'))
        ORDER BY o.sent_at DESC LIMIT 1
    ) deal ON true
    WHERE lower(c.email) = ANY(CAST(:addresses AS text[]))
    ORDER BY lower(c.email), emailed.sent_at DESC NULLS LAST,
             c.last_interaction_at DESC NULLS LAST, c.id
    """
)


def _address(reply: InboundReply) -> str | None:
    """The sender's bare address, lower-cased; None if it is not one."""
    address = email.utils.parseaddr(reply.from_email or "")[1].strip().lower()
    return address if "@" in address and len(address) <= EMAIL_MAX else None


def _claimed_outbox_ids(settings: Settings, reply: InboundReply) -> list[uuid.UUID]:
    """The outbox rows the reply says it answers, most trusted first (unverified yet)."""
    token = read_reply_token(settings, reply.mailbox_hash) or read_reply_token(settings, reply.to)
    quoted = outbox_ids_in(settings, reply.in_reply_to) + outbox_ids_in(settings, reply.references)
    return ([token] if token else []) + quoted


def _replies(events: list[ProviderEvent]) -> list[tuple[ProviderEvent, InboundReply]]:
    return [
        (event, event.reply)
        for event in events
        if event.kind is EventKind.replied and event.reply is not None
    ]


def resolve(
    session: Session, settings: Settings, events: list[ProviderEvent]
) -> dict[str, ReplyMatch]:
    """Who each reply among `events` is from and what it answers, by event key; a reply that
    matches nothing gets `NO_MATCH`. Two statements at most, whatever the batch."""
    replies = _replies(events)
    claimed = {event.key: _claimed_outbox_ids(settings, reply) for event, reply in replies}
    wanted = sorted({i for ids in claimed.values() for i in ids})
    rows = session.execute(_OUTBOX_ROWS, {"ids": wanted}).all() if wanted else []
    outboxes = {row.id: row for row in rows}
    found = {
        key: next((outboxes[i] for i in ids if i in outboxes), None) for key, ids in claimed.items()
    }
    # By sender: for replies without an email of ours, or whose email had no customer.
    addresses = {
        event.key: _address(reply)
        for event, reply in replies
        if found[event.key] is None or found[event.key].customer_id is None
    }
    senders: dict[str, sa.Row[Any]] = {}
    if wanted_addresses := sorted({a for a in addresses.values() if a}):
        senders = {
            row.address: row for row in session.execute(_BY_SENDER, {"addresses": wanted_addresses})
        }
    matches: dict[str, ReplyMatch] = {}
    for event, _reply in replies:
        outbox = found[event.key]
        sender = senders.get(addresses.get(event.key) or "")
        if outbox is not None and outbox.customer_id is not None:
            matches[event.key] = ReplyMatch(outbox.customer_id, outbox.id, outbox.estimate_id)
        elif sender is not None:
            recent = (
                sender.sent_at is not None
                and _aware(event.occurred_at) - sender.sent_at <= DEAL_WINDOW
            )
            estimate = outbox.estimate_id if outbox is not None else None
            matches[event.key] = ReplyMatch(
                sender.id,
                outbox.id if outbox is not None else None,
                estimate or (sender.estimate_id if recent else None),
            )
        else:
            matches[event.key] = NO_MATCH
    return matches


# --- the text --------------------------------------------------------------------------------

# Where the quoted email starts: "On <date>, <name> wrote:" (one line, or wrapped onto two by
# the mail program), and Outlook's separator.
_ATTRIBUTION = re.compile(r"^\s*On\s.*\bwrote:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)


def _without_quote(text: str) -> str:
    """The reply's own words: quoted lines (">") left out, and everything from the
    attribution line of the email it answers on."""
    lines = text.split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        two = line + " " + lines[i + 1] if i + 1 < len(lines) else line
        if _ORIGINAL.match(line) or _ATTRIBUTION.match(line):
            break
        if line.lstrip().lower().startswith("on ") and _ATTRIBUTION.match(two):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def one_line(text: str | None, limit: int) -> str:
    """A subject or a title: whitespace runs as one space, no hidden characters, cut with …."""
    return clip(without_hidden(" ".join((text or "").split())), limit)


def reply_text(text: str | None) -> str:
    """What of a reply goes on the timeline: its own words, no control characters but line
    breaks, at most `TEXT_MAX` characters (cut with …)."""
    # Only the start can be kept: a 10 MB body is not read to its end.
    start = (text or "")[: TEXT_MAX * 50]
    normal = start.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return clip(without_hidden(_without_quote(normal), keep="\n").strip(), TEXT_MAX)


def reply_notes(reply: InboundReply) -> str:
    """The timeline entry's notes: the subject, a newline, the text (`feed.reply_parts`)."""
    return f"{one_line(reply.subject, SUBJECT_MAX) or '(no subject)'}\n{reply_text(reply.text)}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- applying --------------------------------------------------------------------------------

_BATCH = """unnest(CAST(:keys AS text[]), CAST(:customers AS uuid[]), CAST(:estimates AS uuid[]),
                   CAST(:outboxes AS uuid[]), CAST(:notes AS text[]), CAST(:ats AS timestamptz[]),
                   CAST(:titles AS text[]), CAST(:bodies AS text[]))
            AS v(event_key, customer_id, estimate_id, outbox_id, notes, at, title, body)"""

_INTERACTIONS = sa.text(
    f"""
    INSERT INTO customer_interactions
        (customer_id, type, direction, notes, created_by, created_at, outcome, estimate_id,
         outbox_id)
    SELECT v.customer_id, CAST('email' AS interaction_type),
           CAST('inbound' AS interaction_direction), v.notes, :system, v.at, :outcome,
           v.estimate_id, v.outbox_id
    FROM {_BATCH}
    JOIN customers c ON c.id = v.customer_id
    RETURNING id
    """
)

# greatest() skips NULLs: a first touch sets it; an older reply never moves it back.
_TOUCH = sa.text(
    f"""
    UPDATE customers c SET last_interaction_at = greatest(c.last_interaction_at, v.at),
                           updated_at = :now
    FROM (SELECT customer_id, max(at) AS at FROM {_BATCH} GROUP BY customer_id) v
    WHERE c.id = v.customer_id
    """
)

# Who hears of it: the deal's owner, else the customer's, else whoever queued the email
# answered (a person still active, each of them), else every active manager.
_NOTIFY = sa.text(
    f"""
    INSERT INTO notifications
        (user_id, kind, title, body, customer_id, estimate_id, dedupe_key, created_at)
    SELECT r.user_id, :kind, 'Reply from ' || c.name || ': ' || v.title, v.body, c.id,
           v.estimate_id, 'reply:' || v.event_key || ':' || r.user_id, :now
    FROM {_BATCH}
    JOIN customers c ON c.id = v.customer_id
    LEFT JOIN estimates e ON e.id = v.estimate_id
    LEFT JOIN email_outbox o ON o.id = v.outbox_id
    CROSS JOIN LATERAL (SELECT (
        SELECT u.id FROM users u
        WHERE u.active AND u.role <> 'system' AND u.id IN (e.owner_id, c.owner_id, o.created_by)
        ORDER BY u.id = e.owner_id DESC NULLS LAST, u.id = c.owner_id DESC NULLS LAST
        LIMIT 1
    )) AS owner_pick(id)
    CROSS JOIN LATERAL (
        SELECT owner_pick.id WHERE owner_pick.id IS NOT NULL
        UNION ALL
        SELECT m.id FROM users m
        WHERE owner_pick.id IS NULL AND m.active AND m.role = 'manager'
    ) AS r(user_id)
    ON CONFLICT (dedupe_key) DO NOTHING
    """
)


def apply(
    session: Session, matched: list[tuple[ProviderEvent, ReplyMatch]], *, now: datetime
) -> int:
    """Put the new replies that have a customer on their timelines, move their last touch,
    notify their owners and tell open dashboards; how many went on a timeline."""
    batch = [
        (event, event.reply, match)
        for event, match in matched
        if match.customer_id is not None and event.reply is not None
    ]
    if not batch:
        return 0
    notes = [reply_notes(reply) for _, reply, _ in batch]
    # A sender's clock (the Date header) may be wrong: a reply is never later than now.
    params = {
        "keys": [event.key for event, _, _ in batch],
        "customers": [match.customer_id for _, _, match in batch],
        "estimates": [match.estimate_id for _, _, match in batch],
        "outboxes": [match.outbox_id for _, _, match in batch],
        "notes": notes,
        "ats": [min(_aware(event.occurred_at), now) for event, _, _ in batch],
        "titles": [one_line(n.partition("\n")[0], TITLE_SUBJECT_MAX) for n in notes],
        "bodies": [_first_line(n.partition("\n")[2]) for n in notes],
        "now": now,
    }
    system = system_user(session).id
    added = session.execute(
        _INTERACTIONS, {**params, "system": system, "outcome": REPLY_OUTCOME}
    ).all()
    session.execute(_TOUCH, params)
    _opt_out_who_asked(session, batch, now)
    session.execute(_NOTIFY, {**params, "kind": NOTIFICATION_KIND})
    notify_activity(session, ActivityKind.interaction)
    return len(added)


def _first_line(text: str) -> str | None:
    first = next((line for line in text.split("\n") if line.strip()), "")
    return one_line(first, BODY_MAX) or None


# A reply that is only a request to stop (the expired-link page tells people to reply so):
# the whole first line of the reply, or the subject, and nothing more, so "don't unsubscribe
# me" or "stop by Tuesday" never opts anyone out.
_STOP_WORDS = {
    "unsubscribe", "unsubscribe me", "please unsubscribe", "please unsubscribe me",
    "unsubscribe please", "stop", "stop please", "please stop", "remove me", "opt out",
    "remove", "stop emailing me", "please remove me",
}  # fmt: skip
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|fwd?|sv)\s*:\s*)+", re.IGNORECASE)


def asks_to_unsubscribe(reply: InboundReply) -> bool:
    """The reply asks, in so many words, to be taken off our email."""
    first = _first_line(_without_quote(reply.text or "")) or ""
    subject = _REPLY_PREFIX.sub("", reply.subject or "")
    return any(_plain(text) in _STOP_WORDS for text in (first, subject))


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _opt_out_who_asked(
    session: Session, batch: list[tuple[ProviderEvent, InboundReply, ReplyMatch]], now: datetime
) -> None:
    """Customers who replied "unsubscribe" are opted out now, by the one opt-out rule (with
    their timeline entry), together with every customer sharing their address."""
    asked = [match.customer_id for _, reply, match in batch if asks_to_unsubscribe(reply)]
    if not asked:
        return
    change_email_opt_out(
        session,
        same_mailbox(asked),
        opted_out=True,
        via=OptOutVia.reply,
        by=None,
        at=now,
    )
