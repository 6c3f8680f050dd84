"""The facts column of a customer's profile: contact details (an email is never broken: see
`fitted.Facts`), then the open tasks, equipment (with its age), estimates and tickets. Rich
renderables built from data shown literally (never as markup)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

from ..customers.equipment import age_years
from ..customers.phones import phone_display
from ..customers.profile import Profile
from ..customers.status import OptOutRecord, OptOutVia
from ..tasks.due import due_label
from ..tasks.model import Bucket, TaskRow, kind_label
from ..tasks.pages import bucket_of
from ..ui.display import days_ago, local_date, money, safe_text, visible
from .dashboard_cells import DUE_SOON
from .fitted import Facts


def contact_grid(p: Profile, now: datetime, tz: ZoneInfo) -> Facts:
    address = ", ".join(x for x in (p.address, p.city, p.state, p.postal_code) if x)
    return Facts(
        [
            ("Name", safe_text(p.name, style="bold")),
            ("Status", safe_text(p.status.value)),
            ("Source", safe_text(p.lead_source)),
            ("Owner", safe_text(p.owner_name, empty="unassigned")),
            ("Email", safe_text(p.email)),
            *_opt_out(p, tz),
            ("Phone", safe_text(phone_display(p.phone, p.phone_ext))),
            ("Address", safe_text(address or None)),
            ("Added", safe_text(local_date(p.created_at, tz))),
            ("Last touch", safe_text(days_ago(p.last_interaction_at, now, tz))),
            ("Next task", _next_task(p, now, tz)),
        ]
    )


def _opt_out(p: Profile, tz: ZoneInfo) -> list[tuple[str, Text]]:
    """A fact of its own while the customer is opted out: since when and how, in words."""
    if p.opt_out is None or not p.email_opt_out:
        return []
    return [("Opted out", Text.assemble(("✗ ", "bold"), opt_out_how(p.opt_out, tz)))]


def opt_out_how(record: OptOutRecord, tz: ZoneInfo) -> str:
    """`on 2026-03-04 by the unsubscribe link`, `on 2026-03-04 by Dana Reyes (staff)`: when
    and how a customer opted out (for an opt-out from before revision 0018, only when)."""
    how = ""
    if record.via is OptOutVia.link:
        how = " by the unsubscribe link"
    elif record.via is OptOutVia.provider:
        how = " by the email provider's unsubscribe"
    elif record.via is OptOutVia.complaint:
        how = " after marking an email as spam"
    elif record.via is OptOutVia.reply:
        how = ' by replying "unsubscribe"'
    elif record.via is OptOutVia.staff:
        how = f" by {record.by_name or 'someone'} (staff)"
    return visible(f"on {local_date(record.at, tz)}{how}")


def _next_task(p: Profile, now: datetime, tz: ZoneInfo) -> Text:
    if not p.open_tasks:
        return Text("none: t adds one", style="dim")
    task = p.open_tasks[0]
    return Text.assemble(_due(task, now, tz), " ", safe_text(task.title))


def _due(task: TaskRow, now: datetime, tz: ZoneInfo) -> Text:
    """The due label: overdue in warning style, due today standing out."""
    style = {Bucket.overdue: DUE_SOON, Bucket.today: "bold"}.get(bucket_of(task, now, tz))
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
    """One line a record, what to scan for first (a deal's stage and value, a ticket's state)
    and the free text last, where a narrow column cuts it with "…"."""
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
        age = f" · {age_years(eq.installed_on, today)} yr "
        grid.add_row(Text.assemble(safe_text(eq.kind), age, safe_text(make, style="dim", empty="")))
    grid.add_row(Text(f"Estimates ({len(p.estimates)})", style="bold underline"))
    for est in p.estimates:
        grid.add_row(
            Text.assemble(
                f"#{est.number} ",
                safe_text(est.stage or est.status, style="dim"),
                f" · {money(est.amount)} · ",
                safe_text(est.title),
            )
        )
    grid.add_row(Text(f"Tickets ({len(p.tickets)})", style="bold underline"))
    for t in p.tickets:
        state = f"{t.status} {local_date(t.closed_at, tz)}" if t.closed_at else t.status
        grid.add_row(Text.assemble(f"#{t.number} ", (state, "dim"), " · ", safe_text(t.summary)))
    return grid
