"""The customer profile: contact details, open tasks, equipment with its age, tickets,
estimates, and the whole interaction timeline (newest first, any length). `e` edits the
contact details, `i` logs an interaction, `c` calls (Quick Call), `t` adds a task, `x` marks
one of the open tasks done (picked from a list), `U` opts out of email or back in (asking
first), esc goes back. Reached from the leads inbox, the board, My tasks and the palette."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar
from zoneinfo import ZoneInfo

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from ..activity.feed import ActivityItem
from ..base.errors import UserError
from ..customers.phones import phone_display
from ..customers.profile import Profile
from ..tasks.model import TaskRow
from ..tasks.rules import describe
from ..ui.display import plural, safe_text
from ..usecases import Desk
from ..usecases.context import AppContext
from ..usecases.customers import ProfileView
from ..widgets.app_footer import AppFooter
from ..widgets.profile_facts import contact_grid, opt_out_how, records_grid, task_line
from ..widgets.timeline_list import TimelineList
from ..widgets.virtual_list import BlockRequest
from .base import APP_TITLE, DetailScreen
from .commands import PaletteCommand, ScreenCommands, from_keys
from .confirm import ConfirmDialog
from .contact_form import ContactForm
from .customer_deals import CustomerDeals
from .interaction_form import InteractionForm, NewInteraction
from .keys import bindings
from .messages import Notice
from .picker import Picker
from .quick_call import CallResult, CallTarget, quick_call_for
from .task_form import TaskFormResult, desk_task_form
from .timeline_entry import TimelineEntryScreen


@dataclass
class ProfileLoaded(Message):
    view: ProfileView


_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    ("escape,q", "back", "Back", "customer.back", "Back to where you came from", True),
    ("e", "edit", "Edit", "customer.edit", "Edit name, email, phone, address", True),
    ("i", "log", "Log", "customer.log", "Record a call, email, text or meeting", True),
    (
        "c",
        "call",
        "Call",
        "customer.call",
        "Quick Call: log it, complete a task, plan the next",
        True,
    ),
    ("t", "add_task", "Task", "customer.task", "Add a task for this customer", True),
    ("x", "complete_task", "Done", "customer.task_done", "Mark one of the open tasks done", True),
    ("enter", "read", "Read", "customer.read", "The whole timeline entry", True),
    ("d", "deals", "Deals", "customer.deals", "This customer's deals: open one", True),
    ("N", "new_deal", "New deal", "customer.new_deal", "A new deal for this customer", False),
    (
        "U",
        "opt_out",
        "Opt-out…",
        "customer.opt_out",
        "Email opt-out: out, or back in with the customer's consent (asks first)",
        False,
    ),
    ("r", "reload", "Refresh", "customer.refresh", "Reload the profile", False),
    ("up,k", "cursor(-1)", "Up", "customer.up", "Newer entry", False),
    ("down,j", "cursor(1)", "Down", "customer.down", "Older entry", False),
    ("g,home", "first", "Newest", "customer.first", "Newest entry", False),
    ("G,end", "last", "Oldest", "customer.last", "Oldest entry", False),
    ("pageup", "page(-1)", "Page up", "customer.page_up", "A screenful newer", False),
    ("pagedown", "page(1)", "Page down", "customer.page_down", "A screenful older", False),
]


class CustomerScreen(CustomerDeals, DetailScreen):
    ERROR_TITLE = "Customer"
    COMMANDS = {ScreenCommands}
    CSS_PATH = "customer.tcss"
    AUTO_FOCUS = "TimelineList"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(self, ctx: AppContext, customer_id: uuid.UUID) -> None:
        super().__init__()
        self.ctx = ctx
        self.customer_id = customer_id
        self.profile: Profile | None = None
        self.title = "Customer"
        self.tz = ZoneInfo(ctx.settings.business_timezone)

    def compose(self) -> ComposeResult:
        yield Static(Content(f"{APP_TITLE} · Customer"), id="customer-title")
        with Horizontal(id="customer-body"):
            with VerticalScroll(id="customer-facts"):
                yield Static(id="customer-contact")
                yield Static(id="customer-records")
            yield TimelineList(0, self._fetch, tz=self.tz, id="timeline")
        yield AppFooter()  # keeps `? Keys` at any width

    @property
    def timeline(self) -> TimelineList:
        return self.query_one(TimelineList)

    @property
    def desk(self) -> Desk:
        return self.app.desk  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer-load")
    def _load(self) -> None:
        self.post_message(ProfileLoaded(self.desk.customers.profile(self.customer_id)))

    def _fetch(self, request: BlockRequest[ActivityItem]) -> list[ActivityItem]:
        """Runs in the timeline's worker thread: keyset after a loaded entry, else offset."""
        return self.desk.customers.timeline(
            self.customer_id,
            limit=request.limit,
            after=request.after.key if request.after is not None else None,
            offset=request.offset,
            from_end=request.from_end,
        )

    @on(ProfileLoaded)
    def _show(self, message: ProfileLoaded) -> None:
        p = self.profile = message.view.profile
        count = message.view.timeline_count
        now = self.ctx.clock.now()
        self.query_one("#customer-title", Static).update(
            Content.assemble(
                (f"{APP_TITLE} · Customer · ", "bold"),
                safe_text(p.name).plain,
                (f" · {p.status.value}", "dim"),
                (f" · {plural(count, 'timeline entry', 'timeline entries')}", "dim"),
            )
        )
        self.query_one("#customer-contact", Static).update(contact_grid(p, now, self.tz))
        self.query_one("#customer-records", Static).update(records_grid(p, now, self.tz))
        self.timeline.reload(count, cursor=0)
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
        version = self.profile.version

        def save(values: dict[str, str | None]) -> None:  # in the form's worker
            self.desk.customers.update_contact(
                self.customer_id, expected_version=version, values=values
            )

        def edited(values: dict[str, str | None] | None) -> None:
            if values is not None:  # saved: the form closes only then
                self.post_message(Notice("Contact details saved", timeout=3, reload=True))

        self.app.push_screen(ContactForm(self.profile, save), edited)

    def action_log(self) -> None:
        if self.profile is None:
            return

        def save(entry: NewInteraction) -> None:  # in the form's worker
            self.desk.customers.log_interaction(
                self.customer_id, type=entry.type, direction=entry.direction, notes=entry.notes
            )

        def logged(entry: NewInteraction | None) -> None:
            if entry is not None:  # saved: the form closes only then
                note = f"Logged: {entry.type.value} {entry.direction.value}"
                self.post_message(Notice(note, timeout=3, reload=True))

        self.app.push_screen(InteractionForm(self.profile.name, save), logged)

    # --- tasks and calls (`t`, `x`, `c`) ----------------------------------------------------

    def action_add_task(self) -> None:
        if self.profile is None:
            return
        customer = (self.profile.id, self.profile.name)

        def save(result: TaskFormResult) -> object:  # in the form's worker
            return self.desk.tasks.create(result.customer_id, result.draft)

        def added(result: TaskFormResult | None) -> None:
            if result is not None:
                note = f"Added: {describe(result.draft.kind, result.draft.title)}"
                self.post_message(Notice(note, timeout=3, reload=True))

        self.app.push_screen(desk_task_form(self.desk, save, customer=customer), added)

    def action_complete_task(self) -> None:
        """A picker of the open tasks (the soonest first): enter marks the chosen one done."""
        if self.profile is None:
            return
        if not self.profile.open_tasks:
            self.notify("No open tasks: t adds one", timeout=3)
            return
        now = self.ctx.clock.now()
        choices = [(task_line(t, now, self.tz), t) for t in self.profile.open_tasks]
        more = self.profile.open_task_count - len(choices)
        hint = "enter marks it done · esc cancels" + (f" · {more} more in My tasks" if more else "")

        def chosen(task: TaskRow | None) -> None:
            if task is not None:
                self._complete(task)

        self.app.push_screen(Picker("Mark which task done?", choices, hint), chosen)

    @work(thread=True, exit_on_error=False, group="customer-write")
    def _complete(self, task: TaskRow) -> None:
        try:
            self.desk.tasks.complete(task)
        except UserError as error:  # done already, changed since, or someone else's
            self.post_message(Notice(f"Not done: {error}", severity="warning", reload=True))
            return
        self.post_message(
            Notice(f"Done: {describe(task.kind, task.title)}", timeout=3, reload=True)
        )

    def action_call(self) -> None:
        if self.profile is None:
            return
        p = self.profile
        target = CallTarget(p.id, p.name, phone_display(p.phone, p.phone_ext))

        def called(result: CallResult | None) -> None:
            if result is None:
                self.notify("Call not logged", timeout=2)
            else:
                self.post_message(Notice(result.summary(p.name), timeout=5, reload=True))

        self.app.push_screen(quick_call_for(self.desk, target), called)

    def action_opt_out(self) -> None:
        """Ask first, always: opting out stops their email; opting back in needs their consent,
        so the question says when and how they opted out."""
        if self.profile is None:
            return
        p = self.profile
        if p.email_opt_out:
            how = f" {opt_out_how(p.opt_out, self.tz)}" if p.opt_out else ""
            dialog = ConfirmDialog(
                f"Opt {p.name} back in to email?",
                f"{p.name} opted out of email{how}. Opt them back in only with their consent "
                "(they asked, or agreed): marketing and follow-up email will reach them again.",
                yes="Opt back in",
                no="Keep opted out",
            )
        else:
            dialog = ConfirmDialog(
                f"Opt {p.name} out of email?",
                f"No more marketing or follow-up email goes to {p.email or 'them'}. "
                "Opting them back in later needs their consent.",
                yes="Opt out",
                no="Cancel",
            )
        opted_out = not p.email_opt_out

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._set_opt_out(opted_out)

        self.app.push_screen(dialog, answered)

    @work(thread=True, exit_on_error=False, group="customer-write")
    def _set_opt_out(self, opted_out: bool) -> None:
        if not self.desk.customers.set_opt_out(self.customer_id, opted_out):
            note = "Nothing changed: " + ("already opted out" if opted_out else "already opted in")
            self.post_message(Notice(note, timeout=3, reload=True))
            return
        note = "Opted out of email: nothing more is sent" if opted_out else "Opted back in to email"
        self.post_message(Notice(note, timeout=3, reload=True))

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from from_keys(self.run_action, _KEYS)
