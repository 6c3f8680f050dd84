"""A deal on one screen (`d` on a board card, or a deal chosen on a customer's profile): who it
is for, its value (marked when it is the system's estimate), stage, owner, expected close and
days in stage; its history, stage entries (with Lost reasons) and field changes interleaved,
newest first; the ticket and equipment an upsell came from; the customer's open tasks (the
deal's own marked) and latest interactions. `e` edits it, `enter` opens the customer, esc goes
back. Lists are capped, their full count beside them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from ..access import permissions
from ..activity.feed import REPLY_OUTCOME, reply_parts
from ..customers.equipment import age_years
from ..customers.phones import phone_display
from ..deals.deal_view import DealEvent, DealView
from ..deals.editing import FieldChange
from ..deals.rotting import days_in_stage
from ..tasks.due import due_label
from ..tasks.model import kind_label
from ..ui.display import EMPTY, days_ago, local_date, local_datetime, money, plural, safe_text
from ..usecases import Desk
from ..usecases.context import AppContext
from ..usecases.deals import DealRead
from ..widgets.app_footer import AppFooter
from ..widgets.dashboard_cells import DUE_SOON, LATE, WON
from ..widgets.fitted import Events, Facts
from .base import APP_TITLE, DetailScreen
from .commands import PaletteCommand, ScreenCommands, from_keys
from .deal_form import DealDraft, DealForm, edit_note
from .keys import bindings
from .messages import Notice

NOTES_SHOWN = 80  # characters of an interaction's notes on its line
SUBJECT_SHOWN = 30  # of a reply's subject, so that the start of its text shows too
_INTERACTIONS = {"call": "Call", "email": "Email", "sms": "Text", "meeting": "Meeting"}


@dataclass
class DealLoaded(Message):
    read: DealRead


_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    ("escape,q", "back", "Back", "deal.back", "Back to where you came from", True),
    ("e", "edit", "Edit", "deal.edit", "Edit title, value, expected close, owner", True),
    ("enter", "open_customer", "Customer", "deal.customer", "The customer's profile", True),
    ("r", "reload", "Refresh", "deal.refresh", "Reload the deal", True),
]


def _heading(text: str, shown: int, total: int) -> Text:
    count = f" ({total:,})" if shown >= total else f" ({shown:,} of {total:,})"
    return Text.assemble((text, "bold underline"), (count, "dim"))


class DealScreen(DetailScreen):
    ERROR_TITLE = "Deal"
    COMMANDS = {ScreenCommands}
    CSS_PATH = "deal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(self, ctx: AppContext, estimate_id: uuid.UUID) -> None:
        super().__init__()
        self.ctx = ctx
        self.estimate_id = estimate_id
        self.read: DealRead | None = None
        self.title = "Deal"
        self.tz = ZoneInfo(ctx.settings.business_timezone)

    @property
    def desk(self) -> Desk:
        return self.app.desk  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Static(Content(f"{APP_TITLE} · Deal"), id="deal-title")
        with Horizontal(id="deal-body"):
            with VerticalScroll(id="deal-left"):
                yield Static(id="deal-facts")
                yield Static(id="deal-source")
                yield Static(id="deal-tasks")
            with VerticalScroll(id="deal-right"):
                yield Static(id="deal-history")
                yield Static(id="deal-interactions")
        yield AppFooter()  # keeps `? Keys` at any width

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="deal-load")
    def _load(self) -> None:
        self.post_message(DealLoaded(self.desk.deals.deal(self.estimate_id)))

    # --- drawing ---------------------------------------------------------------------------

    @on(DealLoaded)
    def _show(self, message: DealLoaded) -> None:
        message.stop()
        self.read = message.read
        d, now = message.read.deal, self.ctx.clock.now()
        self.query_one("#deal-title", Static).update(
            Content.assemble(
                (f"{APP_TITLE} · Deal #{d.number} · ", "bold"),
                safe_text(d.title).plain,
                (" · ", "dim"),
                safe_text(d.customer_name).plain,
            )
        )
        self.query_one("#deal-facts", Static).update(self._facts(d, now))
        source = self._source(d, now)
        self.query_one("#deal-source", Static).update(source or "")
        self.query_one("#deal-source").display = source is not None
        self.query_one("#deal-tasks", Static).update(self._tasks(message.read, now))
        self.query_one("#deal-history", Static).update(self._history(d))
        self.query_one("#deal-interactions", Static).update(self._interactions(d))
        self.refresh_bindings()

    def _facts(self, d: DealView, now: datetime) -> Facts:
        value = safe_text(money(d.amount), style="bold")
        if d.amount_estimated:
            value.append(" estimate (not yet set by a person)", style=DUE_SOON)
        stage = safe_text(d.stage_name, empty="not on a board")
        if d.pipeline_name:
            stage.append_text(safe_text(f" · {d.pipeline_name}", style="dim"))
        if d.stage_entered_at is None:
            in_stage = Text(EMPTY, style="dim")
        elif d.closed:  # Won and Lost say when, not how long
            in_stage = safe_text(
                f"{'Won' if d.stage_is_won else 'Lost'} on "
                f"{local_date(d.stage_entered_at, self.tz)}"
            )
        else:
            days = days_in_stage(d.stage_entered_at, now, self.tz)
            in_stage = safe_text(
                f"{plural(days, 'day')} (since {local_date(d.stage_entered_at, self.tz)})"
            )
        rows: list[tuple[str, Text]] = [
            (
                "Customer",
                Text.assemble(
                    safe_text(d.customer_name, style="bold"),
                    (f"  {d.customer_status.value} · enter opens", "dim"),
                ),
            ),
            ("Phone", safe_text(phone_display(d.customer_phone, d.customer_phone_ext))),
            ("Email", safe_text(d.customer_email)),
            ("Deal", safe_text(f"#{d.number} {d.title}")),
            ("Value", value),
            ("Stage", stage),
            ("In stage", in_stage),
            ("Owner", safe_text(d.owner_name, empty="unassigned")),
            ("Expected close", self._close(d, now)),
        ]
        if d.stage_is_lost:
            rows.append(("Lost reason", safe_text(d.lost_reason)))
        opened = f"{local_date(d.created_at, self.tz)}" + (
            f" by {d.created_by}" if d.created_by else ""
        )
        rows.append(("Opened", safe_text(opened)))
        return Facts(rows, gap=2)

    def _close(self, d: DealView, now: datetime) -> Text:
        if d.expected_close_on is None:
            return Text("not set (e to set it)", style="dim")
        days = (d.expected_close_on - now.astimezone(self.tz).date()).days
        text = safe_text(d.expected_close_on.isoformat())
        if d.closed:
            return text
        if days < 0:
            text.append(f"  {-days:,}d past", style=LATE)
        elif days == 0:
            text.append("  today", style="bold")
        else:
            text.append(f"  in {days:,}d", style="dim")
        return text

    def _source(self, d: DealView, now: datetime) -> Group | None:
        if d.ticket is None and d.equipment is None:
            return None
        rows: list[tuple[str, Text]] = []
        if d.ticket is not None:
            t = d.ticket
            closed = f"closed {local_date(t.closed_at, self.tz)}" if t.closed_at else t.status
            ticket = Text.assemble(f"#{t.number} ", safe_text(t.summary), (f"  {closed}", "dim"))
            rows.append(("Ticket", ticket))
            if t.resolution:
                rows.append(("Resolution", safe_text(t.resolution)))
        if d.equipment is not None:
            eq = d.equipment
            make = " ".join(x for x in (eq.brand, eq.model) if x)
            age = age_years(eq.installed_on, now.astimezone(self.tz).date())
            unit = Text.assemble(
                safe_text(eq.kind),
                " ",
                safe_text(make, style="dim", empty=""),
                f"  {plural(age, 'year')} old (installed {eq.installed_on.isoformat()})",
            )
            rows.append(("Equipment", unit))
        # "Upsell from" only when a ticket made the deal; otherwise it is just the unit quoted.
        heading = "Upsell from" if d.ticket is not None else "For the equipment"
        return Group(Text(heading, style="bold underline"), Facts(rows, gap=2))

    def _tasks(self, read: DealRead, now: datetime) -> Group:
        more = " and more: see My tasks" if read.more_tasks else ""
        heading = Text.assemble(
            ("Open tasks", "bold underline"), (f" ({len(read.tasks)}{more})", "dim")
        )
        if not read.tasks:
            return Group(heading, Text("none: nothing planned for this customer", style="dim"))
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        grid.add_column(no_wrap=True, style="dim")
        for task in read.tasks:
            due = due_label(task.due_at, task.all_day, now, self.tz)
            overdue = task.due_at < now and (not task.all_day or "overdue" in due)
            what = Text.assemble(f"{kind_label(task.kind)}: ", safe_text(task.title))
            if task.estimate_id == read.deal.id:
                what.append("  (this deal)", style="dim")
            elif task.estimate_number is not None:
                what.append(f"  (#{task.estimate_number})", style="dim")
            due_style = LATE if overdue else "bold"
            grid.add_row(Text(due, style=due_style), what, task.assignee_initials or "—")
        return Group(heading, grid)

    def _history(self, d: DealView) -> Group:
        heading = _heading("History, newest first", len(d.history), d.history_total)
        rows = [
            (local_datetime(event.at, self.tz), _event_text(event), event.by_initials or "")
            for event in d.history
        ]
        parts: list[RenderableType] = [heading, Events(rows)]
        if d.history_total > len(d.history):
            parts.append(Text(f"… {d.history_total - len(d.history):,} older", style="dim"))
        return Group(*parts)

    def _interactions(self, d: DealView) -> Group:
        heading = _heading("Latest interactions", len(d.interactions), d.interactions_total)
        if not d.interactions:
            return Group(heading, Text("none yet", style="dim"))
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        grid.add_column(no_wrap=True, style="dim")
        now = self.ctx.clock.now()
        for i in d.interactions:
            if i.outcome == REPLY_OUTCOME:  # the customer's words: no one of ours to name
                grid.add_row(days_ago(i.at, now, self.tz), _reply_line(i.notes), "")
                continue
            kind = _INTERACTIONS.get(i.type, i.type)
            what = Text(f"{kind} {'in' if i.direction == 'inbound' else 'out'}", style="bold")
            what = Text.assemble(what)  # what follows is not bold
            if i.outcome:
                what.append(f" · {i.outcome.replace('_', ' ')}")
            first = (i.notes or "").strip().splitlines()[:1]
            if first:  # the column cuts it to fit with "…"; so does this, past NOTES_SHOWN
                cut = "…" if len(first[0]) > NOTES_SHOWN else ""
                what.append_text(safe_text(f" — {first[0][:NOTES_SHOWN]}{cut}"))
            grid.add_row(days_ago(i.at, now, self.tz), what, i.by_initials or "")
        return Group(heading, grid)

    # --- keys ----------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def action_open_customer(self) -> None:
        if self.read is None:
            return
        from .customer import CustomerScreen  # the profile opens deals too: imported on use

        self.app.push_screen(CustomerScreen(self.ctx, self.read.deal.customer_id))

    def action_edit(self) -> None:
        if self.read is None:
            return
        if refused := permissions.refusal(self.ctx.actor, permissions.Action.edit_deals):
            self.notify(refused, severity="warning", markup=False)
            return
        deal = self.read.deal

        def save(draft: DealDraft) -> object:  # in the form's worker: it closes once saved
            return self.desk.deals.edit(deal.id, expected_version=deal.version, **draft.changes)

        def saved(draft: DealDraft | None) -> None:
            if draft is not None:
                self.post_message(Notice(edit_note(deal.number, draft.outcome), reload=True))
            else:  # closed unsaved, perhaps after someone else's change: show the deal as it is
                self.action_reload()

        self.app.push_screen(DealForm(save, actor=self.ctx.actor, deal=deal), saved)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"edit", "open_customer"}:
            return self.read is not None or None
        return True

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from from_keys(self.run_action, _KEYS)


def _reply_line(notes: str | None) -> Text:
    """`✉ Reply: Re: Checking in on your… — Yes, let's go ahead…`: the subject cut short
    enough that the start of the reply shows too."""
    subject, said = reply_parts(notes)
    first = next((line.strip() for line in said.splitlines() if line.strip()), "")
    if len(subject) > SUBJECT_SHOWN:  # "Re: Checking in on your quote…", no stray colon
        subject = subject[:SUBJECT_SHOWN].rstrip(" :;,.-") + "…"
    first = first if len(first) <= NOTES_SHOWN else first[:NOTES_SHOWN] + "…"
    line = Text.assemble(("✉ Reply", "bold"))
    line.append_text(safe_text(f": {subject}" + (f" — {first}" if first else "")))
    return line


def _event_text(event: DealEvent) -> Text:
    if event.kind == "change":
        change = FieldChange(event.field or "?", event.old, event.new)
        return Text.assemble(("✎ ", DUE_SOON), safe_text(change.describe()))
    moved = Text.assemble(
        ("➜ ", WON),
        safe_text(event.from_stage, empty="(opened)"),
        " → ",
        safe_text(event.to_stage, style="bold"),
    )
    if event.lost_reason:
        moved.append_text(safe_text(f" · {event.lost_reason}", style="italic"))
    return moved
