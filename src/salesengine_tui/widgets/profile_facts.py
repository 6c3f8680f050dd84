"""The facts column of a customer's profile: contact details, then equipment (with its age),
estimates and tickets. Rich grids built from data shown literally (never as markup)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

from ..customers.equipment import age_years
from ..customers.profile import Profile
from ..ui.display import EMPTY, days_ago, local_date, money, safe_text


def contact_grid(p: Profile, now: datetime, tz: ZoneInfo) -> Table:
    contact = Table.grid(padding=(0, 1))
    contact.add_column(style="dim", no_wrap=True)
    contact.add_column(overflow="fold")
    address = ", ".join(x for x in (p.address, p.city, p.state, p.postal_code) if x)
    email = safe_text(p.email) if not p.email_opt_out else safe_text(f"{p.email} (opted out)")
    next_step = p.next_step or (local_date(p.next_step_at, tz) if p.next_step_at else None)
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
        ("Next step", safe_text(next_step)),
    ]:
        contact.add_row(label, value)
    return contact


def records_grid(p: Profile, now: datetime, tz: ZoneInfo) -> Table:
    today = now.astimezone(tz).date()
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(overflow="ellipsis", no_wrap=True)
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
