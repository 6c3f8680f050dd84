"""The facts column of a customer's profile: contact details, then the open tasks, equipment
(with its age), estimates and tickets. Rich grids built from data shown literally (never as
markup)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

from ..customers.equipment import age_years
from ..customers.profile import Profile
from ..tasks.due import due_label
from ..tasks.model import Bucket, TaskRow, kind_label
from ..tasks.pages import bucket_of
from ..ui.display import EMPTY, days_ago, local_date, money, safe_text


def contact_grid(p: Profile, now: datetime, tz: ZoneInfo) -> Table:
    contact = Table.grid(padding=(0, 1))
    contact.add_column(style="dim", no_wrap=True)
    contact.add_column(overflow="fold")
    address = ", ".join(x for x in (p.address, p.city, p.state, p.postal_code) if x)
    email = safe_text(p.email) if not p.email_opt_out else safe_text(f"{p.email} (opted out)")
    for label, value in [
        ("Name", safe_text(p.name, style="bold")),
        ("Status", safe_text(p.status.value)),
        ("Lead source", safe_text(p.lead_source)),
        ("Owner", safe_text(p.owner_name, empty="unassigned")),
        ("Email", email),
        ("Phone", safe_text(p.phone)),
        ("Address", safe_text(address or None)),
        ("Customer since", safe_text(local_date(p.created_at, tz))),
        ("Last touch", safe_text(days_ago(p.last_interaction_at, now, tz))),
        ("Next task", _next_task(p, now, tz)),
    ]:
        contact.add_row(label, value)
    return contact


def _next_task(p: Profile, now: datetime, tz: ZoneInfo) -> Text:
    if not p.open_tasks:
        return Text("none: t adds one", style="dim")
    task = p.open_tasks[0]
    return Text.assemble(_due(task, now, tz), " ", safe_text(task.title))


def _due(task: TaskRow, now: datetime, tz: ZoneInfo) -> Text:
    """The due label: overdue in warning style, due today standing out."""
    style = {Bucket.overdue: "bold yellow", Bucket.today: "bold"}.get(bucket_of(task, now, tz))
    return Text(due_label(task.due_at, task.all_day, now, tz), style=style or "", end="")


def task_line(task: TaskRow, now: datetime, tz: ZoneInfo) -> Text:
    """`today 14:30  call · Follow up on the quote · #12 · Sam Ortiz`."""
    deal = f" · #{task.estimate_number}" if task.estimate_number else ""
    return Text.assemble(
        _due(task, now, tz),
        "  ",
        (kind_label(task.kind), "dim"),
        " · ",
        safe_text(task.title),
        (deal, "dim"),
        (" · ", "dim"),
        safe_text(task.assignee_name, style="dim", empty="unassigned"),
        end="",
    )


def records_grid(p: Profile, now: datetime, tz: ZoneInfo) -> Table:
    today = now.astimezone(tz).date()
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(overflow="ellipsis", no_wrap=True)
    grid.add_row(Text(f"Open tasks ({p.open_task_count})", style="bold underline"))
    for task in p.open_tasks:
        grid.add_row(task_line(task, now, tz))
    if p.open_task_count > len(p.open_tasks):
        more = p.open_task_count - len(p.open_tasks)
        grid.add_row(Text(f"… and {more} more", style="dim"))
    grid.add_row(Text(f"Equipment ({len(p.equipment)})", style="bold underline"))
    for eq in p.equipment:
        make = " ".join(x for x in (eq.brand, eq.model) if x)
        grid.add_row(
            Text.assemble(
                safe_text(eq.kind),
                " ",
                safe_text(make, style="dim", empty=""),
                f"  {age_years(eq.installed_on, today)} yr",
            )
        )
    grid.add_row(Text(f"Estimates ({len(p.estimates)})", style="bold underline"))
    for est in p.estimates:
        grid.add_row(
            Text.assemble(
                f"#{est.number} ",
                safe_text(est.title),
                f"  {money(est.amount)}  ",
                safe_text(est.stage or est.status, style="dim"),
            )
        )
    grid.add_row(Text(f"Tickets ({len(p.tickets)})", style="bold underline"))
    for t in p.tickets:
        closed = local_date(t.closed_at, tz) if t.closed_at else EMPTY
        grid.add_row(
            Text.assemble(f"#{t.number} ", safe_text(t.summary), (f"  {t.status} {closed}", "dim"))
        )
    return grid
