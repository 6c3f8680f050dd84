"""The customer profile and the deal screen fit 80x24 and 120x40: facts wrap only between words
(an email is never broken), a timeline entry says what happened first (a move's stages before
the deal's title), and the email opt-out asks first and writes its timeline entry in the same
transaction as the change."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from deals_edit_data import add_change, add_closed_ticket
from factories import (
    FIXED_NOW,
    Desk,
    add_customer,
    add_estimate,
    add_interaction,
    add_stage_move,
    app_context,
    days_before,
    stages_of,
)
from pilot_helpers import settle
from rich.console import Console
from rich.text import Text
from sqlalchemy import Engine, select
from sqlmodel import Session
from textual.pilot import Pilot

from salesengine_tui.activity import feed
from salesengine_tui.activity.feed import ActivityKind
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.customers.status import record_status_change, staff_opt_out
from salesengine_tui.db.models import (
    Customer,
    CustomerOptOutChange,
    CustomerStatus,
    InteractionDirection,
    InteractionType,
)
from salesengine_tui.screens.confirm import ConfirmDialog
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.usecases import Desk as UseCaseDesk
from salesengine_tui.widgets.fitted import Events, Facts
from salesengine_tui.widgets.timeline_list import TimelineList, headline

LONG_NAME = "Maria-Guadalupe Villanueva-Hernandez"
LONG_EMAIL = "maria.guadalupe.villanueva45@example.org"
DEAL_TITLE = "Dual-fuel heat pump conversion with a new air handler"


def seed_long_profile(session: Session, desk: Desk) -> Customer:
    """A customer with a long name and email, and a timeline of every kind a deal makes: the
    deal opened, then moved Site Visit Scheduled → Proposal Sent, its value changed, a call;
    and a second deal, Won long ago."""
    stages = stages_of(session, "Residential Replacements")
    sam, dana = desk.rep, desk.manager  # only their ids are read
    maria = add_customer(session, LONG_NAME, status=CustomerStatus.active, owner=sam,
                         phone="+12149289537", created_at=days_before(30), n=40)  # fmt: skip
    maria.email = LONG_EMAIL
    maria.address, maria.city, maria.state, maria.postal_code = (
        "4174 Robertson Dr", "Grand Prairie", "TX", "75052",
    )  # fmt: skip
    deal = add_estimate(session, maria, stages["Proposal Sent"], 13385, title=DEAL_TITLE,
                        owner=sam, entered_at=days_before(2), n=40)  # fmt: skip
    add_stage_move(session, deal, stages["Site Visit Scheduled"], by=sam, at=days_before(9), n=40)
    add_stage_move(session, deal, stages["Proposal Sent"], from_stage=stages["Site Visit Scheduled"],
                   by=sam, at=days_before(2), n=41)  # fmt: skip
    add_change(session, deal, "value", "$9,800", "$13,385", by=dana, at=days_before(1.5), n=40)
    # a second deal, long closed (no moves on the timeline): `d` lists both
    add_estimate(session, maria, stages["Won"], 389, title="Annual maintenance plan, two systems",
                 owner=sam, entered_at=days_before(25), n=41)  # fmt: skip
    add_interaction(session, maria, sam, at=days_before(1), outcome="connected", n=40,
                    notes="Walked through both quotes; she wants the dual-fuel option and "
                          "asked about financing over five years")  # fmt: skip
    session.flush()
    return maria


@pytest.fixture
def maria(engine: Engine, desk: Desk) -> Customer:
    with Session(engine, expire_on_commit=False) as session:
        seeded = seed_long_profile(session, desk)
        session.commit()
    return seeded


def rendered(renderable: object, width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text().splitlines()


# --- facts: words never broken -----------------------------------------------------------


@pytest.mark.parametrize("width", [44, 60, 100])
def test_an_email_is_never_broken(width: int) -> None:
    facts = Facts([("Name", Text(LONG_NAME)), ("Email", Text(LONG_EMAIL)),
                   ("Address", Text("4174 Robertson Dr, Grand Prairie, TX, 75052"))])  # fmt: skip
    lines = rendered(facts, width)
    assert max(len(line) for line in lines) <= width
    assert sum(LONG_EMAIL in line for line in lines) == 1, lines  # whole, on one line
    words = " ".join(lines).split()
    for word in ("Maria-Guadalupe", "Villanueva-Hernandez", "Robertson", "Prairie,"):
        assert word in words, lines  # wrapped between words, never inside one


def test_an_email_wider_than_the_column_is_cut_with_an_ellipsis() -> None:
    """Under its label, it gets all but the indent; what still does not fit ends in "…"."""
    facts = Facts([("Email", Text(LONG_EMAIL)), ("Last touch", Text("yesterday"))])
    assert rendered(facts, 30) == [
        "Email", "  maria.guadalupe.villanueva4…", "Last touch yesterday"
    ]  # fmt: skip


def test_events_stack_when_what_happened_would_be_cut() -> None:
    move = Text("➜ Site Visit Scheduled → Proposal Sent · #41 " + DEAL_TITLE)
    rows = [("2026-11-22 09:00", move, "SO")]
    wide = rendered(Events(rows), 100)
    assert wide[0].startswith("2026-11-22 09:00 ➜ Site Visit Scheduled → Proposal Sent · #41")
    assert wide[0].rstrip().endswith("…  SO") or wide[0].rstrip().endswith("… SO")
    narrow = rendered(Events(rows), 42)
    assert narrow[0].rstrip() == "2026-11-22 09:00 · SO"
    assert narrow[1].startswith("  ➜ Site Visit Scheduled → Proposal Sent") and "…" in narrow[1]


# --- the timeline: what happened first -----------------------------------------------------


def test_headlines_put_what_happened_before_the_title(engine: Engine, desk: Desk, maria) -> None:
    with Session(engine) as s:
        items = feed.recent_activity(s, 10, customer_id=maria.id)
    shown, number = [headline(item) for item in items], items[1].estimate_number
    assert shown == [
        "☎ Call out · connected",
        f"✎ Value $9,800 → $13,385 · #{number} {DEAL_TITLE}",
        f"➜ Site Visit Scheduled → Proposal Sent · #{number} {DEAL_TITLE}",
        f"➜ (opened) → Site Visit Scheduled · #{number} {DEAL_TITLE}",
    ]


def timeline_text(screen: CustomerScreen) -> str:
    timeline = screen.query_one(TimelineList)
    return "\n".join(timeline.render_line(y).text for y in range(timeline.size.height))


async def open_profile(app: SalesEngineApp, pilot: Pilot[None], customer_id: uuid.UUID) -> None:
    await settle(pilot)
    app.push_screen(CustomerScreen(app.ctx, customer_id))
    await settle(pilot)
    assert isinstance(app.screen, CustomerScreen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_profile_fits(engine: Engine, clock: FixedClock, desk: Desk, maria, size) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=size) as pilot:
        await open_profile(app, pilot, maria.id)
        screen = app.screen
        facts = screen.query_one("#customer-contact")
        lines = [strip.text.strip() for strip in facts.render_lines(facts.size.region)]
        email = next(line for line in lines if line.startswith(LONG_EMAIL[:20]))
        if size == (120, 40):
            assert email == LONG_EMAIL
        else:  # under its label, cut: never broken onto a second line
            assert email.endswith("…") and LONG_EMAIL.startswith(email[:-1])
        text = timeline_text(screen)
        assert "➜ Site Visit Scheduled → Proposal Sent · #" in text, text
        assert "✎ Value $9,800 → $13,385 · #" in text, text
        assert "☎ Call out · connected" in text and "Walked through both quotes" in text
        assert "Sam Ortiz" in text and "Dana Reyes" in text  # who, at both sizes


def seed_every_kind(session: Session, desk: Desk, maria: Customer) -> None:
    """Besides the call, the change and the moves: an email in and a text, a meeting, a move
    into Lost with its reason, a conversion, a ticket opened and closed, an opt-out."""
    stages = stages_of(session, "Residential Replacements")
    sam = desk.rep
    for i, kind in enumerate((InteractionType.email, InteractionType.sms, InteractionType.meeting)):
        add_interaction(session, maria, sam, type=kind, direction=InteractionDirection.inbound,
                        at=days_before(3 + i), notes=f"{kind.value} notes", n=41 + i)  # fmt: skip
    lost = add_estimate(session, maria, stages["Lost"], 500, title="Duct cleaning", n=42)
    add_stage_move(session, lost, stages["Lost"], from_stage=stages["New"], by=sam,
                   at=days_before(6), n=42).lost_reason = "Went with a cheaper quote"  # fmt: skip
    record_status_change(session, [maria.id], from_status=CustomerStatus.lead,
                         to_status=CustomerStatus.active, by=sam.id, at=days_before(7),
                         reason="converted")  # fmt: skip
    add_closed_ticket(session, maria, None, summary="No heat upstairs", closed_at=days_before(8))
    staff_opt_out(session, maria.id, opted_out=True, by=desk.manager.id, at=days_before(0.5))
    session.flush()


@pytest.mark.parametrize("width", [48, 72])
async def test_every_kind_of_entry_says_what_happened_first(
    engine: Engine, clock: FixedClock, desk: Desk, maria, width: int
) -> None:
    """At the profile's timeline widths at 80 and 120 columns, no entry loses what happened
    (and who) to the "…": only titles and notes are cut."""
    with Session(engine) as s:
        seed_every_kind(s, desk, s.get(Customer, maria.id))
        s.commit()
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_profile(app, pilot, maria.id)
        timeline = app.screen.query_one(TimelineList)
        items = [timeline.item(i) for i in range(timeline.count)]
        assert None not in items and timeline.count == 12
        shown = "\n".join(
            strip.text
            for i, item in enumerate(items)
            for strip in timeline.item_strips(i, item, width)
        )
    for what in [
        "⊘ Opted out of email by Dana Reyes",
        "☎ Call out · connected",
        "✎ Value $9,800 → $13,385 · #",
        "➜ Site Visit Scheduled → Proposal Sent · #",
        "✉ Email in", "email notes", "✆ Text in", "◎ Meeting in",
        "➜ New → Lost · #", "Reason: Went with a cheaper quote",
        "★ Status lead → active",
        "⚒ Ticket opened · #", "✔ Ticket closed · #", "No heat upstairs",
        "➜ (opened) → Site Visit Scheduled · #",
    ]:  # fmt: skip
        assert what in shown, (what, shown)
    assert shown.count("Sam Ortiz") == 8 and max(len(line) for line in shown.splitlines()) == width


# --- the email opt-out -------------------------------------------------------------------


def opt_out_rows(engine: Engine, customer_id: uuid.UUID) -> list[tuple[bool, str | None]]:
    with Session(engine) as s:
        rows = s.execute(
            select(CustomerOptOutChange.opted_out, CustomerOptOutChange.via)
            .where(CustomerOptOutChange.customer_id == customer_id)
            .order_by(CustomerOptOutChange.changed_at)
        ).all()
    return [tuple(r) for r in rows]


def test_opt_out_and_back_in_are_on_the_timeline(
    engine: Engine, clock: FixedClock, desk: Desk, maria
) -> None:
    use = UseCaseDesk(app_context(engine, clock, desk.manager))
    assert use.customers.set_opt_out(maria.id, True) is True
    assert use.customers.set_opt_out(maria.id, True) is False  # already: nothing written
    clock.at += timedelta(minutes=5)
    assert use.customers.set_opt_out(maria.id, False) is True
    items = use.customers.timeline(maria.id, limit=2)
    assert [(i.kind, headline(i)) for i in items] == [
        (ActivityKind.email_opt_in, "✉ Opted back in to email by Dana Reyes"),
        (ActivityKind.email_opt_out, "⊘ Opted out of email by Dana Reyes"),
    ]
    assert use.customers.profile(maria.id).timeline_count == 6
    assert opt_out_rows(engine, maria.id) == [(True, "staff"), (False, "staff")]


def test_unsubscribe_link_opt_out_says_so(
    engine: Engine, clock: FixedClock, desk: Desk, maria
) -> None:
    """`salesengine unsubscribe` (the mailbox relaying the link) takes the same path."""
    use = UseCaseDesk(app_context(engine, clock, desk.manager))
    use.ctx.actor = None  # the command acts for nobody
    assert use.email.unsubscribe(LONG_EMAIL.upper()) == 1
    (item,) = use.customers.timeline(maria.id, limit=1)
    assert headline(item) == "⊘ Opted out of email by the customer (unsubscribe link)"
    profile = use.customers.profile(maria.id).profile
    assert profile.email_opt_out and profile.opt_out.at == FIXED_NOW


def test_the_change_and_its_entry_commit_together(
    engine: Engine, clock: FixedClock, desk: Desk, maria
) -> None:
    """The entry cannot be written (its author does not exist): the opt-out is not made."""
    ctx = app_context(engine, clock, desk.manager)
    ctx.actor = type(ctx.actor)(uuid.uuid4(), "ghost", "Ghost", ctx.actor.role)
    with pytest.raises(Exception, match="foreign key"):
        UseCaseDesk(ctx).customers.set_opt_out(maria.id, True)
    with Session(engine) as s:
        assert s.get(Customer, maria.id).email_opt_out is False
    assert opt_out_rows(engine, maria.id) == []


async def test_U_asks_before_opting_out_and_before_opting_back_in(
    engine: Engine, clock: FixedClock, desk: Desk, maria
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_profile(app, pilot, maria.id)
        profile = app.screen
        await pilot.press("o")  # "only mine" elsewhere: nothing here
        await settle(pilot)
        assert app.screen is profile and opt_out_rows(engine, maria.id) == []
        await pilot.press("U")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.title_text == f"Opt {LONG_NAME} out of email?"
        await pilot.press("n")  # cancelled: nothing changes
        await settle(pilot)
        assert app.screen is profile and opt_out_rows(engine, maria.id) == []
        await pilot.press("U")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is profile and profile.profile.email_opt_out
        assert opt_out_rows(engine, maria.id) == [(True, "staff")]
        assert "⊘ Opted out of email by Dana Reyes" in timeline_text(profile)
        await pilot.press("U")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.title_text == f"Opt {LONG_NAME} back in to email?"
        assert dialog.body.startswith(
            f"{LONG_NAME} opted out of email on 2026-11-24 by Dana Reyes (staff). "
            "Opt them back in only with their consent"
        )
        await pilot.press("escape")  # kept opted out
        await settle(pilot)
        assert app.screen is profile and opt_out_rows(engine, maria.id) == [(True, "staff")]
        await pilot.press("U")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert not profile.profile.email_opt_out
        assert "✉ Opted back in to email by Dana Reyes" in timeline_text(profile)
    assert opt_out_rows(engine, maria.id) == [(True, "staff"), (False, "staff")]


async def test_opting_back_in_names_the_unsubscribe_link(
    engine: Engine, clock: FixedClock, desk: Desk, maria
) -> None:
    UseCaseDesk(app_context(engine, clock, desk.manager)).email.unsubscribe(LONG_EMAIL)
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_profile(app, pilot, maria.id)
        contact = app.screen.query_one("#customer-contact")
        shown = " ".join(rendered(contact.content, 60))
        assert "Opted out ✗ on 2026-11-24 by the unsubscribe link" in " ".join(shown.split())
        await pilot.press("U")
        await pilot.pause()
        assert "opted out of email on 2026-11-24 by the unsubscribe link." in app.screen.body
