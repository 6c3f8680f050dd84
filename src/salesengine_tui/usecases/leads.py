"""The leads inbox: list, search, call, convert, assign, new leads, import and export."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from ..access import permissions
from ..base.errors import UserError
from ..customers import lead_csv, leads
from ..customers.profile import clean_contact
from ..db.models import CustomerStatus
from ..deals.pipelines import PipelineInfo, list_pipelines
from ..tasks.model import TaskDraft, TaskRow
from .base import UseCases
from .deals import NewDeal, open_deal


@dataclass(frozen=True)
class LeadChoices:
    """What the inbox's pickers offer."""

    sources: list[str]
    people: list[leads.Person]
    pipelines: list[PipelineInfo]


class Leads(UseCases):
    # --- reads ------------------------------------------------------------------------------

    def count(self, view: leads.LeadQuery) -> int:
        with self.read() as session:
            return leads.lead_count(session, view)

    def page(
        self, view: leads.LeadQuery, *, offset: int, limit: int, from_end: bool = False
    ) -> list[leads.LeadRow]:
        with self.read() as session:
            return leads.lead_page(session, view, offset=offset, limit=limit, from_end=from_end)

    def choices(self) -> LeadChoices:
        """Lead sources (most used first), the people leads can be assigned to, pipelines."""
        with self.read() as session:
            return LeadChoices(
                sources=leads.lead_sources(session),
                people=leads.assignable_users(session),
                pipelines=list_pipelines(session),
            )

    def possible_duplicates(self, values: dict[str, str | None]) -> list[leads.Duplicate]:
        """Customers a new lead with these form values may already be (same email or phone)."""
        cleaned = clean_contact(values, region=self.ctx.settings.phone_region)
        with self.read() as session:
            return leads.possible_duplicates(
                session,
                email=cleaned.get("email"),
                phone=cleaned.get("phone"),
                phone_ext=cleaned.get("phone_ext"),
            )

    # --- what a rep does ----------------------------------------------------------------------

    def log_call(
        self,
        customer_id: uuid.UUID,
        *,
        outcome: str,
        notes: str | None,
        task: TaskRow | None = None,
        next_task: TaskDraft | None = None,
    ) -> None:
        """A call, in one transaction: the interaction, the task it was for (`task`, as the
        caller read it: completed under its lock) and the next task (`next_task`, created).
        Other open tasks of the customer stay as they are."""
        with self.write() as session:
            leads.log_call(
                session,
                self.actor,
                customer_id,
                outcome=outcome,
                notes=notes,
                now=self.now(),
                tz=self.tz,
                task_id=task.id if task else None,
                task_version=task.version if task else None,
                next_task=next_task,
            )

    def convert(
        self, customer_ids: Sequence[uuid.UUID], *, deal: NewDeal | None = None
    ) -> leads.Conversion:
        """Make leads customers; with `deal` (one lead only), open that deal for the customer
        (title, value, close date, owner as the person typed them), in the same transaction."""
        if deal is not None and len(set(customer_ids)) != 1:
            raise UserError("an estimate can be opened when converting one lead at a time")
        with self.write() as session:
            done = leads.convert(session, self.actor, customer_ids, now=self.now())
            if deal is None:
                return done
            # Opened even when someone converted the lead a moment ago: it was typed for them.
            opened = open_deal(
                session, self.actor, customer_ids[0], deal, now=self.now(), tz=self.tz
            )
            return replace(done, estimate_id=opened.estimate_id)

    def assign(self, customer_ids: Sequence[uuid.UUID], owner_id: uuid.UUID | None) -> int:
        with self.write() as session:
            return leads.assign(session, self.actor, customer_ids, owner_id, now=self.now())

    def create(self, values: dict[str, str | None]) -> uuid.UUID:
        with self.write() as session:
            return leads.create_lead(
                session, self.actor, values, now=self.now(), region=self.ctx.settings.phone_region
            )

    # --- files (the CLI) --------------------------------------------------------------------

    def import_csv(
        self,
        path: Path,
        *,
        source: str | None = None,
        owner_login: str | None = None,
        dry_run: bool = False,
        progress: lead_csv.Progress | None = None,
    ) -> lead_csv.ImportReport:
        """All good rows in one transaction; a dry run runs the import's every check (the
        database's too) and writes nothing.
        The acting user adds the leads; `owner_login` must be one they may give leads to."""
        actor = self.actor
        with self.read() if dry_run else self.write() as session:
            permissions.require_lead_owner(session, actor, owner_login)
            return lead_csv.import_leads(
                session,
                path,
                now=self.now(),
                source=source,
                owner_login=owner_login,
                dry_run=dry_run,
                progress=progress,
                max_bytes=self.ctx.settings.leads_import_max_mb * 1_000_000,
                region=self.ctx.settings.phone_region,
            )

    def export_csv(self, out: TextIO, *, status: CustomerStatus | None = None) -> int:
        with self.read() as session:
            return lead_csv.export_customers(session, out, status=status)
