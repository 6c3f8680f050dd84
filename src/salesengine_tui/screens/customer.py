"""The customer profile: contact details, equipment with its age, tickets, estimates, and the
whole interaction timeline (newest first, any length). `e` edits the contact details, `i`
logs an interaction, esc goes back. Reached from the leads inbox, the board and the palette."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from .. import activity, outbox, profile
from ..context import AppContext
from ..db.engine import session_scope
from ..display import EMPTY, days_ago, local_date, money, plural, safe_text
from ..errors import UserError
from ..widgets.timeline_list import TimelineList
from ..widgets.virtual_list import BlockRequest
from .base import APP_TITLE, describe_error
from .commands import PaletteCommand, ScreenCommands, from_keys
from .contact_form import ContactForm
from .interaction_form import InteractionForm, NewInteraction
from .keys import bindings
from .timeline_entry import TimelineEntryScreen


@dataclass
class ProfileLoaded(Message):
    profile: profile.Profile
    timeline_count: int


@dataclass
class ProfileSaved(Message):
    note: str


_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    ("escape,q", "back", "Back", "customer.back", "Back to where you came from", True),
    ("e", "edit", "Edit", "customer.edit", "Edit name, email, phone, address", True),
    ("i", "log", "Log", "customer.log", "Record a call, email, text or meeting", True),
    ("enter", "read", "Read", "customer.read", "The whole timeline entry", True),
    ("o", "opt_out", "Opt-out", "customer.opt_out", "Opt out of email, or back in", True),
    ("r", "reload", "Refresh", "customer.refresh", "Reload the profile", True),
    ("up,k", "cursor(-1)", "Up", "customer.up", "Newer entry", False),
    ("down,j", "cursor(1)", "Down", "customer.down", "Older entry", False),
    ("g,home", "first", "Newest", "customer.first", "Newest entry", False),
    ("G,end", "last", "Oldest", "customer.last", "Oldest entry", False),
    ("pageup", "page(-1)", "Page up", "customer.page_up", "A screenful newer", False),
    ("pagedown", "page(1)", "Page down", "customer.page_down", "A screenful older", False),
]


class CustomerScreen(Screen[None]):
    COMMANDS = {ScreenCommands}
    CSS_PATH = "customer.tcss"
    AUTO_FOCUS = "TimelineList"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(self, ctx: AppContext, customer_id: uuid.UUID) -> None:
        super().__init__()
        self.ctx = ctx
        self.customer_id = customer_id
        self.profile: profile.Profile | None = None
        self.title = "Customer"
        self.tz = ZoneInfo(ctx.settings.business_timezone)

    def compose(self) -> ComposeResult:
        yield Static(Content(f"{APP_TITLE} · Customer"), id="customer-title")
        with Horizontal(id="customer-body"):
            with VerticalScroll(id="customer-facts"):
                yield Static(id="customer-contact")
                yield Static(id="customer-records")
            yield TimelineList(0, self._fetch, tz=self.tz, id="timeline")
        yield Footer()

    @property
    def timeline(self) -> TimelineList:
        return self.query_one(TimelineList)

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer-load")
    def _load(self) -> None:
        with session_scope(self.ctx.engine) as session:
            found = profile.profile(session, self.customer_id)
            count = activity.timeline_count(session, self.customer_id)
        self.post_message(ProfileLoaded(found, count))

    def _fetch(self, request: BlockRequest[activity.ActivityItem]) -> list[activity.ActivityItem]:
        """Runs in the timeline's worker thread: keyset after a loaded entry, else offset."""
        with session_scope(self.ctx.engine) as session:
            if request.after is not None:
                return activity.recent_activity(
                    session, request.limit, customer_id=self.customer_id, before=request.after.key
                )
            offset = request.offset
            if request.from_end:
                offset = max(0, activity.timeline_count(session, self.customer_id) - request.limit)
            return activity.recent_activity(
                session, request.limit, customer_id=self.customer_id, offset=offset
            )

    @on(ProfileLoaded)
    def _show(self, message: ProfileLoaded) -> None:
        p = self.profile = message.profile
        now = self.ctx.clock.now()
        self.query_one("#customer-title", Static).update(
            Content.assemble(
                (f"{APP_TITLE} · Customer · ", "bold"),
                safe_text(p.name).plain,
                (f" · {p.status.value}", "dim"),
                (
                    f" · {plural(message.timeline_count, 'timeline entry', 'timeline entries')}",
                    "dim",
                ),
            )
        )
        contact = Table.grid(padding=(0, 1))
        contact.add_column(style="dim", no_wrap=True)
        contact.add_column(overflow="fold")
        address = ", ".join(x for x in (p.address, p.city, p.state, p.postal_code) if x)
        for label, value in [
            ("Name", safe_text(p.name, style="bold")),
            ("Status", safe_text(p.status.value)),
            ("Lead source", safe_text(p.lead_source)),
            ("Owner", safe_text(p.owner_name, empty="unassigned")),
            (
                "Email",
                safe_text(p.email) if not p.email_opt_out else safe_text(f"{p.email} (opted out)"),
            ),
            ("Phone", safe_text(p.phone)),
            ("Address", safe_text(address or None)),
            ("Customer since", safe_text(local_date(p.created_at, self.tz))),
            ("Last touch", safe_text(days_ago(p.last_interaction_at, now, self.tz))),
            (
                "Next step",
                safe_text(
                    p.next_step or (local_date(p.next_step_at, self.tz) if p.next_step_at else None)
                ),
            ),
        ]:
            contact.add_row(label, value)
        self.query_one("#customer-contact", Static).update(contact)
        self.query_one("#customer-records", Static).update(_records(p, now, self.tz))
        self.timeline.reload(message.timeline_count, cursor=0)
        self.refresh_bindings()

    # --- timeline navigation -------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self.timeline.move_by(delta)

    def action_page(self, direction: int) -> None:
        self.timeline.move_by(direction * self.timeline.page_items)

    def action_first(self) -> None:
        self.timeline.move_to(0)

    def action_last(self) -> None:
        self.timeline.move_to(self.timeline.count - 1)

    def action_read(self) -> None:
        if (item := self.timeline.current) is not None:
            self.app.push_screen(TimelineEntryScreen(item, self.tz))

    def action_back(self) -> None:
        self.dismiss()

    # --- edits ---------------------------------------------------------------------------

    def action_edit(self) -> None:
        if self.profile is None:
            return
        current = self.profile

        def edited(values: dict[str, str | None] | None) -> None:
            if values is not None:
                self._save_contact(current.version, values)

        self.app.push_screen(ContactForm(current), edited)

    @work(thread=True, exit_on_error=False, group="customer-write")
    def _save_contact(self, version: int, values: dict[str, str | None]) -> None:
        try:
            with session_scope(self.ctx.engine) as session:
                profile.update_contact(
                    session,
                    self.ctx.actor,
                    self.customer_id,
                    expected_version=version,
                    values=values,
                    now=self.ctx.clock.now(),
                )
        except UserError as error:
            self.app.call_from_thread(
                self.notify, str(error), title="Not saved", severity="error", markup=False
            )
            return
        self.post_message(ProfileSaved("Contact details saved"))

    def action_log(self) -> None:
        if self.profile is None:
            return

        def logged(entry: NewInteraction | None) -> None:
            if entry is not None:
                self._save_interaction(entry)

        self.app.push_screen(InteractionForm(self.profile.name), logged)

    @work(thread=True, exit_on_error=False, group="customer-write")
    def _save_interaction(self, entry: NewInteraction) -> None:
        with session_scope(self.ctx.engine) as session:
            profile.log_interaction(
                session,
                self.ctx.actor,
                self.customer_id,
                type=entry.type,
                direction=entry.direction,
                notes=entry.notes,
                now=self.ctx.clock.now(),
            )
        self.post_message(ProfileSaved(f"Logged: {entry.type.value} {entry.direction.value}"))

    def action_opt_out(self) -> None:
        if self.profile is not None:
            self._set_opt_out(not self.profile.email_opt_out)

    @work(thread=True, exit_on_error=False, group="customer-write")
    def _set_opt_out(self, opted_out: bool) -> None:
        with session_scope(self.ctx.engine) as session:
            outbox.set_opt_out(session, self.customer_id, opted_out, now=self.ctx.clock.now())
        note = "Opted out of email: nothing more is sent" if opted_out else "Opted back in to email"
        self.post_message(ProfileSaved(note))

    @on(ProfileSaved)
    def _saved(self, message: ProfileSaved) -> None:
        self.notify(message.note, timeout=3)
        self.action_reload()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(
                describe_error(event.worker.error, self.ctx),
                title="Customer",
                severity="error",
                markup=False,
            )


def _records(p: profile.Profile, now: datetime, tz: ZoneInfo) -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(overflow="ellipsis", no_wrap=True)
    grid.add_row(Text(f"Equipment ({len(p.equipment)})", style="bold underline"))
    for eq in p.equipment:
        age = (now.astimezone(tz).date() - eq.installed_on).days // 365
        make = " ".join(x for x in (eq.brand, eq.model) if x)
        grid.add_row(
            Text.assemble(
                safe_text(eq.kind), " ", safe_text(make, style="dim", empty=""), f"  {age} yr"
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

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from from_keys(self.run_action, _KEYS)
