"""`d` on a card: the estimate and its customer, and the card's stage history."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ..deals.card_detail import CardDetail
from ..deals.cards import initials
from ..ui.display import EMPTY, days_ago, local_datetime, money, safe_text


class CardDetailScreen(ModalScreen[None]):
    CSS_PATH = "modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close", id="detail.close"),
    ]

    def __init__(self, detail: CardDetail, now: datetime, tz: ZoneInfo) -> None:
        super().__init__()
        self.detail = detail
        self.now = now
        self.tz = tz

    def compose(self) -> ComposeResult:
        d, card = self.detail, self.detail.card
        facts = Table.grid(padding=(0, 2))
        facts.add_column(style="dim", no_wrap=True)
        facts.add_column(overflow="fold")
        rows: list[tuple[str, Text]] = [
            ("Estimate", safe_text(f"#{card.number} {card.title}")),
            ("Value", safe_text(money(card.amount), style="bold")),
            ("Stage", safe_text(d.stage_name)),
            ("In stage since", safe_text(local_datetime(card.stage_entered_at, self.tz))),
            ("Owner", safe_text(card.owner_name, empty="unassigned")),
            ("Lost reason", safe_text(card.lost_reason)),
            ("Customer", safe_text(card.customer_name, style="bold")),
            ("Status", safe_text(card.customer_status.value)),
            ("Lead source", safe_text(d.lead_source)),
            ("Email", safe_text(d.email)),
            ("Phone", safe_text(d.phone)),
            ("Address", safe_text(d.address)),
            ("Last touch", safe_text(days_ago(card.last_interaction_at, self.now, self.tz))),
            ("Next step", safe_text(card.next_step or local_datetime(card.next_step_at, self.tz))),
        ]
        for label, value in rows:
            facts.add_row(label, value)
        history = Table(box=None, show_header=True, header_style="bold", expand=True)
        history.add_column("When", no_wrap=True)
        history.add_column("Move", overflow="fold")
        history.add_column("By", no_wrap=True)
        for entry in d.history:
            move = Text.assemble(
                safe_text(entry.from_stage, empty="(created)"), " → ", safe_text(entry.to_stage)
            )
            if entry.lost_reason:
                move.append_text(safe_text(f" ({entry.lost_reason})", style="dim"))
            history.add_row(
                local_datetime(entry.moved_at, self.tz), move, initials(entry.by) or EMPTY
            )
        with Vertical(classes="modal-box"):
            yield Static(
                Content.assemble(("Estimate ", "bold"), f"#{card.number}"), classes="modal-title"
            )
            with VerticalScroll(id="detail-body"):
                yield Static(facts)
                yield Static(Content("Stage history (newest first)"), classes="modal-title")
                yield Static(history if d.history else Text("no moves yet", style="dim"))
            yield Static(Content("esc to close"), classes="modal-hint")
