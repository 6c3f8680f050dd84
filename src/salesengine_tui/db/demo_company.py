"""The demo company's shape: the tables and columns the generator writes, its pipelines'
stages, and its people (planned from the seed before any customer is generated)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from faker import Faker

from . import demo_words as w

DAY = 86_400

TABLES = (
    "customers",
    "equipment",
    "tickets",
    "estimates",
    "estimate_stage_history",
    "customer_interactions",
    "tasks",
)
COLUMNS = {
    "customers": "id, name, email, phone, phone_ext, address, city, state, postal_code, "
    "created_at, updated_at, status, lead_source, owner_id, email_opt_out, opted_out_at, "
    "email_suppressed_at, last_interaction_at, version",
    "equipment": "id, customer_id, kind, brand, model, serial_number, installed_on, created_at",
    "tickets": "id, number, customer_id, equipment_id, technician_id, status, summary, "
    "resolution, opened_at, scheduled_for, closed_at",
    "estimates": "id, number, customer_id, title, amount, status, equipment_id, created_by, "
    "created_at, updated_at, stage_id, stage_entered_at, owner_id, source_ticket_id, "
    "lost_reason, version",
    "estimate_stage_history": "id, estimate_id, from_stage_id, to_stage_id, from_stage_name, "
    "to_stage_name, moved_by, moved_at, lost_reason",
    "customer_interactions": "id, customer_id, type, direction, notes, created_by, created_at, "
    "outcome, estimate_id",
    "tasks": "id, customer_id, estimate_id, kind, title, notes, due_at, all_day, assignee_id, "
    "created_by, created_at, done_at, done_by, reminded_at, updated_at, version",
}


class Stage(NamedTuple):
    id: str  # 32 hex digits, as COPY takes a uuid
    name: str
    rotting_days: int | None


@dataclass(frozen=True)
class Pipeline:
    open: tuple[Stage, ...]  # by position
    won: Stage
    lost: Stage


@dataclass(frozen=True)
class StaffMember:
    id: uuid.UUID
    login: str
    name: str
    email: str
    role: str
    created_at: datetime


@dataclass(frozen=True)
class Staff:
    reps: tuple[str, ...]
    technicians: tuple[str, ...]
    system: str
    managers: tuple[str, ...] = ()  # `demo` first: some tasks are theirs


class Unit(NamedTuple):
    id: str
    kind: str
    installed_day: int


def plan_staff(fake: Faker, rng: random.Random, customers: int, now_e: int) -> list[StaffMember]:
    """The demo company's people; `demo` is the manager `salesengine demo` logs in as."""
    people = [("demo", "Morgan", "Avery", "manager")]
    roles = ["manager"] + ["rep"] * max(6, customers // 20_000)
    roles += ["technician"] * max(8, customers // 15_000)
    logins = {"demo", "system"}
    for role in roles:
        first, last = fake.first_name(), fake.last_name()
        base = "".join(ch for ch in (first[0] + last).lower() if ch.isalnum())
        login, n = base, 1
        while login in logins:
            n += 1
            login = f"{base}{n}"
        logins.add(login)
        people.append((login, first, last, role))
    staff = []
    for login, first, last, role in people:
        local = "".join(ch for ch in f"{first}.{last}".lower() if ch.isalnum() or ch == ".")
        suffix = login.removeprefix("".join(ch for ch in (first[0] + last).lower() if ch.isalnum()))
        hired = now_e - int((1 + rng.random() * 7) * 365 * DAY)
        staff.append(
            StaffMember(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                login=login,
                name=f"{first} {last}",
                email=f"{local}{suffix if suffix.isdigit() else ''}@{w.COMPANY_DOMAIN}",
                role=role,
                created_at=datetime.fromtimestamp(hired, UTC),
            )
        )
    return staff
