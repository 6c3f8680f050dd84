"""A customer's deals from their profile: `d` lists them (open ones first; enter opens the deal
screen, straight away when there is only one), `N` opens a new deal for this customer (the deal
form, the pipeline chosen there). Mixed into the profile screen."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.message import Message

from ..access import permissions
from ..deals.deal_view import DealLine
from ..ui.display import money, plural, safe_text
from ..widgets.dashboard_cells import DUE_SOON, LOST, WON
from .deal import DealScreen
from .deal_form import DealDraft, DealForm, opened_note
from .messages import Notice
from .picker import Picker

if TYPE_CHECKING:
    from textual.screen import Screen

    from ..customers.profile import Profile
    from ..usecases import Desk
    from ..usecases.context import AppContext

    _Screen = Screen[None]
else:
    _Screen = object


@dataclass
class CustomerDealsListed(Message):
    deals: list[DealLine]
    total: int


def deal_label(deal: DealLine) -> Text:
    stage = deal.stage_name or "not on a board"
    label = Text.assemble(
        (f"#{deal.number} ", "bold"),
        safe_text(deal.title),
        f"  {money(deal.amount)}",
        ("~" if deal.amount_estimated else "", DUE_SOON),
        "  ",
        safe_text(stage, style=WON if deal.is_won else LOST if deal.is_lost else "dim"),
    )
    if deal.expected_close_on is not None and not (deal.is_won or deal.is_lost):
        label.append(f"  closes {deal.expected_close_on.isoformat()}", style="dim")
    return label


class CustomerDeals(_Screen):
    """What the profile screen provides: its context, customer, profile, desk and reload."""

    ctx: AppContext
    customer_id: uuid.UUID
    profile: Profile | None
    if TYPE_CHECKING:

        @property
        def desk(self) -> Desk: ...

        def action_reload(self) -> None: ...

    def action_deals(self) -> None:
        self._list_deals()

    @work(thread=True, exclusive=True, exit_on_error=False, group="customer-deals")
    def _list_deals(self) -> None:
        deals, total = self.desk.deals.customer_deals(self.customer_id)
        self.post_message(CustomerDealsListed(deals, total))

    # Named, not `@on`: a mixin's decorated handlers are not collected (it is no Widget).
    def on_customer_deals_listed(self, message: CustomerDealsListed) -> None:
        message.stop()
        if not message.deals:
            self.notify("No deals yet: N opens one", timeout=3)
            return
        if len(message.deals) == 1:
            self._open_deal(message.deals[0].id)
            return
        more = message.total - len(message.deals)
        hint = "enter opens the deal · esc cancels" + (
            f" · {more:,} older not listed" if more else ""
        )
        title = f"{plural(message.total, 'deal')}: open which?"
        choices = [(deal_label(d), d.id) for d in message.deals]
        self.app.push_screen(
            Picker(title, choices, hint),
            lambda chosen: chosen is not None and self._open_deal(chosen),
        )

    def _open_deal(self, estimate_id: uuid.UUID) -> None:
        self.app.push_screen(DealScreen(self.ctx, estimate_id), lambda _: self.action_reload())

    def action_new_deal(self) -> None:
        if self.profile is None:
            return
        if refused := permissions.refusal(self.ctx.actor, permissions.Action.edit_deals):
            self.notify(refused, severity="warning", markup=False)
            return
        customer = (self.profile.id, self.profile.name)

        def save(draft: DealDraft) -> object:  # in the form's worker: it closes once saved
            return self.desk.deals.create(draft.new_deal(), customer_id=customer[0])

        def opened(draft: DealDraft | None) -> None:
            if draft is not None:
                note = opened_note(draft, draft.outcome)
                self.post_message(Notice(note, timeout=4, reload=True))

        form = DealForm(save, actor=self.ctx.actor, customer=customer)
        self.app.push_screen(form, opened)
