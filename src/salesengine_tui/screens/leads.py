"""Sales > Leads: the top of the leads inbox (never-contacted and newest first) as a table.

The inbox proper (quick call, convert to customer, paging) grows from here.
"""

from __future__ import annotations

from datetime import datetime

from textual import on, work
from textual.app import ComposeResult

from .. import leads
from ..display import days_ago, local_date, number, plural, safe_text
from ..widgets.safe_table import Column, SafeTable
from .base import SectionScreen
from .messages import LeadsLoaded
from .sections import LEADS

COLUMNS = [
    Column("name", "Name", width=32),
    Column("source", "Source"),
    Column("created", "Created"),
    Column("contacted", "Last contact"),
    Column("next_step", "Next step"),
    Column("owner", "Owner"),
    Column("phone", "Phone"),
]


class LeadsScreen(SectionScreen):
    SECTION = LEADS
    CSS_PATH = "leads.tcss"

    def compose_body(self) -> ComposeResult:
        yield SafeTable(COLUMNS, id="leads")

    def reload(self) -> None:
        self.set_loading(True)
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="leads-load")
    def _load(self) -> None:
        with self.session() as session:
            total = leads.lead_count(session)
            rows = leads.first_leads(session) if total else []
        self.deliver(LeadsLoaded(total=total, leads=rows))

    @on(LeadsLoaded)
    def _show(self, message: LeadsLoaded) -> None:
        message.stop()
        now = self.ctx.clock.now()
        self.query_one("#leads", SafeTable).replace_rows(
            (str(lead.id), self._cells(lead, now)) for lead in message.leads
        )
        self.set_loading(False)
        shown = len(message.leads)
        if shown < message.total:
            self.set_title_detail(plural(message.total, "lead"), f"first {number(shown)} shown")
        else:
            self.set_title_detail(plural(message.total, "lead"))

    def _cells(self, lead: leads.LeadRow, now: datetime) -> list[object]:
        return [
            safe_text(lead.name, style="bold"),
            safe_text(lead.lead_source),
            safe_text(local_date(lead.created_at, self.tz)),
            safe_text(days_ago(lead.last_interaction_at, now, self.tz)),
            safe_text(local_date(lead.next_step_at, self.tz) if lead.next_step_at else None),
            safe_text(lead.owner_name),
            safe_text(lead.phone),
        ]
