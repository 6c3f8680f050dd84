"""Tiny helpers that insert exact rows, so tests (and snapshots) know what the screen must show.

Every helper flushes and returns the row. Pass `n` for a deterministic id (`fixed_id(n)`);
timestamps default to the test clock's "now" (`FIXED_NOW`) so nothing depends on the wall clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, select

from salesengine_tui.access.users import Actor
from salesengine_tui.base.clock import Clock
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db.models import (
    Customer,
    CustomerInteraction,
    CustomerStatus,
    DealPipeline,
    DealStage,
    Estimate,
    EstimateStageHistory,
    InteractionDirection,
    InteractionType,
    Task,
    TaskKind,
    User,
    UserRole,
)
from salesengine_tui.usecases.context import AppContext

FIXED_NOW = datetime.fromisoformat("2026-11-24T15:00:00+00:00")  # same as conftest's clock


def fixed_id(n: int, kind: int = 0) -> uuid.UUID:
    """A readable deterministic UUID: kind in the first group, n in the last."""
    return uuid.UUID(f"{kind:08x}-0000-4000-8000-{n:012x}")


def days_before(days: float, at: datetime = FIXED_NOW) -> datetime:
    return at - timedelta(days=days)


def add_user(
    session: Session,
    login: str,
    *,
    name: str | None = None,
    role: UserRole = UserRole.rep,
    n: int | None = None,
) -> User:
    user = User(
        login=login,
        name=name or login.title(),
        role=role,
        email=f"{login}@example.com",
        **({"id": fixed_id(n, 1)} if n is not None else {}),
    )
    session.add(user)
    session.flush()
    return user


def add_customer(
    session: Session,
    name: str,
    *,
    status: CustomerStatus = CustomerStatus.lead,
    lead_source: str | None = None,
    owner: User | None = None,
    phone: str | None = None,
    created_at: datetime | None = None,
    last_interaction_at: datetime | None = None,
    next_step_at: datetime | None = None,
    n: int | None = None,
) -> Customer:
    """A customer; `next_step_at` gives it an open timed "Follow up" task due then (a call
    for a lead), assigned to its owner: what a next step became (revision 0014)."""
    customer = Customer(
        name=name,
        status=status,
        lead_source=lead_source,
        owner_id=owner.id if owner else None,
        phone=phone,
        created_at=created_at or FIXED_NOW,
        updated_at=created_at or FIXED_NOW,
        last_interaction_at=last_interaction_at,
        **({"id": fixed_id(n, 2)} if n is not None else {}),
    )
    session.add(customer)
    session.flush()
    if next_step_at is not None:
        add_task(
            session,
            customer,
            "Follow up",
            due_at=next_step_at,
            all_day=False,
            kind=TaskKind.call if status == CustomerStatus.lead else TaskKind.todo,
            assignee=owner,
        )
    return customer


def add_task(
    session: Session,
    customer: Customer,
    title: str,
    *,
    due_at: datetime,
    all_day: bool = False,
    kind: TaskKind = TaskKind.call,
    assignee: User | None = None,
    estimate: Estimate | None = None,
    notes: str | None = None,
    created_by: User | None = None,
    done_at: datetime | None = None,
    done_by: User | None = None,
    n: int | None = None,
) -> Task:
    """A task as stored (no rules checked: tests set up the past too). For an all-day task
    pass the start of its day in the business time zone as `due_at`."""
    task = Task(
        customer_id=customer.id,
        estimate_id=estimate.id if estimate else None,
        kind=kind,
        title=title,
        notes=notes,
        due_at=due_at,
        all_day=all_day,
        assignee_id=assignee.id if assignee else None,
        created_by=(created_by or assignee).id if (created_by or assignee) else None,
        created_at=FIXED_NOW,
        updated_at=FIXED_NOW,
        done_at=done_at,
        done_by=done_by.id if done_by else None,
        **({"id": fixed_id(n, 6)} if n is not None else {}),
    )
    session.add(task)
    session.flush()
    return task


def pipeline_by_name(session: Session, name: str) -> DealPipeline:
    return session.exec(select(DealPipeline).where(DealPipeline.name == name)).one()


def stages_of(session: Session, pipeline_name: str) -> dict[str, DealStage]:
    """The stages of a pipeline, by name (the migration creates the default ones)."""
    pipeline = pipeline_by_name(session, pipeline_name)
    stages = session.exec(select(DealStage).where(DealStage.pipeline_id == pipeline.id)).all()
    return {stage.name: stage for stage in stages}


def add_estimate(
    session: Session,
    customer: Customer,
    stage: DealStage,
    amount: Decimal | int | str,
    *,
    title: str = "AC replacement",
    owner: User | None = None,
    entered_at: datetime | None = None,
    n: int | None = None,
) -> Estimate:
    at = entered_at or FIXED_NOW
    estimate = Estimate(
        customer_id=customer.id,
        title=title,
        amount=Decimal(str(amount)),
        stage_id=stage.id,
        stage_entered_at=at,
        owner_id=owner.id if owner else None,
        created_by=owner.id if owner else None,
        created_at=at,
        updated_at=at,
        **({"id": fixed_id(n, 3)} if n is not None else {}),
    )
    session.add(estimate)
    session.flush()
    return estimate


def add_interaction(
    session: Session,
    customer: Customer,
    user: User,
    *,
    type: InteractionType = InteractionType.call,
    direction: InteractionDirection = InteractionDirection.outbound,
    at: datetime | None = None,
    notes: str | None = None,
    outcome: str | None = None,
    n: int | None = None,
) -> CustomerInteraction:
    interaction = CustomerInteraction(
        customer_id=customer.id,
        type=type,
        direction=direction,
        notes=notes,
        outcome=outcome,
        created_by=user.id,
        created_at=at or FIXED_NOW,
        **({"id": fixed_id(n, 4)} if n is not None else {}),
    )
    session.add(interaction)
    session.flush()
    return interaction


def add_stage_move(
    session: Session,
    estimate: Estimate,
    to_stage: DealStage,
    *,
    from_stage: DealStage | None = None,
    by: User | None = None,
    at: datetime | None = None,
    n: int | None = None,
) -> EstimateStageHistory:
    """A history row only (the estimate itself is not moved: that is the pipeline's rule)."""
    move = EstimateStageHistory(
        estimate_id=estimate.id,
        from_stage_id=from_stage.id if from_stage else None,
        to_stage_id=to_stage.id,
        from_stage_name=from_stage.name if from_stage else None,
        to_stage_name=to_stage.name,
        moved_by=by.id if by else None,
        moved_at=at or FIXED_NOW,
        **({"id": fixed_id(n, 5)} if n is not None else {}),
    )
    session.add(move)
    session.flush()
    return move


def app_context(engine: Engine, clock: Clock, user: User) -> AppContext:
    """What the CLI hands the app: the test engine and clock, test settings, acting as `user`."""
    return AppContext(engine=engine, clock=clock, settings=load_settings(), actor=Actor.of(user))


@dataclass(frozen=True)
class Desk:
    manager: User
    rep: User
    customers: dict[str, Customer]


def seed_desk(session: Session) -> Desk:
    """A small, fixed sales desk: 2 users, 6 customers, 7 estimates, a few interactions and moves.

    Residential Replacements then holds: New 2 ($20,400), Site Visit Scheduled 1 ($9,100),
    Proposal Sent 1 ($15,500), Negotiation 1 ($22,000), Won 1 ($7,300), Lost 0;
    Commercial Contracts: Qualified 1 ($125,000).
    """
    dana = add_user(session, "dana", name="Dana Reyes", role=UserRole.manager, n=1)
    sam = add_user(session, "sam", name="Sam Ortiz", n=2)
    res = stages_of(session, "Residential Replacements")
    com = stages_of(session, "Commercial Contracts")
    people = [
        # name, status, source, owner, created days ago, last contact days ago, next task in days
        ("Hank Hill", CustomerStatus.lead, "Referral", sam, 1, None, 2),
        ("Peggy Hill", CustomerStatus.lead, "Google Ads", sam, 3, 1, None),
        ("Dale Gribble", CustomerStatus.lead, None, None, 10, None, None),
        ("Bill Dauterive", CustomerStatus.active, "Referral", dana, 40, 5, None),
        ("Luanne Platter", CustomerStatus.active, "Tech upsell", dana, 60, 2, None),
        ("Strickland Propane", CustomerStatus.churned, "Referral", dana, 400, 90, None),
    ]
    customers: dict[str, Customer] = {}
    for i, (name, status, source, owner, created, contacted, next_step) in enumerate(people, 1):
        customers[name] = add_customer(
            session,
            name,
            status=status,
            lead_source=source,
            owner=owner,
            phone=f"+121455501{i:02d}",
            created_at=days_before(created),
            last_interaction_at=days_before(contacted) if contacted is not None else None,
            next_step_at=FIXED_NOW + timedelta(days=next_step) if next_step else None,
            n=i,
        )
    deals = [
        ("Hank Hill", res["New"], 8400, 0.5),
        ("Peggy Hill", res["New"], 12000, 3),
        ("Dale Gribble", res["Site Visit Scheduled"], 9100, 4),
        ("Bill Dauterive", res["Proposal Sent"], 15500, 6),
        ("Luanne Platter", res["Negotiation"], 22000, 8),
        ("Bill Dauterive", res["Won"], 7300, 12),
        ("Strickland Propane", com["Qualified"], 125000, 20),
    ]
    for i, (name, stage, amount, days) in enumerate(deals, 1):
        estimate = add_estimate(
            session,
            customers[name],
            stage,
            amount,
            owner=dana,
            entered_at=days_before(days),
            n=i,
        )
        add_stage_move(session, estimate, stage, by=dana, at=days_before(days), n=i)
    add_interaction(
        session,
        customers["Peggy Hill"],
        sam,
        at=days_before(1),
        outcome="voicemail",
        notes="Left a message about the quote",
        n=1,
    )
    add_interaction(
        session,
        customers["Luanne Platter"],
        dana,
        type=InteractionType.email,
        at=days_before(2),
        notes="Sent the financing options",
        n=2,
    )
    return Desk(manager=dana, rep=sam, customers=customers)


def load_desk(session: Session) -> Desk:
    """The desk of `seed_desk`, read back from a database it was seeded into (the tests'
    seeded template): the same rows, loaded and left usable after the session closes."""
    users = {u.login: u for u in session.exec(select(User).where(User.login.in_(("dana", "sam"))))}
    customers = {c.name: c for c in session.exec(select(Customer))}
    return Desk(manager=users["dana"], rep=users["sam"], customers=customers)
