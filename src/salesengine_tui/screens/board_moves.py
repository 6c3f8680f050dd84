"""Moving cards on the board: to the next or previous stage, to any stage (the stage picker),
to Lost (a reason first), to Won (its value first when it is $0 or an estimate), undo; and
giving a deal another owner (managers).

Each write runs in a worker through the desk and comes back as a message: `CardMoved` for a
move, `ValueAsked` when Won needs the value (the rule is the domain's: the board asks, then
moves again with it), `Notice` for a reassignment, `OwnersLoaded` to open the owner picker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.message import Message

from ..access import permissions
from ..base.errors import PermissionDenied, UserError
from ..deals import board
from ..ui.display import money, safe_text, visible
from .board_base import BoardBase
from .lost_reason import LostReasonScreen
from .messages import CardMoved, Focus, Notice, OwnersLoaded
from .picker import Picker
from .stage_picker import StagePicker
from .value_prompt import ValuePrompt

NOBODY = "nobody"  # the picker's choice for "unassigned"


@dataclass
class ValueAsked(Message):
    """A move to Won was refused until the deal has a value: ask, then move again."""

    card: board.Card
    stage_id: uuid.UUID
    asked: board.ValueRequired


def card_label(card: board.Card) -> str:
    return visible(f"{card.customer_name} · {card.title}")[:120]


def moved_note(moved: board.Move) -> str:
    stages = f"{visible(moved.from_stage_name)} → {visible(moved.to_stage_name)}"
    note = f"{visible(moved.card.customer_name)}: {stages}"
    if moved.value_set:
        note += f" at {money(moved.card.amount)}"
    if moved.credited:
        note += " · credited to you"
    if moved.customer_activated:
        note += " · customer is now active"
    if moved.unowned_win:
        note += " · nobody is credited: A to give it an owner"
    return note + " (u to undo)"


def undone_note(back: board.Move, last: board.Move) -> str:
    note = f"Undone: back in {visible(back.to_stage_name)}"
    if back.value_set:
        note += f" at {money(back.card.amount)}"
    if last.credited:
        note += ", unassigned again"
    return note


def refused_notice(error: UserError, *, undo: bool = False) -> Notice:
    """Why a move (or its undo) was not made, titled as what it is."""
    reason = str(error)
    if isinstance(error, PermissionDenied):
        doing = "undo this move" if undo else "move this deal"
        return Notice(
            f"You can't {doing}: {reason}", title="Move refused", severity="warning", timeout=8
        )
    title = "Not undone" if undo else "Not moved"
    return Notice(reason[:1].upper() + reason[1:], title=title, severity="warning", reload=True)


class BoardMoves(BoardBase):
    # --- choosing where to -----------------------------------------------------------------

    def action_shift(self, delta: int) -> None:
        lane = self.current_lane
        if lane is None or lane.current is None:
            return
        ids = [c.id for c in self.columns]
        index = ids.index(lane.column.id) + delta
        if 0 <= index < len(ids):
            self.move_card(lane.current, self.columns[index])

    def action_pick_stage(self) -> None:
        card = self.current_card
        if card is None:
            return

        def picked(stage_id: uuid.UUID | None) -> None:
            target = next((c for c in self.columns if c.id == stage_id), None)
            if target is not None:
                self.move_card(card, target)

        self.app.push_screen(StagePicker(card_label(card), self.columns, card.stage_id), picked)

    def move_card(self, card: board.Card, target: board.Column) -> None:
        """Move `card` to `target`; a Lost stage asks for the reason first."""
        if not target.is_lost:
            self._save_move(card, target.id, None)
            return

        def reason_given(reason: str | None) -> None:
            if reason is None:
                self.notify("Move cancelled; nothing changed", timeout=3)
            else:
                self._save_move(card, target.id, reason)

        screen = LostReasonScreen(card_label(card), target.name, self.ctx.settings.lost_reasons)
        self.app.push_screen(screen, reason_given)

    # --- saving and undoing ----------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="board-move")
    def _save_move(
        self,
        card: board.Card,
        stage_id: uuid.UUID,
        reason: str | None,
        amount: Decimal | None = None,
    ) -> None:
        try:
            self._run_move(
                lambda: self.desk.deals.move(
                    card, stage_id, lost_reason=reason, amount=amount, origin=self.origin
                ),
                moved_note,
            )
        except board.ValueRequired as asked:
            self.deliver(ValueAsked(card, stage_id, asked))

    @on(ValueAsked)
    def _ask_value(self, message: ValueAsked) -> None:
        message.stop()
        card, asked = message.card, message.asked

        def value_given(amount: Decimal | None) -> None:
            if amount is None:
                self.notify("Move cancelled; nothing changed", timeout=3)
            else:
                self._save_move(card, message.stage_id, None, amount)

        screen = ValuePrompt(
            card_label(card), asked.stage_name, amount=asked.amount, estimated=asked.estimated
        )
        self.app.push_screen(screen, value_given)

    def action_undo(self) -> None:
        if self.last_move is not None:
            self._undo(self.last_move)

    @work(thread=True, exit_on_error=False, group="board-move")
    def _undo(self, last: board.Move) -> None:
        self._run_move(
            lambda: self.desk.deals.undo(last, origin=self.origin),
            lambda back: undone_note(back, last),
            undo=True,
        )

    def _run_move(
        self,
        run: Callable[[], board.Move],
        note: Callable[[board.Move], str],
        *,
        undo: bool = False,
    ) -> None:
        """In a worker: the move (one transaction), then where the card now sits."""
        try:
            moved = run()
        except board.MoveConflict as conflict:
            prefix = "Cannot undo: " if undo else ""
            self.deliver(CardMoved(None, prefix + str(conflict), conflict.card))
            return
        except board.ValueRequired:
            raise  # Won asks for the value: `_save_move`'s
        except UserError as error:
            # A refusal (a rep moving another's deal), not a failure to load: say which.
            self.deliver(refused_notice(error, undo=undo))
            return
        view = self.view
        place = self.desk.deals.position(moved.card, view) if view else None
        self.deliver(CardMoved(moved, note(moved), moved.card, undo=undo, position=place))

    @on(CardMoved)
    def _card_moved(self, message: CardMoved) -> None:
        message.stop()
        moved = message.move
        if moved is None:
            self.notify(
                message.note, title="Not moved", severity="warning", timeout=8, markup=False
            )
            # Show the card where it is now, cursor on it.
            self.reload(Focus(stage_id=message.card.stage_id, card=message.card, index=0))
            return
        self.last_move = None if message.undo else moved
        if moved.unowned_win:
            self.notify(message.note, severity="warning", timeout=8, markup=False)
        else:
            self.notify(message.note, timeout=4, markup=False)
        lanes = {lane.column.id: lane for lane in self.lanes}
        source, target = lanes.get(moved.from_stage_id), lanes.get(moved.card.stage_id)
        if source is None or target is None or message.position is None:
            self.reload(Focus(stage_id=moved.card.stage_id, card=moved.card, index=0))
            return
        # Our own move: adjust the two columns' figures here rather than re-aggregate, and
        # redraw only those two lanes; the cursor follows the card. A value the move set
        # leaves the source at the old one.
        amount = moved.card.amount
        left = moved.previous_amount if moved.previous_amount is not None else amount
        source.reset(board.with_card_moved(source.column, count=-1, amount=left))
        target.reset(
            board.with_card_moved(target.column, count=1, amount=amount),
            cursor=message.position,
        )
        self.columns = [lane.column for lane in self.lanes]
        for lane in (source, target):
            self.board_lanes.paint_header(lane)
        self.go_to(target)
        self.sync_bindings()

    # --- another owner ---------------------------------------------------------------------

    def action_assign(self) -> None:
        card = self.current_card
        if card is None:
            return
        if refused := permissions.refusal(self.ctx.actor, permissions.Action.reassign):
            self.notify(refused, severity="warning", markup=False)
            return
        self._load_owners(card)

    @work(thread=True, exit_on_error=False, group="board-people")
    def _load_owners(self, card: board.Card) -> None:
        self.deliver(OwnersLoaded(card, self.desk.deals.assignable_owners()))

    @on(OwnersLoaded)
    def _pick_owner(self, message: OwnersLoaded) -> None:
        message.stop()
        card = message.card
        choices: list[tuple[Text, object]] = [(safe_text(p.name), p.id) for p in message.people]
        choices.append((Text("Nobody (unassigned)"), NOBODY))
        title = f"Give #{card.number} {visible(card.customer_name)} to…"

        def chosen(owner: object) -> None:
            if owner is not None:
                self._reassign(card, None if owner == NOBODY else owner)

        self.app.push_screen(Picker(title, choices), chosen)

    @work(thread=True, exit_on_error=False, group="board-move")
    def _reassign(self, card: board.Card, owner_id: uuid.UUID | None) -> None:
        try:
            name = self.desk.deals.reassign(card, owner_id, origin=self.origin)
        except UserError as error:
            self.deliver(
                Notice(str(error), title="Not reassigned", severity="warning", reload=True)
            )
            return
        self.deliver(Notice(f"#{card.number} is now {visible(name)}'s", reload=True))
