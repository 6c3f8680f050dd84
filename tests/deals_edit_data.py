"""Rows the deal tests need beyond `factories`: equipment, a closed end-of-life ticket and the
upsell deal it made, changes to a deal, exact and deterministic (fixed ids and times)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from factories import (
    FIXED_NOW,
    add_estimate,
    add_interaction,
    add_stage_move,
    add_task,
    days_before,
    fixed_id,
)
from sqlmodel import Session

from salesengine_tui.db.models import (
    END_OF_LIFE_RESOLUTION,
    Customer,
    DealStage,
    Equipment,
    Estimate,
    EstimateChange,
    Ticket,
    TicketStatus,
    User,
)


def add_equipment(
    session: Session,
    customer: Customer,
    kind: str = "Furnace",
    *,
    brand: str | None = "Carrier",
    model: str | None = "59SC5",
    installed_on: date = date(2009, 5, 1),
    n: int | None = None,
) -> Equipment:
    equipment = Equipment(
        customer_id=customer.id,
        kind=kind,
        brand=brand,
        model=model,
        installed_on=installed_on,
        created_at=FIXED_NOW,
        **({"id": fixed_id(n, 7)} if n is not None else {}),
    )
    session.add(equipment)
    session.flush()
    return equipment


def add_closed_ticket(
    session: Session,
    customer: Customer,
    equipment: Equipment | None,
    *,
    summary: str = "No heat, heat exchanger cracked",
    closed_at: datetime = FIXED_NOW,
    n: int | None = None,
) -> Ticket:
    ticket = Ticket(
        customer_id=customer.id,
        equipment_id=equipment.id if equipment else None,
        status=TicketStatus.closed,
        summary=summary,
        resolution=END_OF_LIFE_RESOLUTION,
        opened_at=closed_at,
        closed_at=closed_at,
        **({"id": fixed_id(n, 8)} if n is not None else {}),
    )
    session.add(ticket)
    session.flush()
    return ticket


def add_upsell_deal(
    session: Session,
    customer: Customer,
    stage: DealStage,
    ticket: Ticket,
    amount: Decimal | int | str,
    *,
    entered_at: datetime = FIXED_NOW,
    n: int | None = None,
) -> Estimate:
    """An opportunity as the upsell job opens it: from the ticket, unassigned, value estimated."""
    estimate = add_estimate(
        session,
        customer,
        stage,
        amount,
        title="Replace end-of-life furnace",
        entered_at=entered_at,
        n=n,
    )
    estimate.source_ticket_id = ticket.id
    estimate.equipment_id = ticket.equipment_id
    estimate.amount_estimated = True
    session.add(estimate)
    session.flush()
    return estimate


def add_change(
    session: Session,
    estimate: Estimate,
    field: str,
    old: str | None,
    new: str | None,
    *,
    by: User | None,
    at: datetime,
    n: int | None = None,
) -> EstimateChange:
    change = EstimateChange(
        estimate_id=estimate.id,
        customer_id=estimate.customer_id,
        field=field,
        old_value=old,
        new_value=new,
        changed_by=by.id if by else None,
        changed_at=at,
        **({"id": fixed_id(n, 9)} if n is not None else {}),
    )
    session.add(change)
    session.flush()
    return change


def seed_upsell_story(session: Session, desk_manager: User, desk_rep: User, luanne: Customer,
                      stages: dict[str, DealStage]) -> Estimate:  # fmt: skip
    """Luanne's end-of-life furnace: the ticket, the opportunity it made (in Site Visit
    Scheduled for ten days, the oldest card there), its moves, the value and owner a person
    set, a task for it and a few interactions: what the deal screen's snapshots show."""
    furnace = add_equipment(session, luanne, installed_on=date(2009, 5, 1), n=1)
    ticket = add_closed_ticket(session, luanne, furnace, closed_at=days_before(12), n=1)
    deal = add_upsell_deal(session, luanne, stages["Site Visit Scheduled"], ticket, 1850,
                           entered_at=days_before(10), n=50)  # fmt: skip
    deal.amount_estimated = False
    deal.owner_id = desk_rep.id
    deal.expected_close_on = date(2026, 12, 18)
    session.add(deal)
    add_stage_move(session, deal, stages["New"], at=days_before(12), n=50)
    add_stage_move(session, deal, stages["Site Visit Scheduled"], from_stage=stages["New"],
                   by=desk_rep, at=days_before(10), n=51)  # fmt: skip
    add_change(session, deal, "owner", None, desk_rep.name, by=desk_manager,
               at=days_before(11), n=1)  # fmt: skip
    add_change(session, deal, "value", "$1,850 (estimate)", "$2,400", by=desk_rep,
               at=days_before(9), n=2)  # fmt: skip
    deal.amount = Decimal("2400")
    add_task(session, luanne, "Measure the return duct", due_at=days_before(-1), all_day=False,
             assignee=desk_rep, estimate=deal, n=50)  # fmt: skip
    for i, note in enumerate(("Asked about a heat pump instead", "Sent two quotes")):
        add_interaction(session, luanne, desk_rep, at=days_before(4 + i), notes=note, n=50 + i)
    session.flush()
    return deal
