"""The leads inbox's view: what the filter picker (`f`) offers, what a choice changes, and the
words the title line uses for the view shown (which customers: leads by default, or the
active, the churned, everyone). Plain functions; the screen applies them."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text

from ..customers.leads import LeadQuery, Person, end_of_day
from ..db.models import CustomerStatus
from ..ui.display import plural, safe_text

CLEAR = "clear"  # the picker's "Clear all filters": the screen clears search and marks too

# Which customers the inbox lists (None: all of them), as the picker and the title say it.
STATUSES: tuple[tuple[CustomerStatus | None, str, str], ...] = (
    (CustomerStatus.lead, "Leads", "lead"),
    (CustomerStatus.active, "Active customers", "active customer"),
    (CustomerStatus.churned, "Churned customers", "churned customer"),
    (None, "All customers", "customer"),
)


def _tick(on: bool) -> str:
    return "✓ " if on else "  "


def filter_choices(
    view: LeadQuery, sources: list[str], people: list[Person]
) -> list[tuple[Text, object]]:
    """The filter picker's lines, a tick on those in force."""
    choices: list[tuple[Text, object]] = [
        (Text(_tick(view.status == status) + f"Show: {title}"), ("status", status))
        for status, title, _noun in STATUSES
    ]
    choices += [
        (Text(_tick(view.not_contacted) + "Not contacted yet"), "not_contacted"),
        (Text(_tick(bool(view.due_before)) + "Next task due today"), "due"),
        (Text("  Any source"), ("source", None)),
    ]
    choices += [
        (Text.assemble(_tick(view.source == s), "Source: ", safe_text(s)), ("source", s))
        for s in sources
    ]
    choices += [(Text("  Any owner"), ("owner", None))]
    choices += [
        (Text.assemble(_tick(view.owner_id == p.id), "Owner: ", safe_text(p.name)), ("owner", p.id))
        for p in people
    ]
    choices += [(Text("  Clear all filters"), CLEAR)]
    return choices


def filter_change(
    view: LeadQuery, choice: object, *, now: datetime, tz: ZoneInfo
) -> dict[str, object]:
    """The fields of `view` a picked filter changes (a toggle turns off what is on)."""
    if choice == "not_contacted":
        return {"not_contacted": not view.not_contacted}
    if choice == "due":
        return {"due_before": None if view.due_before else end_of_day(now, tz)}
    if isinstance(choice, tuple) and choice[0] == "status":
        return {"status": choice[1]}
    if isinstance(choice, tuple) and choice[0] == "source":
        return {"source": choice[1]}
    if isinstance(choice, tuple) and choice[0] == "owner":
        return {"owner_id": choice[1]}
    return {}


def view_details(
    view: LeadQuery, total: int, *, me: uuid.UUID, people: list[Person], marked: int
) -> list[str]:
    """The title line after the section's path: how many of which customers (leads unless
    the status filter says otherwise), and what narrows them."""
    noun = next(noun for status, _title, noun in STATUSES if status == view.status)
    details = [plural(total, noun)]
    if view.owner_id == me:
        details.append("only mine")
    elif view.owner_id is not None:
        owner = next((p.name for p in people if p.id == view.owner_id), "someone")
        details.append(f"owner: {owner}")
    if view.source is not None:
        details.append(f"source: {view.source}")
    if view.not_contacted:
        details.append("not contacted")
    if view.due_before is not None:
        details.append("next task due")
    if view.text.strip():
        details.append(f"search: {view.text.strip()}")
    if marked:
        details.append(f"{marked} marked")
    return details
