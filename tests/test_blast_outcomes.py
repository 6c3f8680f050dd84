"""What happened to a blast, against real PostgreSQL and in the app: delivered, bounced, spam and
opted-out counts per blast from the providers' events (a message counted once per outcome
however often it was reported), link opt-outs put down to the latest blast within 30 days,
"—" for a blast nothing came back for; the segments home and the dashboard show the counts, and
a customer's timeline shows each sent email's fate ("bounced: mailbox does not exist") on that
message only."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from itertools import count

from factories import FIXED_NOW, Desk, app_context, days_before, fixed_id
from pilot_helpers import settle
from sqlalchemy import Engine, text
from sqlmodel import Session
from test_app_shell import rows
from textual.widgets import Static

from salesengine_tui.activity import feed
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import (
    Blast,
    CustomerInteraction,
    CustomerOptOutChange,
    EmailEvent,
    EmailOutbox,
    InteractionDirection,
    InteractionType,
    OutboxStatus,
)
from salesengine_tui.marketing import blast_outcomes, segments
from salesengine_tui.marketing.blast_outcomes import BlastOutcomes
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.widgets.dashboard_cells import LOST
from salesengine_tui.widgets.timeline_list import TimelineList, headline

_keys = count()
BOUNCE_REASON = "mailbox does not exist"


def add_blast(session: Session, desk: Desk, subject: str, *, at: datetime, n: int) -> Blast:
    blast = Blast(
        id=fixed_id(n, 0xB1),
        content_key=f"test-{n}",
        segment_name="Referrals",
        definition=segments.to_json(segments.parse("lead_source = 'Referral'")),
        subject=subject,
        body="Hello",
        recipients=0,
        excluded={},
        created_by=desk.manager.id,
        created_at=at,
    )
    session.add(blast)
    session.flush()
    return blast


def add_email(
    session: Session, blast: Blast | None, customer_id: uuid.UUID | None, *, at: datetime
) -> EmailOutbox:
    """One sent email (of `blast`, or a one-off)."""
    key = f"blast:{blast.id}:{customer_id}" if blast else f"test:{next(_keys)}"
    email = EmailOutbox(
        idempotency_key=key,
        customer_id=customer_id,
        to_email="someone@example.com",
        subject=blast.subject if blast else "Checking in",
        body_text="Hello",
        is_campaign=blast is not None,
        status=OutboxStatus.sent,
        blast_id=blast.id if blast else None,
        created_at=at,
        sent_at=at,
    )
    session.add(email)
    session.flush()
    return email


def add_event(
    session: Session,
    kind: str,
    email: EmailOutbox,
    *,
    at: datetime = FIXED_NOW,
    detail: str | None = None,
) -> None:
    """An event as a provider reports it (each report its own key: replays are other rows)."""
    session.add(
        EmailEvent(
            provider="postmark",
            event_key=f"test-{next(_keys)}",
            kind=kind,
            email=email.to_email,
            outbox_id=email.id,
            customer_id=email.customer_id,
            blast_id=email.blast_id,
            detail=detail,
            occurred_at=at,
            received_at=at,
        )
    )


def link_opt_out(session: Session, customer_id: uuid.UUID, at: datetime) -> None:
    session.add(
        CustomerOptOutChange(
            customer_id=customer_id, opted_out=True, via="unsubscribe_link", changed_at=at
        )
    )


def add_many(session: Session, blast: Blast, n: int, events: dict[str, int]) -> None:
    """`n` sent emails of `blast` to no one in particular, and `events[kind]` of the first of
    them reported `kind` (a realistic size for the figures, in two statements)."""
    sent = blast.created_at
    session.execute(
        text(
            "INSERT INTO email_outbox (idempotency_key, to_email, subject, body_text, "
            "is_campaign, status, blast_id, created_at, sent_at) "
            "SELECT 'blast:' || CAST(:blast AS text) || ':' || 'bulk' || i, 'x' || i || '@example.com', "
            ":subject, 'Hello', true, 'sent', :blast, :sent, :sent FROM generate_series(1, :n) i"
        ),
        {"blast": blast.id, "subject": blast.subject, "sent": sent, "n": n},
    )
    for kind, many in events.items():
        session.execute(
            text(
                "INSERT INTO email_events (provider, event_key, kind, outbox_id, blast_id, "
                "occurred_at) SELECT 'postmark', :kind || '-' || o.id, :kind, o.id, o.blast_id, "
                ":at FROM (SELECT id, blast_id FROM email_outbox WHERE blast_id = :blast "
                "ORDER BY idempotency_key LIMIT :many) o"
            ),
            {"kind": kind, "blast": blast.id, "at": sent + timedelta(hours=1), "many": many},
        )
    blast.recipients += n


def seed_outcomes(session: Session, desk: Desk) -> dict[str, Blast]:
    """Three blasts on the seeded desk: a big one with every outcome, one nothing came back
    for yet, and one to the desk's customers (Hank Hill's email bounced, Peggy Hill's was
    delivered); each email to a customer is on their timeline."""
    spring = add_blast(session, desk, "Spring tune-up: 15% off", at=days_before(20), n=1)
    add_many(session, spring, 1240, {"delivered": 1204, "bounced": 12, "complained": 3})
    quiet = add_blast(session, desk, "Holiday hours", at=days_before(1), n=2)
    add_many(session, quiet, 40, {})
    checkup = add_blast(session, desk, "Is your furnace ready for winter?", at=days_before(3), n=3)
    at = checkup.created_at
    for name, customer in desk.customers.items():
        email = add_email(session, checkup, customer.id, at=at)
        checkup.recipients += 1
        session.add(
            CustomerInteraction(
                customer_id=customer.id,
                type=InteractionType.email,
                direction=InteractionDirection.outbound,
                notes=f"{checkup.subject}\nHello",
                outcome=feed.CAMPAIGN_OUTCOME,
                created_by=desk.manager.id,
                created_at=at,
                outbox_id=email.id,
            )
        )
        if name == "Hank Hill":
            add_event(session, "bounced", email, at=at + timedelta(minutes=2), detail=BOUNCE_REASON)
        elif name != "Strickland Propane":  # nothing back for that one yet
            add_event(session, "delivered", email, at=at + timedelta(minutes=1))
    # Dale opted out with the link two days later.
    link_opt_out(session, desk.customers["Dale Gribble"].id, at + timedelta(days=2))
    session.flush()
    return {"spring": spring, "quiet": quiet, "checkup": checkup}


# --- the counts ------------------------------------------------------------------------------


def test_counts_each_message_once_per_outcome(engine: Engine, desk: Desk) -> None:
    with Session(engine) as s:
        blast = add_blast(s, desk, "Hi", at=days_before(5), n=1)
        names = ("Hank Hill", "Peggy Hill", "Dale Gribble", "Bill Dauterive")
        hank, peggy, dale, bill = (desk.customers[name].id for name in names)
        a, b, c, d = (
            add_email(s, blast, who, at=days_before(5)) for who in (hank, peggy, dale, bill)
        )
        add_event(s, "delivered", a)
        add_event(s, "delivered", a)  # reported twice (a retried webhook with a new id)
        add_event(s, "delivered", b)
        add_event(s, "complained", b)
        add_event(s, "complained", b)
        add_event(s, "bounced", c, detail=BOUNCE_REASON)
        add_event(s, "soft_bounced", d)  # not counted: the provider retries
        add_event(s, "dropped", d)  # counted as bounced
        add_event(s, "unsubscribed", a)
        add_event(s, "unsubscribed", a)
        link_opt_out(s, hank, days_before(4))  # the same customer by the link: still one
        s.flush()
        got = blast_outcomes.for_blasts(s, [blast.id])
    assert got == {blast.id: BlastOutcomes(2, 2, 1, 1, heard=True)}


def test_a_blast_nothing_came_back_for_shows_nothing_heard(engine: Engine, desk: Desk) -> None:
    with Session(engine) as s:
        heard = add_blast(s, desk, "Heard", at=days_before(5), n=1)
        quiet = add_blast(s, desk, "Quiet", at=days_before(5), n=2)
        add_event(
            s, "delivered", add_email(s, heard, desk.customers["Hank Hill"].id, at=days_before(5))
        )
        add_email(s, quiet, desk.customers["Peggy Hill"].id, at=days_before(5))
        s.flush()
        got = blast_outcomes.for_blasts(s, [heard.id, quiet.id])
        assert blast_outcomes.for_blasts(s, []) == {}
    assert got[quiet.id] == BlastOutcomes() and not got[quiet.id].heard
    assert got[heard.id] == BlastOutcomes(delivered=1, heard=True)


def test_link_opt_outs_go_to_the_latest_blast_within_30_days(engine: Engine, desk: Desk) -> None:
    hank, peggy, dale = (desk.customers[n].id for n in ("Hank Hill", "Peggy Hill", "Dale Gribble"))
    with Session(engine) as s:
        old = add_blast(s, desk, "Old", at=days_before(60), n=1)
        new = add_blast(s, desk, "New", at=days_before(10), n=2)
        for who in (hank, peggy, dale):
            add_email(s, old, who, at=days_before(60))
        add_email(s, new, hank, at=days_before(10))
        add_email(s, None, peggy, at=days_before(9))  # a one-off email: no blast
        link_opt_out(s, hank, days_before(2))  # after both: the newer blast only
        link_opt_out(s, peggy, days_before(50))  # 10 days after the old blast
        link_opt_out(s, dale, days_before(20))  # 40 days after the old one: not put down to it
        s.add(  # staff opted someone out: not the blast's doing
            CustomerOptOutChange(customer_id=dale, opted_out=True, via="staff",
                                 changed_at=days_before(59))
        )  # fmt: skip
        s.flush()
        got = blast_outcomes.for_blasts(s, [old.id, new.id])
    assert got[new.id] == BlastOutcomes(unsubscribed=1, heard=True)
    assert got[old.id] == BlastOutcomes(unsubscribed=1, heard=True)


# --- the timeline ----------------------------------------------------------------------------


def test_each_sent_email_shows_its_own_fate(engine: Engine, desk: Desk) -> None:
    hank = desk.customers["Hank Hill"].id
    with Session(engine) as s:
        blast = add_blast(s, desk, "Hi", at=days_before(5), n=1)
        emails = [
            add_email(s, blast if i == 0 else None, hank, at=days_before(5 - i)) for i in range(4)
        ]
        fates = [
            [("delivered", None), ("bounced", BOUNCE_REASON)],  # the bounce wins
            [("soft_bounced", None), ("delivered", None)],  # delivered after a retry
            [("delivered", None), ("complained", None)],
            [],  # nothing yet
        ]
        for i, (email, events) in enumerate(zip(emails, fates, strict=True)):
            for kind, detail in events:
                add_event(s, kind, email, detail=detail)
            s.add(
                CustomerInteraction(
                    id=fixed_id(i, 0xE0), customer_id=hank, type=InteractionType.email,
                    direction=InteractionDirection.outbound, notes="Hello", outbox_id=email.id,
                    created_by=desk.manager.id, created_at=days_before(5 - i),
                )
            )  # fmt: skip
        # Hank's reply answers the first email: an inbound entry, no fate of its own.
        s.add(
            CustomerInteraction(
                id=fixed_id(9, 0xE0), customer_id=hank, type=InteractionType.email,
                direction=InteractionDirection.inbound, notes="Re: Hi", outbox_id=emails[0].id,
                created_by=desk.manager.id, created_at=days_before(0),
            )
        )  # fmt: skip
        s.flush()
        items = {i.id: i for i in feed.recent_activity(s, customer_id=hank)}
        team = {i.id: i for i in feed.recent_activity(s)}
    shown = [headline(items[fixed_id(i, 0xE0)]) for i in range(4)]
    assert shown == [
        f"✉ Email out · ✗ bounced: {BOUNCE_REASON}",
        "✉ Email out · ✓ delivered",
        "✉ Email out · ⚑ marked as spam",
        "✉ Email out",
    ]
    assert items[fixed_id(9, 0xE0)].email_fate is None
    assert team[fixed_id(0, 0xE0)].email_fate is None  # the team's feed does not ask


# --- in the app ------------------------------------------------------------------------------


def shown(app: SalesEngineApp, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    return "\n".join(widget.render_line(y).text.rstrip() for y in range(widget.size.height))


def seeded_app(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    with Session(engine, expire_on_commit=False) as s:
        seed_outcomes(s, desk)
        s.commit()
    return SalesEngineApp(app_context(engine, clock, desk.manager))


async def test_segments_home_and_dashboard_show_the_counts(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = seeded_app(engine, clock, desk)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        listed = {r[1]: r[-1] for r in rows(app, "#blasts")}
        assert listed == {
            "Holiday hours": "✓    — ✗ — ⚑— ⊘—",
            "Is your furnace ready for winter?": "✓    4 ✗ 1 ⚑0 ⊘1",
            "Spring tune-up: 15% off": "✓1,204 ✗12 ⚑3 ⊘0",
        }
        legend = shown(app, "#blasts-legend").replace("\n", " ")
        assert "✓ delivered ✗ bounced ⚑ spam ⊘ opted out, — nothing yet" in legend
        await pilot.press("4")
        await settle(pilot)
        assert shown(app, "#blast-lines").splitlines() == [
            "11-23 Holiday hours",
            "  ✓     —  ✗  —  ⚑ —  ⊘ —",
            "11-21 Is your furnace ready for winter?",
            "  ✓     4  ✗  1  ⚑ 0  ⊘ 1",
            "11-04 Spring tune-up: 15% off",
            "  ✓ 1,204  ✗ 12  ⚑ 3  ⊘ 0",
        ]
        assert shown(app, "#blast-legend").splitlines() == [
            "✓ delivered ✗ bounced ⚑ spam ⊘ opted out",
            "— nothing yet",
        ]


async def test_the_timeline_says_which_email_bounced(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = seeded_app(engine, clock, desk)
    async with app.run_test(size=(120, 40)) as pilot:
        for name in ("Hank Hill", "Peggy Hill"):
            app.push_screen(CustomerScreen(app.ctx, desk.customers[name].id))
            await settle(pilot)
            timeline = app.screen.query_one(TimelineList)
            strips = [timeline.render_line(y) for y in range(timeline.size.height)]
            drawn = "\n".join(strip.text for strip in strips)
            email = next(line for line in drawn.splitlines() if "✉ Email out" in line)
            # The fate's own colour (a bounce must not look like a delivery) beside its mark.
            fate_colours = {
                seg.style.color.triplet.hex if seg.style and seg.style.color else None
                for strip in strips
                for seg in strip
                if "bounced" in seg.text or "delivered" in seg.text
            }
            if name == "Hank Hill":
                assert f"✉ Email out · ✗ bounced: {BOUNCE_REASON}" in email
                assert fate_colours == {LOST}
            else:
                assert "✉ Email out · ✓ delivered" in email
                assert "bounced" not in drawn
                assert LOST not in fate_colours
            await pilot.press("escape")
            await settle(pilot)
