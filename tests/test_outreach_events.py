"""Issue 17, the outreach loop's core against real PostgreSQL: providers' events stored once
and applied by the rules (bounces and drops suppress, complaints suppress and opt out, the
provider's unsubscribe opts out, a resubscribe lifts only our suppression), a replay that
changes nothing, a batch of thousands in a handful of statements, and the unsubscribe link's
page and one-click opt-out through the desk, checked by the next blast's dry run."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import FIXED_NOW, Desk, add_customer
from sqlalchemy import Engine, event, func, select, text
from sqlmodel import Session
from test_profile_fit import opt_out_rows

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import load_settings
from salesengine_tui.customers.status import OptOutVia
from salesengine_tui.db.models import (
    Blast,
    Customer,
    EmailEvent,
    EmailOutbox,
    OutboxStatus,
)
from salesengine_tui.email import one_click
from salesengine_tui.email.events import EventKind, InboundReply, ProviderEvent, Recorded
from salesengine_tui.email.tokens import BadToken, ExpiredToken, unsubscribe_token
from salesengine_tui.marketing import segments
from salesengine_tui.usecases.context import AppContext
from salesengine_tui.usecases.desk import Desk as UseCaseDesk
from salesengine_tui.widgets.profile_facts import opt_out_how
from salesengine_tui.widgets.timeline_list import headline

SETTINGS = load_settings(
    signing_key="test-key",
    unsubscribe_url="https://acme.example/unsubscribe",
    company_postal_address="1 Main St, Dallas TX 75201",
    email_from="Sales <sales@acme.example>",
)
SEGMENT = segments.parse("lead_source = 'Events test'")
AT = FIXED_NOW - timedelta(hours=2)


def desk_of(engine: Engine) -> UseCaseDesk:
    """The service's desk: nobody acting, the fixed clock."""
    return UseCaseDesk(AppContext(engine, FixedClock(FIXED_NOW), SETTINGS, actor=None))


def seed(engine: Engine) -> dict[str, uuid.UUID]:
    """Customers of one segment: two share an address (in different case)."""
    people = [
        ("Ann Bounce", "ann@example.com"),
        ("Ann Twin", "ANN@Example.com"),
        ("Bea Soft", "bea@example.com"),
        ("Cal Complains", "cal@example.com"),
        ("Dee Unsubscribes", "dee@example.com"),
        ("Eve Elsewhere", "eve@example.com"),
    ]
    ids = {}
    with Session(engine) as s:
        for i, (name, email) in enumerate(people):
            c = add_customer(s, name, lead_source="Events test", n=700 + i)
            c.email = email
            ids[name] = c.id
        s.commit()
    return ids


def ev(kind: EventKind, key: str, email: str | None, minutes: int = 0, **extra) -> ProviderEvent:
    return ProviderEvent(
        provider=extra.pop("provider", "postmark"),
        key=key,
        kind=kind,
        occurred_at=AT + timedelta(minutes=minutes),
        email=email,
        **extra,
    )


def customer(engine: Engine, customer_id: uuid.UUID) -> Customer:
    with Session(engine) as s:
        return s.get(Customer, customer_id)


def excluded(engine: Engine) -> dict[str, int]:
    """What the next blast to the segment would leave out, and why (the desk's dry run)."""
    dry = desk_of(engine).blasts.check(SEGMENT, "Hello", "Hi").dry
    return {reason: n for reason, n in dry.excluded.items() if n}


def outbox_row(engine: Engine, customer_id: uuid.UUID, **values) -> uuid.UUID:
    with Session(engine) as s:
        email = s.get(Customer, customer_id).email
        row = EmailOutbox(
            idempotency_key=f"test:{uuid.uuid4()}", customer_id=customer_id, to_email=email,
            subject="Hello", body_text="Hi", status=OutboxStatus.sent, sent_at=AT, **values,
        )  # fmt: skip
        s.add(row)
        s.commit()
        return row.id


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent to the server inside the block."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- events -----------------------------------------------------------------------------------


def test_a_replay_stores_and_applies_nothing(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    batch = [
        ev(EventKind.unsubscribed, "u1", "dee@example.com"),
        ev(EventKind.delivered, "d1", "dee@example.com"),
        ev(EventKind.delivered, "d1", "dee@example.com"),  # the same event twice in one request
    ]
    first = desk_of(engine).outreach.record_events(batch)
    again = desk_of(engine).outreach.record_events(batch)
    assert (first.received, first.stored, first.opted_out) == (3, 2, 1)
    assert first.by_kind == {"unsubscribed": 1, "delivered": 1}
    assert again == Recorded(received=3)
    assert opt_out_rows(engine, ids["Dee Unsubscribes"]) == [(True, OptOutVia.provider.value)]
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(EmailEvent)).scalar_one() == 2


def test_a_hard_bounce_suppresses_every_customer_with_the_address(
    engine: Engine, desk: Desk
) -> None:
    ids = seed(engine)
    assert excluded(engine) == {"duplicate_address": 1}  # the two Anns: one gets a blast
    done = desk_of(engine).outreach.record_events(
        [ev(EventKind.bounced, "b1", "Ann@EXAMPLE.com", detail="Unknown user\r\nX: y")]
    )
    assert done.suppressed == 2
    for name in ("Ann Bounce", "Ann Twin"):
        c = customer(engine, ids[name])
        assert c.email_suppressed_at == FIXED_NOW and not c.email_opt_out
        assert c.email_suppressed_reason == "Unknown user X: y"  # the provider's words, one line
    assert customer(engine, ids["Eve Elsewhere"]).email_suppressed_at is None
    assert excluded(engine) == {"suppressed": 2}
    with Session(engine) as s:  # no outbox row: the most recently updated of the two
        stored = s.execute(select(EmailEvent)).scalars().one()
        assert stored.customer_id in {ids["Ann Bounce"], ids["Ann Twin"]}
        assert stored.outbox_id is None and stored.detail == "Unknown user X: y"


def test_a_drop_suppresses_with_the_providers_reason_or_ours(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    desk_of(engine).outreach.record_events(
        [ev(EventKind.dropped, "x1", "eve@example.com", provider="sendgrid")]
    )
    assert customer(engine, ids["Eve Elsewhere"]).email_suppressed_reason == (
        "dropped by the provider"
    )


def test_a_soft_bounce_or_a_delivery_is_only_recorded(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    done = desk_of(engine).outreach.record_events(
        [
            ev(EventKind.soft_bounced, "s1", "bea@example.com", detail="Mailbox full"),
            ev(EventKind.delivered, "s2", "bea@example.com"),
        ]
    )
    assert (done.stored, done.suppressed, done.opted_out) == (2, 0, 0)
    bea = customer(engine, ids["Bea Soft"])
    assert bea.email_suppressed_at is None and not bea.email_opt_out
    assert excluded(engine) == {"duplicate_address": 1}


def test_a_complaint_suppresses_and_opts_out_on_the_timeline(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    done = desk_of(engine).outreach.record_events(
        [ev(EventKind.complained, "c1", "cal@example.com", detail="abuse")]
    )
    assert (done.suppressed, done.opted_out) == (1, 1)
    cal = customer(engine, ids["Cal Complains"])
    assert cal.email_opt_out and cal.opted_out_at == FIXED_NOW
    assert cal.email_suppressed_reason == "spam complaint"
    assert opt_out_rows(engine, ids["Cal Complains"]) == [(True, "spam_complaint")]
    assert excluded(engine) == {"opted_out": 1, "duplicate_address": 1}


def test_a_resubscribe_lifts_our_suppression_never_an_opt_out(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    outreach = desk_of(engine).outreach
    outreach.record_events(
        [
            ev(EventKind.bounced, "b1", "ann@example.com"),
            ev(EventKind.complained, "c1", "cal@example.com"),
        ]
    )
    done = outreach.record_events(
        [
            ev(EventKind.resubscribed, "r1", "ann@example.com", minutes=5),
            ev(EventKind.resubscribed, "r2", "cal@example.com", minutes=5),
        ]
    )
    assert (done.reactivated, done.opted_out) == (3, 0)
    ann = customer(engine, ids["Ann Bounce"])
    assert ann.email_suppressed_at is None and ann.email_suppressed_reason is None
    cal = customer(engine, ids["Cal Complains"])
    assert cal.email_suppressed_at is None and cal.email_opt_out  # the customer's own stays
    assert excluded(engine) == {"opted_out": 1, "duplicate_address": 1}


def test_within_a_batch_the_latest_event_decides(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    desk_of(engine).outreach.record_events(
        [  # out of order in the request: what happened last counts
            ev(EventKind.resubscribed, "r1", "ann@example.com", minutes=5),
            ev(EventKind.bounced, "b1", "ann@example.com", minutes=1),
            ev(EventKind.resubscribed, "r2", "bea@example.com", minutes=1),
            ev(EventKind.bounced, "b2", "bea@example.com", minutes=5),
        ]
    )
    assert customer(engine, ids["Ann Bounce"]).email_suppressed_at is None
    assert customer(engine, ids["Bea Soft"]).email_suppressed_at == FIXED_NOW


def test_events_find_their_email(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    with Session(engine) as s:
        blast = Blast(content_key="k", definition={}, subject="Hi", body="Hello", recipients=1,
                      excluded={}, created_by=desk.manager.id)  # fmt: skip
        s.add(blast)
        s.commit()
        blast_id = blast.id
    by_metadata = outbox_row(engine, ids["Eve Elsewhere"], blast_id=blast_id)
    by_message = outbox_row(
        engine, ids["Bea Soft"], provider="postmark", provider_message_id="pm-42"
    )
    shared = outbox_row(engine, ids["Dee Unsubscribes"], provider="sendgrid",
                        provider_message_id="sg-request")  # fmt: skip
    forged = uuid.uuid4()
    batch = [
        ev(EventKind.delivered, "e1", "eve@example.com", outbox_id=by_metadata),
        ev(EventKind.delivered, "e2", None, message_id="pm-42"),
        ev(EventKind.delivered, "e3", "dee@example.com", provider="sendgrid",
           message_id="sg-request"),  # one request's id: not this message's own
        ev(EventKind.bounced, "e4", "eve@example.com", outbox_id=forged),
    ]  # fmt: skip
    desk_of(engine).outreach.record_events(batch)
    with Session(engine) as s:
        rows = {e.event_key: e for e in s.execute(select(EmailEvent)).scalars()}
    assert (rows["e1"].outbox_id, rows["e1"].blast_id) == (by_metadata, blast_id)
    assert rows["e1"].customer_id == ids["Eve Elsewhere"]
    assert rows["e2"].outbox_id == by_message and rows["e2"].email == "bea@example.com"
    assert rows["e2"].customer_id == ids["Bea Soft"]
    assert rows["e3"].outbox_id is None and shared
    assert rows["e3"].customer_id == ids["Dee Unsubscribes"]  # by its address
    # An outbox id that names no row is stored without one, and the bounce still applies.
    assert rows["e4"].outbox_id is None and rows["e4"].customer_id == ids["Eve Elsewhere"]
    assert customer(engine, ids["Eve Elsewhere"]).email_suppressed_at == FIXED_NOW


def test_an_event_for_nobody_we_know_is_stored_only(engine: Engine, desk: Desk) -> None:
    seed(engine)
    done = desk_of(engine).outreach.record_events(
        [
            ev(EventKind.complained, "n1", "stranger@example.com"),
            ev(EventKind.bounced, "n2", None),
        ]
    )
    assert (done.stored, done.suppressed, done.opted_out) == (2, 0, 0)


def test_a_batch_of_thousands_takes_a_handful_of_statements(engine: Engine, desk: Desk) -> None:
    n = 1_000
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customers (name, email, lead_source) "
                "SELECT 'Bulk ' || g, 'bulk' || g || '@example.com', 'Bulk' "
                "FROM generate_series(1, :n) g"
            ),
            {"n": n},
        )
        rows = conn.execute(
            text(
                "INSERT INTO email_outbox (idempotency_key, customer_id, to_email, subject, "
                "body_text, status, provider, provider_message_id) "
                "SELECT 'bulk:' || id, id, email, 's', 'b', 'sent', 'postmark', 'pm-' || email "
                "FROM customers WHERE lead_source = 'Bulk' RETURNING id, to_email"
            )
        ).all()
    batch = []
    for i, (outbox_id, address) in enumerate(rows):
        batch += [
            ev(EventKind.delivered, f"d{i}", address, outbox_id=outbox_id),
            ev(EventKind.soft_bounced, f"s{i}", None, message_id=f"pm-{address}"),
            ev(
                [EventKind.bounced, EventKind.complained][i % 2], f"b{i}", address, minutes=1,
                outbox_id=uuid.uuid4() if i % 3 == 0 else None,
            ),
            ev(EventKind.unsubscribed, f"u{i}", address, minutes=2),
            ev(EventKind.resubscribed, f"r{i}", address, minutes=3 if i % 4 == 0 else -1),
        ]  # fmt: skip
    assert len(batch) == 5 * n
    outreach = desk_of(engine).outreach
    with statements(engine) as sent:
        started = time.perf_counter()
        done = outreach.record_events(batch)
        took = time.perf_counter() - started
    print(f"{len(batch)} events in {took:.2f} s, {len(sent)} statements")
    assert len(sent) <= 15, sent
    assert done.stored == 5 * n
    assert done.opted_out == n  # a complaint or an unsubscribe each
    assert done.suppressed == n - n // 4  # a quarter resubscribed after their bounce
    with Session(engine) as s:
        resolved = s.execute(
            select(func.count()).select_from(EmailEvent).where(EmailEvent.outbox_id.is_not(None))
        ).scalar_one()
    assert resolved == 2 * n  # the deliveries by our id, the soft bounces by message id
    with statements(engine) as sent:
        assert outreach.record_events(batch).stored == 0
    assert len(sent) <= 15


def test_the_timeline_and_the_profile_say_how(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    desk_of(engine).outreach.record_events(
        [
            ev(EventKind.complained, "c1", "cal@example.com"),
            ev(EventKind.unsubscribed, "u1", "dee@example.com"),
        ]
    )
    said = {}
    for name in ("Cal Complains", "Dee Unsubscribes"):
        use = desk_of(engine)
        (item,) = use.customers.timeline(ids[name], limit=1)
        profile = use.customers.profile(ids[name]).profile
        said[name] = (headline(item), opt_out_how(profile.opt_out, ZoneInfo("UTC")))
    assert said == {
        "Cal Complains": (
            "⊘ Opted out of email by the customer (marked an email as spam)",
            "on 2026-11-24 after marking an email as spam",
        ),
        "Dee Unsubscribes": (
            "⊘ Opted out of email by the customer (the email provider's unsubscribe)",
            "on 2026-11-24 by the email provider's unsubscribe",
        ),
    }


# --- replies ----------------------------------------------------------------------------------


def test_a_reply_is_applied_once(engine: Engine, desk: Desk) -> None:
    pytest.importorskip("salesengine_tui.email.replies")
    ids = seed(engine)

    def reply(key: str, sender: str) -> ProviderEvent:
        words = InboundReply(
            from_email=sender, from_name=None, to="sales@acme.example", mailbox_hash=None,
            subject="Re: your quote", text="Yes, let's talk.",
        )  # fmt: skip
        return ev(EventKind.replied, key, sender, reply=words)

    batch = [reply("m1", "eve@example.com"), reply("m2", "nobody@example.com")]
    first = desk_of(engine).outreach.record_events(batch)
    again = desk_of(engine).outreach.record_events(batch)
    assert (first.stored, first.replies, first.unmatched) == (2, 1, 1)
    assert (again.stored, again.replies, again.unmatched) == (0, 0, 0)
    with Session(engine) as s:
        rows = {e.event_key: e.customer_id for e in s.execute(select(EmailEvent)).scalars()}
    assert rows == {"m1": ids["Eve Elsewhere"], "m2": None}


# --- the unsubscribe link ---------------------------------------------------------------------


TODAY = FIXED_NOW.date()


def token_for(customer_id: uuid.UUID, issued: date = TODAY) -> str:
    return unsubscribe_token(SETTINGS, customer_id, issued)


def test_one_click_opts_out_and_the_next_blast_leaves_them_out(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    outreach = desk_of(engine).outreach
    token = token_for(ids["Ann Bounce"])
    page = outreach.unsubscribe_page(token)
    assert page == one_click.UnsubscribeView("a•••@example.com", False, FIXED_NOW.date())
    assert opt_out_rows(engine, ids["Ann Bounce"]) == []  # the page changes nothing
    done = outreach.unsubscribe(token)
    assert done.opted_out and done.masked_email == "a•••@example.com"
    again = outreach.unsubscribe(token)  # a repeat is harmless
    assert again == done
    assert outreach.unsubscribe_page(token).opted_out
    # One mailbox: the customer with the same address asked too.
    for name in ("Ann Bounce", "Ann Twin"):
        assert opt_out_rows(engine, ids[name]) == [(True, "unsubscribe_link")]
    assert excluded(engine) == {"opted_out": 2}


def test_a_forged_or_altered_token_changes_nothing(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    outreach = desk_of(engine).outreach
    good = token_for(ids["Bea Soft"])
    payload, mac = good.split(".")
    altered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    other_key = load_settings(signing_key="another-key")
    for token in (
        str(ids["Bea Soft"]),  # the bare id of the old links
        altered,
        good[:-3],
        unsubscribe_token(other_key, ids["Bea Soft"], FIXED_NOW.date()),
        "",
    ):
        with pytest.raises(BadToken):
            outreach.unsubscribe(token)
        with pytest.raises(BadToken):
            outreach.unsubscribe_page(token)
    assert not customer(engine, ids["Bea Soft"]).email_opt_out
    assert excluded(engine) == {"duplicate_address": 1}


def test_an_old_token_has_expired_and_a_gone_customer_is_named(engine: Engine, desk: Desk) -> None:
    ids = seed(engine)
    outreach = desk_of(engine).outreach
    issued = FIXED_NOW.date() - timedelta(days=SETTINGS.unsubscribe_valid_days + 1)
    with pytest.raises(ExpiredToken):
        outreach.unsubscribe(token_for(ids["Bea Soft"], issued))
    assert not customer(engine, ids["Bea Soft"]).email_opt_out
    with pytest.raises(BadToken, match="no longer on file"):
        outreach.unsubscribe(token_for(uuid.uuid4()))


def test_the_address_is_masked() -> None:
    assert one_click.mask_email("Ann.Smith@example.com") == "A•••@example.com"
    assert one_click.mask_email("@example.com") == "•••@example.com"
    assert one_click.mask_email("no-at-sign") == "•••"
    assert one_click.mask_email(None) is None and one_click.mask_email("  ") is None


def test_ping(engine: Engine) -> None:
    desk_of(engine).outreach.ping()
