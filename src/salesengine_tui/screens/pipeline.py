"""Sales > Pipeline: the Kanban board. One column per stage, cards moved with the keyboard.

The screen owns the keys; each `BoardColumn` draws only the cards on screen and asks for more a
block at a time; `BoardLanes` shows as many whole lanes as fit and owns the mouse. The work
lives beside it, one concern a file: `board_base` (what is shown, loading), `board_moves`
(move, undo, Lost reason, stage picker, owner), `board_edits` (a new deal, an edit, the deal
screen), `board_filter` (filter, only mine, sort, pipeline), `board_drag` (click, double-click,
drag and drop), `board_live` (other terminals' changes, by NOTIFY).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Input

from ..access import permissions
from ..widgets.board_lanes import BoardLanes
from .board_drag import BoardDrag
from .board_live import BoardLive
from .commands import PaletteCommand
from .customer import CustomerScreen
from .keys import bindings
from .sections import PIPELINE

# Bindings as data: (keys, action, description, id, tooltip, shown in the footer)
_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    ("left,h", "column(-1)", "Left", "board.left", "Previous column", False),
    ("right,l", "column(1)", "Right", "board.right", "Next column", False),
    ("up,k", "card(-1)", "Up", "board.up", "Previous card", False),
    ("down,j", "card(1)", "Down", "board.down", "Next card", False),
    ("g,home", "first", "First", "board.first", "First card of the column", False),
    ("G,end", "last", "Last", "board.last", "Last card of the column", False),
    ("pageup", "page(-1)", "Page up", "board.page_up", "A screenful of cards up", False),
    ("pagedown", "page(1)", "Page down", "board.page_down", "A screenful of cards down", False),
    # One row a key: `L` and `H` are keys of their own (shown as themselves, rebound on
    # their own), listed beside the arrows they stand for.
    (
        "shift+right",
        "shift(1)",
        "Move →",
        "board.move_next",
        "Move the card to the next stage",
        True,
    ),
    ("L", "shift(1)", "Move →", "board.move_next_alt", "Move the card to the next stage", False),
    (
        "shift+left",
        "shift(-1)",
        "Move ←",
        "board.move_prev",
        "Move the card to the previous stage",
        False,
    ),
    (
        "H",
        "shift(-1)",
        "Move ←",
        "board.move_prev_alt",
        "Move the card to the previous stage",
        False,
    ),
    (
        "m",
        "pick_stage",
        "Move to…",
        "board.move_to",
        "Move the card to any stage, Won and Lost included",
        True,
    ),
    ("enter", "open_customer", "Open", "board.open", "The customer's profile and timeline", True),
    ("d", "open_card", "Deal", "board.details", "The deal: history, tasks, where from", False),
    ("n", "new_deal", "New", "board.new", "A new deal in this lane: customer, value, …", True),
    ("e", "edit_card", "Edit", "board.edit", "Edit the deal: title, value, close, owner", True),
    ("u", "undo", "Undo", "board.undo", "Undo your last move", True),
    ("slash", "filter", "Filter", "board.filter", "Filter cards by customer name or title", True),
    (
        "o",
        "only_mine",
        "Owner",
        "board.mine",
        "Whose deals: everyone's, mine, unassigned (cycles)",
        True,
    ),
    (
        "c",
        "closing",
        "Closing",
        "board.closing",
        "Only deals expected to close this month (toggle)",
        False,
    ),
    ("s", "sort", "Sort", "board.sort", "Sort cards: days in stage, value, name", True),
    (
        "escape",
        "clear",
        "Clear",
        "board.clear",
        "Clear the filter and show everyone's deals",
        False,
    ),
    ("p", "next_pipeline", "Pipeline", "pipeline.next", "Show the next pipeline", True),
    ("A", "assign", "Assign", "board.assign", "Give the deal another owner (managers)", False),
    (
        "E",
        "pipeline_settings",
        "Stages",
        "pipeline.settings",
        "Edit pipelines and stages (managers)",
        False,
    ),
]


class PipelineScreen(BoardDrag, BoardLive):
    SECTION = PIPELINE
    CSS_PATH = "pipeline.tcss"
    AUTO_FOCUS = "BoardColumn"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="Filter: customer name or estimate title", id="board-filter")
        yield BoardLanes(id="board")

    # --- navigation ---------------------------------------------------------------------

    def action_column(self, delta: int) -> None:
        lanes, lane = self.lanes, self.current_lane
        if lane is None:
            return
        index = max(0, min(lanes.index(lane) + delta, len(lanes) - 1))
        self.go_to(lanes[index])

    def action_card(self, delta: int) -> None:
        if (lane := self.current_lane) is not None:
            lane.move_by(delta)

    def action_page(self, direction: int) -> None:
        if (lane := self.current_lane) is not None:
            lane.move_by(direction * lane.page_items)

    def action_first(self) -> None:
        if (lane := self.current_lane) is not None:
            lane.move_to(0)

    def action_last(self) -> None:
        if (lane := self.current_lane) is not None:
            lane.move_to(lane.count - 1)

    # --- elsewhere: the customer, the pipeline's settings (the deal: `board_edits`) ----------

    def action_open_customer(self) -> None:
        card = self.current_card
        if card is not None:
            screen = CustomerScreen(self.ctx, card.customer_id)
            self.app.push_screen(screen, lambda _: self.reload())

    def action_pipeline_settings(self) -> None:
        if refused := permissions.refusal(self.ctx.actor, permissions.Action.edit_pipelines):
            self.notify(refused, severity="warning", markup=False)
            return
        from .pipeline_settings import PipelineSettingsScreen

        pipeline_id = self.view.pipeline_id if self.view else None
        self.app.push_screen(PipelineSettingsScreen(self.ctx, pipeline_id), lambda _: self.reload())

    # --- which keys apply now -----------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"shift", "pick_stage", "open_card", "open_customer", "edit_card"}:
            return self.current_card is not None or None  # None: shown, dimmed
        if action == "new_deal":
            return self.view is not None or None
        if action == "undo":
            return self.last_move is not None or None
        if action == "next_pipeline":
            return len(self.pipelines) > 1 or None
        return super().check_action(action, parameters)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield from super().palette_commands()
        card = self.current_card
        if self.view is not None:
            yield PaletteCommand(
                "New deal", "In the lane under the cursor (n)", self.action_new_deal
            )
        if card is not None:
            yield PaletteCommand(
                f"Edit deal #{card.number}",
                "Title, value, close date, owner (e)",
                self.action_edit_card,
            )
            yield PaletteCommand(
                f"Open deal #{card.number}",
                "History, tasks, where it came from (d)",
                self.action_open_card,
            )
            for column in self.columns:
                if column.id != card.stage_id:
                    yield PaletteCommand(
                        f"Move card to: {column.name}",
                        "Move the selected card to this stage",
                        lambda c=card, t=column: self.move_card(c, t),
                    )
        yield PaletteCommand("Sort cards", "Days in stage, value or name (s)", self.action_sort)
        yield PaletteCommand(
            "Whose deals", "Everyone's, mine, unassigned (o)", self.action_only_mine
        )
        yield PaletteCommand(
            "Filter the board", "By customer name or title (/)", self.action_filter
        )
        if self.last_move is not None:
            yield PaletteCommand("Undo last move", "Put the card back (u)", self.action_undo)
        for info in self.pipelines:
            yield PaletteCommand(
                f"Show pipeline: {info.name}",
                "Switch the board to this pipeline",
                lambda pipeline_id=info.id: self.show_pipeline(pipeline_id),
            )
