"""Alerts: the notifications for the person at the desk (managers can show everyone's).
New ones arrive live (the app listens and tells this screen); enter opens the customer; `M`
marks all of yours read, once you said yes to how many."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from ..access import permissions
from ..activity import notifications
from ..ui.display import local_datetime, number, plural, safe_text, visible
from ..usecases import AppContext
from ..widgets.safe_table import Column, SafeTable
from .base import SectionScreen
from .commands import PaletteCommand, from_keys
from .confirm import ConfirmDialog
from .customer import CustomerScreen
from .keys import bindings
from .sections import NOTIFICATIONS

CUSTOMER_WIDTH = 18
COLUMNS = [
    Column("unread", " ", width=1),
    Column("when", "When", width=16),
    Column("title", "Notification"),
    Column("customer", "Customer", width=CUSTOMER_WIDTH),
]
FIXED = 1 + 16 + CUSTOMER_WIDTH + 2 * len(COLUMNS)  # all but the title, cell padding included

_KEYS = [
    ("enter", "open", "Open", "alerts.open", "Open the customer (marks it read)", True),
    ("space", "mark_read", "Read", "alerts.read", "Mark this notification read", True),
    ("M", "mark_all_read", "All read", "alerts.all_read", "Mark all your notifications read", True),
    ("a", "everyone", "Everyone", "alerts.everyone", "Show everyone's (managers)", True),
]


@dataclass
class AlertsLoaded(Message):
    items: list[notifications.Item]
    unread: int
    everyone: bool


@dataclass
class AlertsMarked(Message):
    """Notifications were marked read: the list and the count load again."""


def _title(item: notifications.Item, room: int, *, whose: bool) -> Text:
    """`upsell · Tech John flagged ...`; with everyone's shown, whose it is first."""
    kind = item.kind.replace("_", " ")
    text = Text.assemble(
        (f"{visible(item.user_name)}: ", "italic") if whose else "",
        (f"{kind} · ", "dim"),
        safe_text(item.title, style="bold" if item.unread else ""),
    )
    text.truncate(room, overflow="ellipsis")
    return text


def _customer(item: notifications.Item) -> Text:
    """The customer's name, cut with "…" to its column (the table would cut it silently)."""
    text = safe_text(item.customer_name, empty="—")
    text.truncate(CUSTOMER_WIDTH, overflow="ellipsis")
    return text


class NotificationsScreen(SectionScreen):
    SECTION = NOTIFICATIONS
    CSS_PATH = "notifications.tcss"
    AUTO_FOCUS = "#alerts"
    BINDINGS: ClassVar[list[BindingType]] = [*SectionScreen.BINDINGS, *bindings(_KEYS)]

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.everyone = False
        self.items: list[notifications.Item] = []
        self.unread = 0  # of yours, as last loaded

    def compose_body(self) -> ComposeResult:
        yield SafeTable(COLUMNS, id="alerts")
        yield Static(id="alerts-empty")

    def reload(self) -> None:
        self.set_loading(True)
        self._load(self.everyone)

    @work(thread=True, exclusive=True, exit_on_error=False, group="alerts-load")
    def _load(self, everyone: bool) -> None:
        items, unread = self.desk.notifications.alerts(everyone=everyone)
        self.deliver(AlertsLoaded(items, unread, everyone))

    @on(AlertsLoaded)
    def _show(self, message: AlertsLoaded) -> None:
        message.stop()
        self.items, self.unread = message.items, message.unread
        table = self.query_one("#alerts", SafeTable)
        # The title takes the width the other columns leave (the table scrolls no sideways).
        room = max(20, self.size.width - FIXED - 2)
        table.replace_rows(
            (
                str(item.id),
                [
                    safe_text("●" if item.unread else "", style="bold $accent"),
                    safe_text(local_datetime(item.created_at, self.tz)),
                    _title(item, room, whose=message.everyone),
                    _customer(item),
                ],
            )
            for item in message.items
        )
        table.refresh(layout=True)
        self.set_loading(False)
        whose = "everyone's" if message.everyone else "yours"
        self.set_title_detail(f"{number(message.unread)} unread of yours", f"showing {whose}")
        empty = self.query_one("#alerts-empty", Static)
        empty.display = not message.items
        empty.update(
            Content("Nothing here yet: upsell flags and failed emails will show up as they happen.")
        )
        self.app.set_unread(message.unread)  # type: ignore[attr-defined]

    @property
    def current(self) -> notifications.Item | None:
        table = self.query_one("#alerts", SafeTable)
        if not self.items or table.cursor_row is None:
            return None
        return self.items[min(table.cursor_row, len(self.items) - 1)]

    def action_open(self) -> None:
        item = self.current
        if item is None:
            return
        if item.unread and item.user_id == self.ctx.actor.id:
            self._mark([item.id])
        if item.customer_id is not None:
            self.app.push_screen(CustomerScreen(self.ctx, item.customer_id))
        else:
            self.notify("This notification is not about one customer", markup=False)

    @on(SafeTable.RowSelected, "#alerts")
    def _chosen(self) -> None:
        self.action_open()

    def action_mark_read(self) -> None:
        item = self.current
        if item is not None and item.unread:
            if item.user_id != self.ctx.actor.id:
                self.notify(f"That one is {visible(item.user_name)}'s to read", markup=False)
                return
            self._mark([item.id])

    def action_mark_all_read(self) -> None:
        unread = self.unread
        if not unread:
            self.notify("Nothing unread: all yours are read", markup=False)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._mark(None)

        self.app.push_screen(
            ConfirmDialog(
                f"Mark {plural(unread, 'alert')} read?",
                "Every unread notification of yours is marked read; there is no undo.",
                yes="Mark read",
                no="Keep them",
            ),
            answered,
        )

    @work(thread=True, exit_on_error=False, group="alerts-write")
    def _mark(self, ids: list[uuid.UUID] | None) -> None:
        self.desk.notifications.mark_read(ids)
        self.deliver(AlertsMarked())

    @on(AlertsMarked)
    def _marked(self, message: AlertsMarked) -> None:
        message.stop()
        self.reload()

    def action_everyone(self) -> None:
        if not permissions.allowed(self.ctx.actor, permissions.Action.see_all_notifications):
            self.notify(
                "Only managers may see everyone's notifications; these are yours.",
                severity="warning",
                markup=False,
            )
            return
        self.everyone = not self.everyone
        self.reload()

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from super().palette_commands()
        yield from from_keys(self.run_action, _KEYS)
