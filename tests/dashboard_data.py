"""A dashboard's worth of history on top of `factories.seed_desk`: deals won and lost over the
last twelve weeks (with their stage history), a deal rotting in each of two stages, next steps
due today and overdue for the manager, a technician's upsell flag, an automated email and a
conversion. Fixed ids and times, so snapshots and hand-written SQL know what to expect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from factories import (
    FIXED_NOW,
    Desk,
    add_customer,
    add_estimate,
    add_interaction,
    add_stage_move,
    add_task,
    add_user,
    days_before,
    fixed_id,
    stages_of,
)
from sqlmodel import Session, select

from salesengine_tui.db.models import (
    END_OF_LIFE_RESOLUTION,
    CustomerStatus,
    CustomerStatusChange,
    InteractionType,
    TaskKind,
    Ticket,
    TicketStatus,
    User,
    UserRole,
)

# (customer, amount, days ago won, days from entering the pipeline to the win)
WON = [
    ("Kahn Souphanousinphone", 14200, 2, 9),
    ("Cotton Hill", 6400, 9, 12),
    ("Buck Strickland", 21000, 16, 20),
    ("John Redcorn", 8800, 18, 6),
    ("Nancy Gribble", 11500, 30, 15),
    ("Joseph Gribble", 4300, 44, 10),
    ("Bobby Hill", 9900, 58, 30),
    ("Connie Souphanousinphone", 17600, 72, 18),
]
# (customer, amount, days ago lost, the stage it was lost from)
LOST = [
    ("Enrique Cerda", 7200, 5, "Site Visit Scheduled"),
    ("Ted Wassanasong", 12800, 20, "Proposal Sent"),
    ("Laoma Souphanousinphone", 5600, 40, "Negotiation"),
    ("Didi Hill", 3900, 120, "Proposal Sent"),  # outside the 90-day window
]


@dataclass(frozen=True)
class DashboardDesk:
    desk: Desk
    technician: User


def seed_dashboard(session: Session, desk: Desk) -> DashboardDesk:
    dana = session.merge(desk.manager)
    res = stages_of(session, "Residential Replacements")
    n = 100
    for name, amount, won_days_ago, took in WON:
        n += 1
        customer = add_customer(
            session,
            name,
            status=CustomerStatus.active,
            owner=dana,
            created_at=days_before(won_days_ago + took + 1),
            n=n,
        )
        won_at = days_before(won_days_ago) - timedelta(hours=n % 5)
        estimate = add_estimate(
            session, customer, res["Won"], amount, owner=dana, entered_at=won_at, n=n
        )
        entered = won_at - timedelta(days=took)
        add_stage_move(session, estimate, res["New"], by=dana, at=entered, n=n * 10)
        add_stage_move(
            session,
            estimate,
            res["Proposal Sent"],
            from_stage=res["New"],
            by=dana,
            at=entered + timedelta(days=took / 2),
            n=n * 10 + 1,
        )
        add_stage_move(
            session,
            estimate,
            res["Won"],
            from_stage=res["Proposal Sent"],
            by=dana,
            at=won_at,
            n=n * 10 + 2,
        )
    for name, amount, lost_days_ago, lost_from in LOST:
        n += 1
        customer = add_customer(
            session, name, owner=dana, created_at=days_before(lost_days_ago + 20), n=n
        )
        lost_at = days_before(lost_days_ago) - timedelta(hours=n % 5)
        estimate = add_estimate(
            session, customer, res["Lost"], amount, owner=dana, entered_at=lost_at, n=n
        )
        add_stage_move(
            session, estimate, res["New"], by=dana, at=lost_at - timedelta(days=10), n=n * 10
        )
        add_stage_move(
            session,
            estimate,
            res[lost_from],
            from_stage=res["New"],
            by=dana,
            at=lost_at - timedelta(days=5),
            n=n * 10 + 1,
        )
        add_stage_move(
            session,
            estimate,
            res["Lost"],
            from_stage=res[lost_from],
            by=dana,
            at=lost_at,
            n=n * 10 + 2,
        )
    # Rotting: Proposal Sent rots after 14 days, Site Visit Scheduled after 10.
    for name, stage, amount, days in (
        ("Lucky Kleinschmidt", "Proposal Sent", 13400, 21),
        ("Chane Wassanasong", "Site Visit Scheduled", 8100, 12),
    ):
        n += 1
        customer = add_customer(session, name, owner=dana, created_at=days_before(days + 3), n=n)
        estimate = add_estimate(
            session, customer, res[stage], amount, owner=dana, entered_at=days_before(days), n=n
        )
        add_stage_move(session, estimate, res[stage], by=dana, at=days_before(days), n=n * 10)
    # Dana's tasks: a call later today (local time), an email two days overdue.
    bill = session.merge(desk.customers["Bill Dauterive"])
    add_task(
        session,
        bill,
        "Call about the install date",
        due_at=FIXED_NOW + timedelta(hours=5),
        assignee=dana,
        n=1,
    )
    luanne = session.merge(desk.customers["Luanne Platter"])
    add_task(
        session,
        luanne,
        "Send the financing forms",
        kind=TaskKind.email,
        due_at=days_before(2),
        assignee=dana,
        n=2,
    )
    # A technician's upsell flag, an automated email, a conversion.
    tech = add_user(session, "boomhauer", name="Jeff Boomhauer", role=UserRole.technician, n=3)
    session.add(
        Ticket(
            id=fixed_id(1, 6),
            customer_id=bill.id,
            technician_id=tech.id,
            status=TicketStatus.closed,
            summary="Furnace heat exchanger cracked",
            resolution=END_OF_LIFE_RESOLUTION,
            opened_at=FIXED_NOW - timedelta(hours=3),
            closed_at=FIXED_NOW - timedelta(hours=1),
        )
    )
    system = session.exec(select(User).where(User.role == UserRole.system)).one()
    add_interaction(
        session,
        luanne,
        system,
        type=InteractionType.email,
        at=FIXED_NOW - timedelta(minutes=30),
        notes="Just checking in on your quote",
        n=50,
    )
    hank = session.merge(desk.customers["Hank Hill"])
    hank.status = CustomerStatus.active
    session.add(hank)
    session.add(
        CustomerStatusChange(
            id=fixed_id(1, 7),
            customer_id=hank.id,
            from_status=CustomerStatus.lead,
            to_status=CustomerStatus.active,
            changed_by=dana.id,
            changed_at=FIXED_NOW - timedelta(minutes=10),
            reason="converted from the leads inbox",
        )
    )
    session.flush()
    return DashboardDesk(desk=desk, technician=tech)


def expected_amounts() -> dict[str, Decimal]:
    """Won value in the 90-day window, for checks by hand."""
    return {"won_value": Decimal(sum(amount for _, amount, *_ in WON))}
