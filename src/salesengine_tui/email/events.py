"""What providers tell us after a send: bounces, complaints, unsubscribes, deliveries and
replies, as one typed record (`ProviderEvent`) whatever the provider; the parsers
(`postmark_events`, `sendgrid_events`, `suppression_pull`) make them, `record` stores each once
and applies the new ones, in the caller's transaction.

The rules, in one place: a hard bounce or a drop suppresses the address; a spam complaint
suppresses it and opts the customer out; an unsubscribe at the provider opts out; the provider
lifting its suppression lifts ours (never the customer's own opt-out); a soft bounce or a
delivery is recorded only; a reply goes to `replies`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from ..base.settings import Settings
from ..customers.status import OptOutVia, change_email_opt_out
from ..db.models import Customer
from . import outbox

if TYPE_CHECKING:
    from .replies import ReplyMatch

log = logging.getLogger("salesengine.email")


class EventKind(StrEnum):
    # The same list as `db.models.outreach.EVENT_KINDS` (the table's CHECK).
    delivered = "delivered"
    bounced = "bounced"  # hard: the address does not exist
    soft_bounced = "soft_bounced"  # a full mailbox, a server down: recorded only
    complained = "complained"  # marked as spam
    unsubscribed = "unsubscribed"  # through the provider's own link or list
    resubscribed = "resubscribed"  # the provider lifted its suppression
    dropped = "dropped"  # the provider would not send to the address
    replied = "replied"


@dataclass(frozen=True)
class InboundReply:
    """An email a customer sent us, as the provider parsed it. Every field is untrusted."""

    from_email: str
    from_name: str | None
    to: str | None  # the addresses it was sent to (reply+<token>@...)
    mailbox_hash: str | None  # Postmark's MailboxHash: the <token> of reply+<token>@...
    subject: str
    text: str  # the plain text as received (the quoted email may follow)
    in_reply_to: str | None = None  # In-Reply-To, then References
    references: str | None = None


@dataclass(frozen=True)
class ProviderEvent:
    provider: str  # "postmark" | "sendgrid"
    key: str  # unique per provider: its event id, or what identifies the event
    kind: EventKind
    occurred_at: datetime
    email: str | None = None  # the recipient's address (the sender's, for a reply)
    outbox_id: uuid.UUID | None = None  # from our metadata (untrusted: checked against rows)
    message_id: str | None = None  # the provider's message id
    detail: str | None = None  # the provider's words: a bounce's description
    reply: InboundReply | None = None


@dataclass
class Parsed:
    """A provider's request read into events; `problems` says what was left out and why (a
    malformed item is logged and skipped, so the provider does not retry it for ever)."""

    events: list[ProviderEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Recorded:
    """What `record` did with a batch of events."""

    received: int = 0
    stored: int = 0  # new events (the rest were seen before: a replay)
    suppressed: int = 0  # customers whose address is now suppressed
    opted_out: int = 0
    reactivated: int = 0  # customers whose provider suppression was lifted
    replies: int = 0  # replies put on a customer's timeline
    unmatched: int = 0  # replies from nobody we know
    by_kind: dict[str, int] = field(default_factory=dict)
    # (provider, key) of the new events: a caller recording several requests' events together
    # tells each request what of its own was new.
    stored_keys: set[tuple[str, str]] = field(default_factory=set)


def record(
    session: Session, events: list[ProviderEvent], *, settings: Settings, now: datetime
) -> Recorded:
    """Store each event once (provider + key) and apply the ones not seen before, set-based:
    a handful of statements whatever the batch's size. A replay stores and applies nothing."""
    done = Recorded(received=len(events))
    batch = _unique(events)
    if not batch:
        return done
    matches = _resolve_replies(session, settings, batch)
    rows = _outbox_rows(session, batch, matches)
    addresses = [
        None if event.kind is EventKind.replied else _address(event, rows.get(i))
        for i, event in enumerate(batch)
    ]
    holders = _customers_with(session, _addresses_needed(batch, rows, addresses))
    new = _store(session, batch, rows, matches, addresses, holders, now=now)
    done.stored = len(new)
    for i in new:
        kind = batch[i].kind.value
        done.by_kind[kind] = done.by_kind.get(kind, 0) + 1
        done.stored_keys.add((batch[i].provider, batch[i].key))
    _apply(session, [(batch[i], addresses[i]) for i in new], holders, done, now=now)
    _apply_replies(session, [batch[i] for i in new], matches, done, now=now)
    log.info(
        "event=provider_events received=%d stored=%d suppressed=%d opted_out=%d "
        "reactivated=%d replies=%d unmatched=%d",
        done.received, done.stored, done.suppressed, done.opted_out,
        done.reactivated, done.replies, done.unmatched,
    )  # fmt: skip
    return done


@dataclass(frozen=True)
class _Row:
    """The outbox row an event is about."""

    id: uuid.UUID
    customer_id: uuid.UUID | None
    blast_id: uuid.UUID | None
    estimate_id: uuid.UUID | None
    to_email: str


def _unique(events: list[ProviderEvent]) -> list[ProviderEvent]:
    """The batch in the order things happened, each provider + key once (a request may carry
    the same event twice)."""
    seen: set[tuple[str, str]] = set()
    unique = []
    # Ties in a fixed order: two transactions storing the same events take their key locks
    # in the same order (no deadlock between two writers).
    for event in sorted(events, key=lambda e: (e.occurred_at, e.provider, e.key)):
        if (event.provider, event.key) not in seen:
            seen.add((event.provider, event.key))
            unique.append(event)
    return unique


def _resolve_replies(
    session: Session, settings: Settings, batch: list[ProviderEvent]
) -> dict[str, ReplyMatch]:
    replied = [event for event in batch if event.kind is EventKind.replied]
    if not replied:
        return {}
    # Imported here: `replies` reads these types (a cycle at import time otherwise).
    from . import replies

    return replies.resolve(session, settings, replied)


# Our outbox id (checked: the metadata may name a row that is gone, or none of ours), else the
# provider's message id. SendGrid's sg_message_id begins with the X-Message-Id we stored, which
# one request shares among all its messages: not a message's own, so not looked up.
_OUTBOX_ROWS = sa.text(
    """
    SELECT v.i, o.id, o.customer_id, o.blast_id, o.estimate_id, o.to_email
    FROM unnest(CAST(:i AS int[]), CAST(:outbox_id AS uuid[]), CAST(:message_id AS text[]),
                CAST(:provider AS text[])) AS v(i, outbox_id, message_id, provider)
    CROSS JOIN LATERAL (
        (SELECT id, customer_id, blast_id, estimate_id, to_email
         FROM email_outbox WHERE id = v.outbox_id)
        UNION ALL
        (SELECT id, customer_id, blast_id, estimate_id, to_email
         FROM email_outbox
         WHERE provider_message_id = v.message_id AND provider = v.provider
         ORDER BY sent_at DESC NULLS LAST, id LIMIT 1)
        LIMIT 1
    ) AS o
    """
)


def _outbox_rows(
    session: Session, batch: list[ProviderEvent], matches: dict[str, ReplyMatch]
) -> dict[int, _Row]:
    """Each event's outbox row (by its place in the batch), in one query."""
    wanted: list[tuple[int, uuid.UUID | None, str | None, str]] = []
    for i, event in enumerate(batch):
        if event.kind is EventKind.replied:  # `replies` found it (its message id is not ours)
            match = matches.get(event.key)
            outbox_id, message_id = (match.outbox_id if match else None), None
        else:
            outbox_id = event.outbox_id
            message_id = event.message_id if event.provider != "sendgrid" else None
        if outbox_id or message_id:
            wanted.append((i, outbox_id, message_id, event.provider))
    if not wanted:
        return {}
    found = session.execute(
        _OUTBOX_ROWS, _arrays(("i", "outbox_id", "message_id", "provider"), wanted)
    )
    return {r.i: _Row(r.id, r.customer_id, r.blast_id, r.estimate_id, r.to_email) for r in found}


def _address(event: ProviderEvent, row: _Row | None) -> str | None:
    """The address an event is about, as compared (lower case): the event's, else the row's."""
    address = (event.email or (row.to_email if row else "") or "").strip().lower()
    return address or None


def _addresses_needed(
    batch: list[ProviderEvent], rows: dict[int, _Row], addresses: list[str | None]
) -> set[str]:
    """The addresses whose customers the batch needs: the events that change a customer, and
    those with no outbox row (the event is stored under the customer with the address). A
    batch of deliveries to our own messages needs none, and skips the query."""
    return {
        address
        for i, (event, address) in enumerate(zip(batch, addresses, strict=True))
        if address and (event.kind in _CHANGES_CUSTOMERS or i not in rows)
    }


def _customers_with(session: Session, addresses: set[str]) -> dict[str, list[uuid.UUID]]:
    """Every customer with each address, the most recently updated first."""
    if not addresses:
        return {}
    found = session.execute(
        sa.select(sa.func.lower(Customer.email), Customer.id)
        .where(sa.func.lower(Customer.email) == sa.any_(_array(addresses, sa.Text())))
        .order_by(Customer.updated_at.desc(), Customer.id)
    )
    holders: dict[str, list[uuid.UUID]] = {}
    for address, customer_id in found:
        holders.setdefault(address, []).append(customer_id)
    return holders


_STORE = sa.text(
    """
    INSERT INTO email_events (provider, event_key, kind, email, outbox_id, customer_id,
                              blast_id, estimate_id, detail, occurred_at, received_at)
    SELECT provider, event_key, kind, email, outbox_id, customer_id, blast_id, estimate_id,
           detail, occurred_at, :now
    FROM unnest(CAST(:provider AS text[]), CAST(:event_key AS text[]), CAST(:kind AS text[]),
                CAST(:email AS text[]), CAST(:outbox_id AS uuid[]), CAST(:customer_id AS uuid[]),
                CAST(:blast_id AS uuid[]), CAST(:estimate_id AS uuid[]), CAST(:detail AS text[]),
                CAST(:occurred_at AS timestamptz[]))
         AS v(provider, event_key, kind, email, outbox_id, customer_id, blast_id,
              estimate_id, detail, occurred_at)
    ON CONFLICT (provider, event_key) DO NOTHING
    RETURNING provider, event_key
    """
)


def _store(
    session: Session,
    batch: list[ProviderEvent],
    rows: dict[int, _Row],
    matches: dict[str, ReplyMatch],
    addresses: list[str | None],
    holders: dict[str, list[uuid.UUID]],
    *,
    now: datetime,
) -> list[int]:
    """One INSERT for the batch; returns the places of the events not stored before."""
    stored_rows = []
    for i, event in enumerate(batch):
        row, match, address = rows.get(i), matches.get(event.key), addresses[i]
        if event.kind is EventKind.replied:  # whoever `replies` found, or nobody
            customer_id = match.customer_id if match else None
        elif row is not None:
            customer_id = row.customer_id
        else:  # nothing of ours named: the customer with the address, if any
            customer_id = holders.get(address or "", [None])[0]
        estimate_id = (match.estimate_id if match else None) or (row.estimate_id if row else None)
        stored_rows.append(
            (
                event.provider, event.key, event.kind.value,
                event.email or (row.to_email if row else None),
                row.id if row else None, customer_id, row.blast_id if row else None, estimate_id,
                outbox.stored_error(event.detail) if event.detail else None, event.occurred_at,
            )
        )  # fmt: skip
    names = ("provider", "event_key", "kind", "email", "outbox_id", "customer_id", "blast_id",
             "estimate_id", "detail", "occurred_at")  # fmt: skip
    found = session.execute(_STORE, {**_arrays(names, stored_rows), "now": now})
    stored = {(r.provider, r.event_key) for r in found}
    return [i for i, e in enumerate(batch) if (e.provider, e.key) in stored]


_SUPPRESS_WHY = {
    EventKind.bounced: "hard bounce",
    EventKind.dropped: "dropped by the provider",
    EventKind.complained: "spam complaint",
}
_OPT_OUT_VIA = {
    EventKind.complained: OptOutVia.complaint,
    EventKind.unsubscribed: OptOutVia.provider,
}
# The kinds that change the customers with the address (a reply is matched by `replies`).
_CHANGES_CUSTOMERS = frozenset({*_SUPPRESS_WHY, *_OPT_OUT_VIA, EventKind.resubscribed})


def _apply(
    session: Session,
    new: list[tuple[ProviderEvent, str | None]],
    holders: dict[str, list[uuid.UUID]],
    done: Recorded,
    *,
    now: datetime,
) -> None:
    """The rules, one statement each for the whole batch. Per address the latest of its
    suppressing and lifting events decides (a bounce then a resubscribe ends resubscribed);
    opt-outs only ever add (a provider lifting its suppression never undoes the customer's)."""
    suppression: dict[str, str | None] = {}  # address -> why it is suppressed, None: lifted
    opt_outs: dict[OptOutVia, set[str]] = {via: set() for via in _OPT_OUT_VIA.values()}
    for event, address in new:  # in the order things happened
        if address is None or address not in holders:
            continue
        if event.kind in _SUPPRESS_WHY:
            # A bounce's or a drop's own words say more than the kind; a complaint is one.
            own = event.detail if event.kind is not EventKind.complained else None
            suppression[address] = own or _SUPPRESS_WHY[event.kind]
        elif event.kind is EventKind.resubscribed:
            suppression[address] = None
        if event.kind in _OPT_OUT_VIA:
            opt_outs[_OPT_OUT_VIA[event.kind]].add(address)
    # Customers in id order in every statement: two writers (service processes, the pull job)
    # changing the same customers lock them in the same order, so neither waits on the other.
    suppress = dict(
        sorted(
            (customer_id, why)
            for address, why in suppression.items()
            if why is not None
            for customer_id in holders[address]
        )
    )
    lift = sorted(c for a, why in suppression.items() if why is None for c in holders[a])
    done.suppressed = len(outbox.suppress_customers(session, suppress, now=now))
    done.reactivated = len(outbox.lift_suppression(session, lift))
    for via, addressed in opt_outs.items():
        if addressed:
            ids = sorted(c for address in addressed for c in holders[address])
            changed = change_email_opt_out(
                session, Customer.id == sa.any_(_array(ids, sa.Uuid())),
                opted_out=True, via=via, by=None, at=now,
            )  # fmt: skip
            done.opted_out += len(changed)


def _apply_replies(
    session: Session,
    new: list[ProviderEvent],
    matches: dict[str, ReplyMatch],
    done: Recorded,
    *,
    now: datetime,
) -> None:
    """New replies go to `replies` (the timeline, the owner); ones from nobody we know are
    counted, and kept in the events table."""
    replied = [event for event in new if event.kind is EventKind.replied]
    matched = [
        (event, matches[event.key])
        for event in replied
        if event.key in matches and matches[event.key].customer_id is not None
    ]
    done.unmatched = len(replied) - len(matched)
    if matched:
        from . import replies  # see `_resolve_replies`

        done.replies = replies.apply(session, matched, now=now)


def _arrays(names: tuple[str, ...], rows: list[tuple]) -> dict[str, list[object]]:
    """Rows as one array per column (parameters of `unnest`): a batch in one statement."""
    return {name: [row[n] for row in rows] for n, name in enumerate(names)}


def _array(values: object, item: sa.types.TypeEngine) -> sa.ColumnElement[object]:
    """A Python collection as one array parameter (`= ANY(...)`): one bind, any size."""
    return sa.literal(list(values), ARRAY(item))  # type: ignore[call-overload]
