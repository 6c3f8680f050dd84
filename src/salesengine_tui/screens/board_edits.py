"""Deals opened and edited from the board: `n` opens a deal in the lane under the cursor (the
pipeline's first open stage when that lane is Won or Lost: those are moves), `e` edits the card
(read fresh, saved under the version read), `d` opens the deal screen. After a save the board
loads again with the cursor on the deal, wherever it now sits."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.message import Message

from ..access import permissions
from ..deals import board
from ..deals.deal_view import DealView
from ..usecases.deals import DealOpened
from .board_base import BoardBase
from .deal import DealScreen
from .deal_form import DealDraft, DealForm, Where, edit_note, opened_note
from .messages import Focus


@dataclass
class DealToEdit(Message):
    """The card's deal, read fresh: the board then opens the form on it."""

    deal: DealView


class BoardEdits(BoardBase):
    def _may_edit_deals(self) -> bool:
        if refused := permissions.refusal(self.ctx.actor, permissions.Action.edit_deals):
            self.notify(refused, severity="warning", markup=False)
            return False
        return True

    def _follow(self, card: board.Card) -> None:
        self.reload(Focus(stage_id=card.stage_id, card=card, index=0))

    # --- n: a new deal ----------------------------------------------------------------------

    def action_new_deal(self) -> None:
        view, pipeline = self.view, self.current_pipeline
        if view is None or pipeline is None or not self._may_edit_deals():
            return
        lane = self.current_lane
        column = lane.column if lane is not None else None
        if column is None or not column.is_open:
            column = next((c for c in self.columns if c.is_open), None)
            stage_id = None  # the domain picks the first open stage
        else:
            stage_id = column.id
        where = Where(view.pipeline_id, pipeline.name, stage_id, column.name if column else "")

        def save(draft: DealDraft) -> DealOpened:  # in the form's worker
            return self.desk.deals.create(
                draft.new_deal(),
                customer_id=draft.customer_id,
                new_lead=draft.new_lead,
                origin=self.origin,
            )

        def opened(draft: DealDraft | None) -> None:
            if draft is not None and isinstance(draft.outcome, DealOpened):
                self.notify(opened_note(draft, draft.outcome), timeout=5, markup=False)
                self._follow(draft.outcome.card)

        self.app.push_screen(DealForm(save, actor=self.ctx.actor, where=where), opened)

    # --- e: edit the card -------------------------------------------------------------------

    def action_edit_card(self) -> None:
        card = self.current_card
        if card is not None and self._may_edit_deals():
            self._load_for_edit(card)

    @work(thread=True, exclusive=True, exit_on_error=False, group="board-edit")
    def _load_for_edit(self, card: board.Card) -> None:
        self.deliver(DealToEdit(self.desk.deals.deal(card.id).deal))

    @on(DealToEdit)
    def _edit(self, message: DealToEdit) -> None:
        message.stop()
        deal = message.deal

        def save(draft: DealDraft) -> object:  # in the form's worker
            return self.desk.deals.edit(
                deal.id, expected_version=deal.version, origin=self.origin, **draft.changes
            )

        def saved(draft: DealDraft | None) -> None:
            if draft is None:
                return
            self.notify(edit_note(deal.number, draft.outcome), timeout=5, markup=False)
            card = getattr(draft.outcome, "card", None)
            if isinstance(card, board.Card):
                self._follow(card)

        self.app.push_screen(DealForm(save, actor=self.ctx.actor, deal=deal), saved)

    # --- d: the deal screen -----------------------------------------------------------------

    def action_open_card(self) -> None:
        card = self.current_card
        if card is not None:
            self.app.push_screen(DealScreen(self.ctx, card.id), lambda _: self.reload())
