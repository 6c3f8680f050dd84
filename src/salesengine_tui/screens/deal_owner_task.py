"""The deal form's owner and first-task fields: whom a deal may go to (`owner_options`), the
first task's widgets for a new deal (`first_task_widgets`), and reading that task back
(`read_first_task`), each of its fields checked by the rule the task forms use."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Input, Select

from ..access import permissions
from ..access.users import Actor
from ..base import validation
from ..base.errors import UserError
from ..db.models import TaskKind
from ..deals.deal_view import DealView
from ..tasks.due import HELP as DUE_HELP
from ..tasks.model import KIND_LABELS, TaskDraft
from ..ui.display import safe_text
from ..usecases.deals import DealChoices
from .deal_draft import FieldRefused

NOBODY = "nobody"  # the owner choice "unassigned"


def owner_options(
    actor: Actor, deal: DealView | None, choices: DealChoices
) -> tuple[list[tuple[Text, str]], str]:
    """Whom the deal may go to: a manager offers everyone and nobody; a rep themselves (and,
    on a deal nobody owns yet, nobody: it stays as it is unless they take it)."""
    current = deal.owner_id if deal is not None else actor.id
    if permissions.allowed(actor, permissions.Action.reassign):
        people = [(safe_text(p.name), str(p.id)) for p in choices.owners]
        if current is not None and str(current) not in {v for _, v in people}:
            people.insert(0, (safe_text(deal.owner_name if deal else ""), str(current)))
        return [*people, (Text("Unassigned"), NOBODY)], str(current) if current else NOBODY
    me = (Text.assemble(safe_text(actor.name), " (me)"), str(actor.id))
    if deal is None or current == actor.id:
        return [me], str(actor.id)
    if current is None:
        return [(Text("Unassigned"), NOBODY), me], NOBODY
    # Someone else's deal: the domain refuses a rep's edit and says whose it is.
    return [(safe_text(deal.owner_name or ""), str(current))], str(current)


def first_task_widgets() -> tuple[Select[str], Input, Input]:
    """A new deal's first task: its kind, title (blank: no task) and due."""
    return (
        Select(
            [(Text(label), kind.value) for kind, label in KIND_LABELS.items()],
            value=TaskKind.call.value,
            allow_blank=False,
            id="deal-task-kind",
            compact=True,
        ),
        Input(
            placeholder="title (blank: no task)",
            id="deal-task-title",
            max_length=200,
            compact=True,
        ),
        Input(
            placeholder="due: tomorrow 10am",
            id="deal-task-due",
            max_length=40,
            compact=True,
        ),
    )


def read_first_task(
    kind: object, title: str, due: str, parse_due: Callable[[str], object]
) -> TaskDraft | None:
    """The first task as typed (None: none), or `FieldRefused` naming the field that is wrong."""
    title = title.strip()
    due = due.strip()
    if not title and not due:
        return None
    if not title:
        raise FieldRefused("deal-task-title", "First task: a title (or clear its due)")
    try:
        validation.require_text(title, "task title", max_len=200)
    except UserError as error:
        raise FieldRefused("deal-task-title", error) from None
    if not due:
        raise FieldRefused("deal-task-due", f"First task: when is it due? ({DUE_HELP})")
    try:
        parse_due(due)
    except UserError as error:
        raise FieldRefused("deal-task-due", error) from None
    return TaskDraft(kind=str(kind), title=title, due=due)
