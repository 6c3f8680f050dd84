"""Replies against real PostgreSQL: matched by the signed reply token, by our Message-ID, by the
sender's address, or not at all (a forged token counts for nothing); stored literally on the
timeline, the owner notified (a toast in their open app), and the next nurture waits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from factories import FIXED_NOW, Desk, add_customer, add_estimate, app_context, stages_of
from pilot_helpers import settle, wait_listening, wait_until
from sqlalchemy import Engine, Row, event, text
from sqlmodel import Session

from salesengine_tui.access.users import system_user
from salesengine_tui.activity.feed import ActivityItem, ActivityKind
from salesengine_tui.automation import nurture
from salesengine_tui.base import signing
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import Settings, load_settings
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import User
from salesengine_tui.email import replies, tokens
from salesengine_tui.email.events import EventKind, InboundReply, ProviderEvent
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.usecases.desk import Desk as AppDesk
from salesengine_tui.widgets.timeline_list import TimelineList, headline

SIZE = (120, 40)
SUBJECT = "Re: Checking in on your quote: New AC, 3-ton"
QUOTED = (
    "\n\nOn Tue, Nov 24, 2026 at 9:00 AM Sam Ortiz <\nsam@example.com> wrote:\n"
    "> Hi Quiet Quentin,\n> Just checking in on the quote for New AC, 3-ton.\n"
)


def settings(**extra: object) -> Settings:
    base = {
        "signing_key": "k1-" + "x" * 30,
        "reply_domain": "reply.acme.example",
        "email_from": "Acme Sales <sales@acme.example>",
    }
    return load_settings(**{**base, **extra})


def quiet_quote(
    engine: Engine, desk: Desk, *, name="Quiet Quentin", email="q@example.com", n=77,
    owner: User | None = None, deal_owner: User | None = None,
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:  # fmt: skip
    """A customer with a quote in Proposal Sent (follow up after 3 days) for 10 days, and the
    follow-up nurture queued and sent 3 days ago: (customer, estimate, outbox row)."""
    with Session(engine) as s:
        c = add_customer(s, name, owner=s.merge(owner) if owner else None, n=n)
        c.email = email
        stage = stages_of(s, "Residential Replacements")["Proposal Sent"]
        e = add_estimate(s, c, stage, 9000, title="New AC, 3-ton",
                         owner=s.merge(deal_owner) if deal_owner else None,
                         entered_at=FIXED_NOW - timedelta(days=10))  # fmt: skip
        s.commit()
        ids = (c.id, e.id)
    with session_scope(engine) as s:
        nurture.run(s, now=FIXED_NOW - timedelta(days=3))
        outbox = s.execute(
            text(
                "UPDATE email_outbox SET status = 'sent', sent_at = created_at + interval '1 minute' "
                "WHERE customer_id = :c RETURNING id"
            ),
            {"c": ids[0]},
        ).scalar_one()
    return (*ids, outbox)


def reply_event(
    key: str = "pm-1", *, from_email: str = "Quiet Quentin <Q@Example.com>", to: str | None = None,
    mailbox_hash: str | None = None, in_reply_to: str | None = None,
    references: str | None = None, body: str = "Yes, let's go ahead." + QUOTED,
    subject: str = SUBJECT, at: datetime = FIXED_NOW - timedelta(hours=1),
) -> ProviderEvent:  # fmt: skip
    reply = InboundReply(
        from_email=from_email, from_name=None, to=to or "sales@acme.example",
        mailbox_hash=mailbox_hash, subject=subject, text=body, in_reply_to=in_reply_to,
        references=references,
    )  # fmt: skip
    return ProviderEvent("postmark", key, EventKind.replied, at, email=from_email, reply=reply)


def resolve(engine: Engine, *events: ProviderEvent, config: Settings | None = None):
    with Session(engine) as s:
        return replies.resolve(s, config or settings(), list(events))


def apply(engine: Engine, *events: ProviderEvent, now: datetime = FIXED_NOW) -> int:
    config = settings()
    with session_scope(engine) as s:
        matches = replies.resolve(s, config, list(events))
        return replies.apply(s, [(e, matches[e.key]) for e in events], now=now)


# --- matching --------------------------------------------------------------------------------


def test_matched_by_reply_token_in_to_or_mailbox_hash(engine: Engine, desk: Desk) -> None:
    customer, estimate, outbox = quiet_quote(engine, desk)
    address = tokens.reply_address(settings(), outbox)
    assert address is not None
    word = address.split("+")[1].split("@")[0]
    by_to = reply_event("a", from_email="someone.else@example.org", to=f"Sales <{address}>")
    by_hash = reply_event("b", from_email="someone.else@example.org", mailbox_hash=word.upper())
    found = resolve(engine, by_to, by_hash)
    assert found == {k: replies.ReplyMatch(customer, outbox, estimate) for k in ("a", "b")}


def test_matched_by_our_message_id_in_in_reply_to_or_references(engine: Engine, desk: Desk) -> None:
    customer, estimate, outbox = quiet_quote(engine, desk)
    ours = tokens.message_id(settings(), outbox)
    gone = tokens.message_id(settings(), uuid.uuid4())  # ours in form, but no such row
    found = resolve(
        engine,
        reply_event("a", from_email="x@example.org", in_reply_to=ours),
        reply_event(
            "b",
            from_email="x@example.org",
            in_reply_to=gone,
            references=f"<abc@gmail.com> {ours} {gone}",
        ),
    )
    assert found["a"] == found["b"] == replies.ReplyMatch(customer, outbox, estimate)


def test_matched_by_sender_prefers_the_customer_last_emailed(engine: Engine, desk: Desk) -> None:
    customer, estimate, _ = quiet_quote(engine, desk)
    with Session(engine) as s:  # the same address on a customer never emailed
        add_customer(s, "Quentin's old record", n=78).email = "Q@EXAMPLE.COM"
        s.commit()
    found = resolve(engine, reply_event())
    assert found["pm-1"] == replies.ReplyMatch(customer, None, estimate)
    # Two months after the follow-up, a reply is the customer's, not about that deal any more.
    late = reply_event("late", at=FIXED_NOW + timedelta(days=60))
    assert resolve(engine, late)["late"] == replies.ReplyMatch(customer, None, None)


def test_a_stranger_matches_nothing(engine: Engine, desk: Desk) -> None:
    quiet_quote(engine, desk)
    found = resolve(engine, reply_event(from_email="Mallory <mallory@evil.example>"),
                    reply_event("junk", from_email="not an address"))  # fmt: skip
    assert set(found.values()) == {replies.NO_MATCH}
    assert apply(engine, reply_event(from_email="mallory@evil.example")) == 0


def test_a_forged_reply_token_falls_through_to_the_sender(engine: Engine, desk: Desk) -> None:
    customer, estimate, _ = quiet_quote(engine, desk)
    _, _, victim_outbox = quiet_quote(engine, desk, name="Victim", email="v@example.com", n=79)
    # The victim's row, signed with a key that is not ours; and our word with one letter changed.
    forged = signing.sign_base32(b"not-our-key", "reply", victim_outbox.bytes)
    real = tokens.reply_address(settings(), victim_outbox).split("+")[1].split("@")[0]
    # (a letter in the middle: the last one also holds base32's padding bits)
    altered = real[:20] + ("a" if real[20] != "a" else "b") + real[21:]
    for word in (forged, altered):
        found = resolve(engine, reply_event(to=f"reply+{word}@reply.acme.example"))
        assert found["pm-1"] == replies.ReplyMatch(customer, None, estimate)
    # Without a signing key, no token is read at all: the sender still matches.
    unsigned = settings(signing_key=None)
    found = resolve(engine, reply_event(to=f"reply+{real}@x.example"), config=unsigned)
    assert found["pm-1"].customer_id == customer


def test_a_batch_takes_a_fixed_number_of_statements(engine: Engine, desk: Desk) -> None:
    _, _, outbox = quiet_quote(engine, desk)
    address = tokens.reply_address(settings(), outbox)
    events = [reply_event(f"t{i}", to=address) for i in range(50)]
    events += [reply_event(f"f{i}", from_email=f"p{i}@example.org") for i in range(50)]
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert len(resolve(engine, *events)) == 100
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([s for s in statements if "email_outbox" in s or "customers" in s]) == 2
    statements.clear()
    event.listen(engine, "before_cursor_execute", listener)
    try:  # resolve (2), then the system user, entries, last touches, notifications, NOTIFY
        assert apply(engine, *events) == 50
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len([s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]) <= 7


# --- applying --------------------------------------------------------------------------------


def timeline_entry(engine: Engine, customer: uuid.UUID) -> Row:
    with Session(engine) as s:
        return s.execute(
            text(
                "SELECT * FROM customer_interactions WHERE customer_id = :c AND outcome = 'reply'"
            ),
            {"c": customer},
        ).one()


HOSTILE = "Yes [bold]go ahead[/] [@click=app.quit]now\x1b[2J\r\n\tSecond line\x07" + QUOTED


def test_a_reply_goes_on_the_timeline_literally(engine: Engine, desk: Desk) -> None:
    customer, estimate, outbox = quiet_quote(engine, desk, owner=desk.rep)
    at = FIXED_NOW - timedelta(hours=1)
    assert apply(engine, reply_event(to=tokens.reply_address(settings(), outbox), body=HOSTILE,
                                     subject="Re:\x1b]0;pwned\x07 quote", at=at)) == 1  # fmt: skip
    entry = timeline_entry(engine, customer)
    assert entry.notes == (
        "Re:]0;pwned quote\nYes [bold]go ahead[/] [@click=app.quit]now[2J\n Second line"
    )
    with Session(engine) as s:
        system = system_user(s).id
        touched = s.execute(
            text("SELECT last_interaction_at FROM customers WHERE id = :c"), {"c": customer}
        ).scalar_one()
    assert (entry.type, entry.direction, entry.created_by) == ("email", "inbound", system)
    assert (entry.created_at, entry.estimate_id, entry.outbox_id) == (at, estimate, outbox)
    assert touched == at


def test_long_replies_are_cut_and_future_dates_are_now(engine: Engine, desk: Desk) -> None:
    customer, _, _ = quiet_quote(engine, desk)
    future = FIXED_NOW + timedelta(days=3650)  # a sender's clock (the Date header) is theirs
    assert apply(engine, reply_event(body="word " * 1000, at=future)) == 1
    entry = timeline_entry(engine, customer)
    text_part = entry.notes.split("\n", 1)[1]
    assert len(text_part) == replies.TEXT_MAX and text_part.endswith("…")
    assert entry.created_at == FIXED_NOW


def test_only_quoted_lines_left_out() -> None:
    assert replies.reply_text(
        "Fine.\n\n> old\n>> older\nThanks\n-----Original Message-----\nx"
    ) == ("Fine.\n\nThanks")
    assert replies.reply_text("On it! Tuesday works.\nOn Monday we're out.") == (
        "On it! Tuesday works.\nOn Monday we're out."
    )


def notifications_of(engine: Engine) -> list[Row]:
    with Session(engine) as s:
        return list(s.execute(text("SELECT * FROM notifications WHERE kind = 'reply' "
                                   "ORDER BY user_id")).all())  # fmt: skip


def test_the_deal_owner_is_notified_once(engine: Engine, desk: Desk) -> None:
    customer, estimate, _ = quiet_quote(engine, desk, owner=desk.manager, deal_owner=desk.rep)
    assert apply(engine, reply_event()) == 1
    [note] = notifications_of(engine)
    assert note.user_id == desk.rep.id and note.kind == "reply"
    assert note.title == f"Reply from Quiet Quentin: {SUBJECT}"
    assert note.body == "Yes, let's go ahead."
    assert (note.customer_id, note.estimate_id) == (customer, estimate)
    assert note.dedupe_key == f"reply:pm-1:{desk.rep.id}"
    with session_scope(engine) as s:  # applying the same event again notifies no one again
        replies.apply(s, [(reply_event(), replies.ReplyMatch(customer, None, estimate))],
                      now=FIXED_NOW)  # fmt: skip
    assert len(notifications_of(engine)) == 1


def test_without_an_owner_the_managers_hear_of_it(engine: Engine, desk: Desk) -> None:
    quiet_quote(engine, desk, owner=desk.rep)
    with session_scope(engine) as s:  # the owner has left; no deal owner; nurture queued it
        s.execute(text("UPDATE users SET active = false WHERE id = :u"), {"u": desk.rep.id})
    assert apply(engine, reply_event()) == 1
    assert [n.user_id for n in notifications_of(engine)] == [desk.manager.id]


def test_the_next_nurture_waits_after_a_reply(engine: Engine, desk: Desk) -> None:
    _, estimate, outbox = quiet_quote(engine, desk, owner=desk.rep)
    tomorrow = AppDesk(app_context(engine, FixedClock(FIXED_NOW + timedelta(days=1)), desk.rep))

    def follow_ups() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM email_outbox WHERE estimate_id = :e "
                                     "OR idempotency_key LIKE :k"),
                                {"e": estimate, "k": f"nurture:{estimate}:%"}).scalar_one()  # fmt: skip

    would = tomorrow.jobs.nurture(dry_run=True).counts["emails"]
    address = tokens.reply_address(settings(), outbox)
    assert apply(engine, reply_event(to=address)) == 1
    after = tomorrow.jobs.nurture().counts["emails"]
    assert after == would - 1  # this deal's follow-up, and only it, is not queued
    assert follow_ups() == 1  # the one the customer answered
    with session_scope(engine) as s:  # three days after the reply, quiet again: nudged
        assert nurture.run(s, now=FIXED_NOW + timedelta(days=3)).emails >= 1
    assert follow_ups() == 2


# --- the app ---------------------------------------------------------------------------------


def recorder(engine: Engine, desk: Desk) -> AppDesk:
    """The desk the outreach service records providers' events through."""
    ctx = app_context(engine, FixedClock(FIXED_NOW), desk.manager)
    ctx.settings = settings()
    return AppDesk(ctx)


def test_recorded_through_the_desk_once(engine: Engine, desk: Desk) -> None:
    customer, estimate, outbox = quiet_quote(engine, desk, owner=desk.rep)
    events = [
        reply_event(to=tokens.reply_address(settings(), outbox)),
        reply_event("stranger", from_email="x@evil.example"),
    ]
    first = recorder(engine, desk).outreach.record_events(events)
    assert (first.stored, first.replies, first.unmatched) == (2, 1, 1)
    again = recorder(engine, desk).outreach.record_events(events)  # a replayed webhook
    assert (again.stored, again.replies, again.unmatched) == (0, 0, 0)
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT event_key, customer_id, outbox_id, estimate_id FROM email_events "
                "WHERE kind = 'replied' ORDER BY event_key"
            )
        ).all()
        entries = conn.execute(
            text("SELECT count(*) FROM customer_interactions WHERE outcome = 'reply'")
        ).scalar_one()
    assert [tuple(r) for r in stored] == [
        ("pm-1", customer, outbox, estimate),
        ("stranger", None, None, None),  # kept, from nobody we know
    ]
    assert entries == 1 and len(notifications_of(engine)) == 1


def hank_replies(engine: Engine, desk: Desk, body: str = HOSTILE) -> int:
    """Hank Hill (Sam's lead) answers from his address; recorded as the service records it."""
    with session_scope(engine) as s:
        s.execute(text("UPDATE customers SET email = 'hank@example.com' WHERE name = 'Hank Hill'"))
    event = reply_event("hank-1", from_email="Hank <hank@example.com>", body=body,
                        at=FIXED_NOW - timedelta(minutes=5))  # fmt: skip
    return recorder(engine, desk).outreach.record_events([event]).replies


async def test_the_profile_shows_a_reply_literally(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    assert hank_replies(engine, desk) == 1
    from salesengine_tui.app import SalesEngineApp

    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CustomerScreen(app.ctx, desk.customers["Hank Hill"].id))
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.profile.name == "Hank Hill"
        timeline = app.screen.query_one(TimelineList)
        top = "\n".join(timeline.render_line(y).text for y in range(3))
        assert "✉ Reply: Re: Checking in on your quote" in top, top
        assert "Yes [bold]go ahead[/] [@click=app.quit]now[2J ⏎  Second line" in top, top
        assert "SalesEngine automation" not in top  # the customer wrote it
        await pilot.click(TimelineList, offset=(40, 1))  # the "link" is text: nothing runs
        await pilot.press("enter")  # the whole entry
        await settle(pilot)
        shown = str(app.screen.query_one("#entry-notes").render())
        assert shown == "Yes [bold]go ahead[/] [@click=app.quit]now[2J\n Second line"
        assert app.is_running


async def test_a_reply_reaches_the_owners_open_app(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    from salesengine_tui.app import SalesEngineApp

    ctx = app_context(engine, clock, desk.rep)  # Sam owns Hank Hill
    ctx.settings = ctx.settings.model_copy(update={"live_updates": True})
    app = SalesEngineApp(ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_listening(pilot, app.alerts_listening, "alerts")
        assert await asyncio.to_thread(hank_replies, engine, desk, "See you Tuesday") == 1

        def toasted() -> bool:
            return any("Reply from Hank Hill: Re: Checking" in n.message
                       for n in app._notifications)  # fmt: skip

        await wait_until(pilot, toasted, seconds=5, what="the reply's toast")


def test_the_deal_screen_and_the_team_feed_read_a_reply_on_one_line() -> None:
    from salesengine_tui.screens.deal import _reply_line
    from salesengine_tui.widgets.dashboard_cells import _detail, _what

    notes = replies.reply_notes(reply_event(body=HOSTILE).reply)
    line = _reply_line(notes).plain
    assert (
        line == "✉ Reply: Re: Checking in on your quote… — Yes [bold]go ahead[/] "
        "[@click=app.quit]now[2J"
    )
    item = ActivityItem(at=FIXED_NOW, kind=ActivityKind.interaction, customer_id=uuid.uuid4(),
                        customer_name="Quiet Quentin", user_name="SalesEngine automation",
                        interaction_type="email", direction="inbound", outcome="reply",
                        notes=notes, estimate_number=None, estimate_title=None, from_stage=None,
                        to_stage=None, automated=True)  # fmt: skip
    assert _what(item).plain == "✉ Reply"  # not an automated email of ours
    assert _detail(item) == f"{SUBJECT} — Yes [bold]go ahead[/] [@click=app.quit]now[2J"


# --- a reply that asks to stop ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "subject", "opted_out"),
    [
        ("Unsubscribe" + QUOTED, SUBJECT, True),
        ("  STOP.\n\nSent from my phone", SUBJECT, True),
        ("", "Re: unsubscribe", True),
        ("Please remove me!", SUBJECT, True),
        ("Don't unsubscribe me, I love these.", SUBJECT, False),
        ("Stop by on Tuesday?", SUBJECT, False),
        ("Yes, let's go ahead." + QUOTED + "\n> unsubscribe", SUBJECT, False),  # quoted only
    ],
)
def test_a_reply_asking_to_stop_opts_the_customer_out(
    engine: Engine, desk: Desk, body: str, subject: str, opted_out: bool
) -> None:
    customer, _, _ = quiet_quote(engine, desk)
    with session_scope(engine) as s:  # the same mailbox on a second customer record
        twin = add_customer(s, "Quentin Q. (twin)", n=78)
        twin.email = "Q@example.com"
    assert apply(engine, reply_event(body=body, subject=subject)) == 1
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.email_opt_out, ch.via FROM customers c LEFT JOIN "
                "customer_opt_out_changes ch ON ch.customer_id = c.id "
                "WHERE lower(c.email) = 'q@example.com'"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(opted_out, "reply" if opted_out else None)] * 2
    if opted_out:  # the timeline says how, newest first
        (item,) = recorder(engine, desk).customers.timeline(customer, limit=1)
        assert headline(item) == '⊘ Opted out of email by the customer (replied "unsubscribe")'
