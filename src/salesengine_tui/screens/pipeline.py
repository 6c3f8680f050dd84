"""Sales > Pipeline: the Kanban board. One column per stage, cards moved with the keyboard.

The screen owns the keys and the database work (in workers); each `BoardColumn` draws only
the cards on screen and asks for more a block at a time. Moves go through `board.move` in one
transaction; other terminals hear of them by NOTIFY and repaint, keeping their cursor.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import HorizontalScroll, Vertical
from textual.content import Content
from textual.widgets import Input, Static

from .. import board, leads, live, permissions, pipeline
from ..context import AppContext
from ..db.engine import session_scope
from ..display import money, plural, safe_text, visible
from ..errors import UserError
from ..widgets.board_column import BoardColumn
from ..widgets.virtual_list import BlockRequest
from .base import SectionScreen
from .card_detail import CardDetailScreen
from .commands import PaletteCommand
from .customer import CustomerScreen
from .debounce import Debounce
from .keys import bindings
from .lost_reason import LostReasonScreen
from .messages import BoardChanged, BoardLoaded, CardDetailLoaded, CardMoved, Focus
from .picker import Picker
from .sections import PIPELINE
from .stage_picker import StagePicker

LANE_MIN = 30  # cells: a card stays readable at this width


class Lanes(HorizontalScroll, inherit_bindings=False):
    """The lanes side by side. No keys of its own: the arrows belong to the board's cursor."""


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
    (
        "shift+right,L",
        "shift(1)",
        "Move →",
        "board.move_next",
        "Move the card to the next stage",
        True,
    ),
    (
        "shift+left,H",
        "shift(-1)",
        "Move ←",
        "board.move_prev",
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
    ("d", "open_card", "Details", "board.details", "The estimate, with its stage history", False),
    ("u", "undo", "Undo", "board.undo", "Undo your last move", True),
    ("slash", "filter", "Filter", "board.filter", "Filter cards by customer name or title", True),
    ("o", "only_mine", "Mine", "board.mine", "Only my deals (toggle)", True),
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


class PipelineScreen(SectionScreen):
    SECTION = PIPELINE
    CSS_PATH = "pipeline.tcss"
    AUTO_FOCUS = "BoardColumn"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.pipelines: list[pipeline.PipelineInfo] = []
        self.view: board.BoardQuery | None = None  # what the board shows
        self.columns: list[board.Column] = []
        self.last_move: board.Move | None = None
        self.origin = uuid.uuid4().hex  # this board, so it can ignore its own NOTIFY echoes
        self._stop_listening = threading.Event()
        self._live_reload_pending = False
        self._bindings_state: tuple[bool, bool, bool] | None = None
        self._filter_later = Debounce(self, lambda text: self._requery(text=text))

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="Filter: customer name or estimate title", id="board-filter")
        yield Lanes(id="board")

    def on_mount(self) -> None:
        if self.ctx.settings.live_updates:
            self._listen()
        self.reload()

    def on_unmount(self) -> None:
        self._stop_listening.set()

    # --- loading ------------------------------------------------------------------------

    def reload(self, focus: Focus | None = None) -> None:
        self._load(self.view, focus or self._focus_here())

    def _focus_here(self) -> Focus | None:
        lane = self.current_lane
        if lane is None:
            return None
        return Focus(stage_id=lane.column.id, card=lane.current, index=lane.cursor)

    @work(thread=True, exclusive=True, exit_on_error=False, group="board-load")
    def _load(self, query: board.BoardQuery | None, focus: Focus | None) -> None:
        with self.session() as session:
            pipelines = pipeline.list_pipelines(session)
            ids = [p.id for p in pipelines]
            if query is None or query.pipeline_id not in ids:
                if not pipelines:
                    self.deliver(BoardLoaded(pipelines, None, [], None))
                    return
                query = board.BoardQuery(pipeline_id=pipelines[0].id)
            columns = board.columns(session, query)
            if focus is not None and focus.card is not None:
                # Follow the card: where is it now (it may have moved, here or elsewhere)?
                found = board.position(session, focus.card, query)
                if found is not None:
                    now_in = board.get_card(session, focus.card.id).stage_id
                    focus = replace(focus, stage_id=now_in, index=found)
        self.deliver(BoardLoaded(pipelines, query, columns, focus))

    def _fetch(self, stage_id: uuid.UUID, request: BlockRequest) -> list[board.Card]:
        """Runs in a column's worker thread."""
        query = self.view
        if query is None:
            return []
        with self.session() as session:
            return board.page(
                session,
                stage_id,
                query,
                after=request.after,
                before=request.before,
                from_end=request.from_end,
                offset=request.offset,
                limit=request.limit,
            )

    @on(BoardLoaded)
    async def _show(self, message: BoardLoaded) -> None:
        message.stop()
        self.pipelines, self.view = message.pipelines, message.query
        self._sync_bindings()
        holder = self.query_one("#board", Lanes)
        lanes = list(self.query(BoardColumn))
        first_load = not lanes
        same_stages = [lane.column.id for lane in lanes] == [c.id for c in message.columns]
        self.columns = message.columns
        focus = message.focus
        if not same_stages:
            await holder.remove_children()
            new_lanes = []
            for column in message.columns:
                lane = BoardColumn(
                    column,
                    fetch=self._fetch,
                    now=self.ctx.clock.now,
                    tz=self.tz,
                    id=f"lane-{column.id}",
                )
                new_lanes.append(lane)
                await holder.mount(Vertical(Static(classes="lane-header"), lane, classes="lane"))
            lanes = new_lanes
        self._fit_lanes()
        for lane, column in zip(lanes, message.columns, strict=True):
            cursor = focus.index if focus and focus.stage_id == column.id else None
            lane.reset(column, cursor=cursor)
            self._paint_header(lane)
        self._title()
        if first_load:
            # After the first paint: the database layer's long-lived objects exist by now.
            self.call_after_refresh(self.app_freeze)
        target = next((lane for lane in lanes if focus and lane.column.id == focus.stage_id), None)
        if target is None and lanes and not any(lane.has_focus for lane in lanes):
            target = lanes[0]
        if target is not None and not self._typing_filter:
            target.focus()
            self._show_lane(target)

    def _show_lane(self, lane: BoardColumn) -> None:
        """Scroll the board sideways so the whole lane (header included) is in view, once
        the layout has settled."""
        holder = self.query_one("#board", Lanes)
        box = lane.parent
        if isinstance(box, Vertical):
            self.call_after_refresh(holder.scroll_to_widget, box, animate=False)

    def app_freeze(self) -> None:
        freeze = getattr(self.app, "freeze_long_lived", None)
        if freeze is not None:
            freeze()

    def on_resize(self) -> None:
        self._fit_lanes()

    def _fit_lanes(self) -> None:
        """Share the width between the lanes, each at least LANE_MIN wide; when they do not
        fit, the board scrolls sideways (and follows the focused lane)."""
        lanes = list(self.query(".lane"))
        if not lanes:
            return
        room = self.query_one("#board", Lanes).size.width or self.size.width
        width = max(LANE_MIN, room // len(lanes) - 1)
        for lane in lanes:
            lane.styles.width = width

    @property
    def _typing_filter(self) -> bool:
        return self.query_one("#board-filter", Input).has_focus

    def _paint_header(self, lane: BoardColumn) -> None:
        column = lane.column
        kind = " · won" if column.is_won else " · lost" if column.is_lost else ""
        header = Content.assemble(
            (visible(column.name), "bold"),
            (f"  {column.probability}%{kind}", "dim"),
            "\n",
            f"{plural(column.count, 'deal')} · {money(column.total_value)}",
            "\n",
            (f"weighted {money(column.weighted_value)}", "dim"),
        )
        assert lane.parent is not None
        lane.parent.query_one(".lane-header", Static).update(header)

    def _title(self) -> None:
        query, current = self.view, self.current_pipeline
        if query is None or current is None:
            self.set_title_detail("no pipelines yet")
            return
        details = [current.name, f"{self.pipelines.index(current) + 1} of {len(self.pipelines)}"]
        details.append(f"sort: {board.SORT_LABELS[query.sort]}")
        if query.owner_id is not None:
            details.append("only my deals")
        if query.text.strip():
            details.append(f"filter: {query.text.strip()}")
        self.set_title_detail(*details)

    @property
    def current_pipeline(self) -> pipeline.PipelineInfo | None:
        pid = self.view.pipeline_id if self.view else None
        return next((p for p in self.pipelines if p.id == pid), None)

    @property
    def lanes(self) -> list[BoardColumn]:
        return list(self.query(BoardColumn))

    @property
    def current_lane(self) -> BoardColumn | None:
        lanes = self.lanes
        focused = next((lane for lane in lanes if lane.has_focus), None)
        return focused or (lanes[0] if lanes else None)

    @on(BoardColumn.Selected)
    def _selected(self, message: BoardColumn.Selected) -> None:
        message.stop()
        self._sync_bindings()

    # --- live updates -------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="board-live")
    def _listen(self) -> None:
        def heard(payload: str) -> None:
            change = board.BoardChange.from_json(payload)
            if change is not None and change.origin != self.origin:
                self.post_message(BoardChanged(change))

        live.listen(self.ctx.engine.url, board.BOARD_CHANNEL, heard, self._stop_listening)

    @on(BoardChanged)
    def _changed_elsewhere(self, message: BoardChanged) -> None:
        message.stop()
        if self.view is None or message.change.pipeline_id != self.view.pipeline_id:
            return
        if not self._live_reload_pending:  # a burst of moves repaints once
            self._live_reload_pending = True
            self.set_timer(0.05, self._live_reload)

    def _live_reload(self) -> None:
        self._live_reload_pending = False
        self.reload()

    def action_assign(self) -> None:
        lane = self.current_lane
        card = lane.current if lane is not None else None
        if card is None:
            return
        if refused := permissions.refusal(self.ctx.actor, permissions.Action.reassign):
            self.notify(refused, severity="warning", markup=False)
            return
        self._pick_owner(card)

    @work(thread=True, exit_on_error=False, group="board-people")
    def _pick_owner(self, card: board.Card) -> None:
        with self.session() as session:
            people = leads.assignable_users(session)
        choices: list[tuple[Text, object]] = [(safe_text(p.name), p.id) for p in people]
        choices.append((Text("Nobody (unassigned)"), "nobody"))
        title = f"Give #{card.number} {visible(card.customer_name)} to…"
        self.app.call_from_thread(
            self.app.push_screen,
            Picker(title, choices),
            lambda owner: owner is not None and self._reassign(card, owner),
        )

    @work(thread=True, exit_on_error=False, group="board-move")
    def _reassign(self, card: board.Card, owner: object) -> None:
        owner_id = None if owner == "nobody" else owner
        try:
            with session_scope(self.ctx.engine) as session:
                name = board.reassign(
                    session,
                    self.ctx.actor,
                    card.id,
                    owner_id,  # type: ignore[arg-type]
                    expected_version=card.version,
                    now=self.ctx.clock.now(),
                    origin=self.origin,
                )
        except UserError as error:
            self.app.call_from_thread(
                self.notify, str(error), title="Not reassigned", severity="warning", markup=False
            )
            self.app.call_from_thread(self.reload)
            return
        self.app.call_from_thread(self.notify, f"#{card.number} is now {name}'s", markup=False)
        self.app.call_from_thread(self.reload)

    def action_pipeline_settings(self) -> None:
        if refused := permissions.refusal(self.ctx.actor, permissions.Action.edit_pipelines):
            self.notify(refused, severity="warning", markup=False)
            return
        from .pipeline_settings import PipelineSettingsScreen

        pipeline_id = self.view.pipeline_id if self.view else None
        self.app.push_screen(PipelineSettingsScreen(self.ctx, pipeline_id), lambda _: self.reload())

    # --- navigation ---------------------------------------------------------------------

    def action_column(self, delta: int) -> None:
        lanes, lane = self.lanes, self.current_lane
        if lane is None:
            return
        index = max(0, min(lanes.index(lane) + delta, len(lanes) - 1))
        target = lanes[index]
        target.focus()
        self._show_lane(target)

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

    # --- the view: filter, only mine, sort, pipeline ---------------------------------------

    def _requery(self, **changes: object) -> None:
        if self.view is None:
            return
        self.view = replace(self.view, **changes)  # type: ignore[arg-type]
        self.reload()

    def action_filter(self) -> None:
        field = self.query_one("#board-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#board-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self._filter_later(event.value)

    @on(Input.Submitted, "#board-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self._filter_later.flush()
        if not event.value.strip():
            event.input.display = False
        if (lane := self.current_lane) is not None:
            lane.focus()

    def action_clear(self) -> None:
        field = self.query_one("#board-filter", Input)
        field.display = False
        if field.value:
            field.value = ""  # Input.Changed re-queries
        if self.view is not None and (self.view.owner_id or self.view.text):
            self._requery(text="", owner_id=None)
        if (lane := self.current_lane) is not None:
            lane.focus()

    def action_only_mine(self) -> None:
        if self.view is not None:
            mine = None if self.view.owner_id else self.ctx.actor.id
            self._requery(owner_id=mine)

    def action_sort(self) -> None:
        if self.view is not None:
            self._requery(sort=board.next_sort(self.view.sort))
            self.notify(f"Sorted by {board.SORT_LABELS[self.view.sort]}", timeout=2)

    def show_pipeline(self, pipeline_id: uuid.UUID) -> None:
        if self.view is not None:
            self.view = replace(self.view, pipeline_id=pipeline_id)
        self._load(self.view, None)

    def action_next_pipeline(self) -> None:
        current = self.view.pipeline_id if self.view else None
        following = pipeline.next_pipeline(self.pipelines, current)
        if following is not None:
            self.show_pipeline(following.id)

    # --- moving cards -------------------------------------------------------------------

    def _card_label(self, card: board.Card) -> str:
        return visible(f"{card.customer_name} · {card.title}")[:120]

    def action_shift(self, delta: int) -> None:
        lane = self.current_lane
        if lane is None or lane.current is None:
            return
        ids = [c.id for c in self.columns]
        index = ids.index(lane.column.id) + delta
        if 0 <= index < len(ids):
            self._move_card(lane.current, self.columns[index])

    def action_pick_stage(self) -> None:
        lane = self.current_lane
        if lane is None or (card := lane.current) is None:
            return

        def picked(stage_id: uuid.UUID | None) -> None:
            target = next((c for c in self.columns if c.id == stage_id), None)
            if target is not None:
                self._move_card(card, target)

        self.app.push_screen(
            StagePicker(self._card_label(card), self.columns, card.stage_id), picked
        )

    def _move_card(self, card: board.Card, target: board.Column) -> None:
        if not target.is_lost:
            self._save_move(card, target.id, None)
            return

        def reason_given(reason: str | None) -> None:
            if reason is None:
                self.notify("Move cancelled; nothing changed", timeout=3)
            else:
                self._save_move(card, target.id, reason)

        screen = LostReasonScreen(
            self._card_label(card), target.name, self.ctx.settings.lost_reasons
        )
        self.app.push_screen(screen, reason_given)

    @work(thread=True, exit_on_error=False, group="board-move")
    def _save_move(self, card: board.Card, stage_id: uuid.UUID, reason: str | None) -> None:
        def run(session: Session) -> board.Move:
            return board.move(
                session,
                self.ctx.actor,
                card.id,
                expected_version=card.version,
                to_stage_id=stage_id,
                now=self.ctx.clock.now(),
                lost_reason=reason,
                origin=self.origin,
            )

        self._run_move(run, _moved_note)

    def action_undo(self) -> None:
        if self.last_move is not None:
            self._undo(self.last_move)

    @work(thread=True, exit_on_error=False, group="board-move")
    def _undo(self, last: board.Move) -> None:
        def run(session: Session) -> board.Move:
            return board.undo(
                session, self.ctx.actor, last, now=self.ctx.clock.now(), origin=self.origin
            )

        self._run_move(run, lambda back: f"Undone: back in {back.to_stage_name}", undo=True)

    def _run_move(
        self,
        run: Callable[[Session], board.Move],
        note: Callable[[board.Move], str],
        *,
        undo: bool = False,
    ) -> None:
        """In a worker: one transaction for the move, then where the card now sits."""
        try:
            with session_scope(self.ctx.engine) as session:
                moved = run(session)
        except board.MoveConflict as conflict:
            prefix = "Cannot undo: " if undo else ""
            self.deliver(CardMoved(None, prefix + str(conflict), conflict.card))
            return
        view = self.view
        with self.session() as session:
            place = board.position(session, moved.card, view) if view else None
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
        self.notify(message.note, timeout=4, markup=False)
        lanes = {lane.column.id: lane for lane in self.lanes}
        source, target = lanes.get(moved.from_stage_id), lanes.get(moved.card.stage_id)
        if source is None or target is None or message.position is None:
            self.reload(Focus(stage_id=moved.card.stage_id, card=moved.card, index=0))
            return
        # Our own move: adjust the two columns' figures here rather than re-aggregate, and
        # redraw only those two lanes; the cursor follows the card.
        amount = moved.card.amount
        source.reset(board.with_card_moved(source.column, count=-1, amount=amount))
        target.reset(
            board.with_card_moved(target.column, count=1, amount=amount),
            cursor=message.position,
        )
        self.columns = [lane.column for lane in self.lanes]
        for lane in (source, target):
            self._paint_header(lane)
        target.focus()
        self._show_lane(target)
        self._sync_bindings()

    # --- detail -------------------------------------------------------------------------

    def action_open_customer(self) -> None:
        lane = self.current_lane
        if lane is not None and lane.current is not None:
            screen = CustomerScreen(self.ctx, lane.current.customer_id)
            self.app.push_screen(screen, lambda _: self.reload())

    def action_open_card(self) -> None:
        lane = self.current_lane
        if lane is not None and lane.current is not None:
            self._load_detail(lane.current.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="board-detail")
    def _load_detail(self, estimate_id: uuid.UUID) -> None:
        with self.session() as session:
            self.deliver(CardDetailLoaded(board.detail(session, estimate_id)))

    @on(CardDetailLoaded)
    def _detail(self, message: CardDetailLoaded) -> None:
        message.stop()
        self.app.push_screen(CardDetailScreen(message.detail, self.ctx.clock.now(), self.tz))

    # --- which keys apply now -----------------------------------------------------------

    def _sync_bindings(self) -> None:
        """Refresh the footer only when what `check_action` answers has changed: a refresh
        rebuilds every footer key (~5 ms), too much for each cursor move."""
        lane = self.current_lane
        state = (
            lane is not None and lane.current is not None,
            self.last_move is not None,
            len(self.pipelines) > 1,
        )
        if state != self._bindings_state:
            self._bindings_state = state
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        lane = self.current_lane
        has_card = lane is not None and lane.current is not None
        if action in {"shift", "pick_stage", "open_card", "open_customer"}:
            return has_card or None  # None: shown, dimmed
        if action == "undo":
            return self.last_move is not None or None
        if action == "next_pipeline":
            return len(self.pipelines) > 1 or None
        return super().check_action(action, parameters)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield from super().palette_commands()
        lane = self.current_lane
        card = lane.current if lane is not None else None
        if card is not None:
            for column in self.columns:
                if column.id != card.stage_id:
                    yield PaletteCommand(
                        f"Move card to: {column.name}",
                        "Move the selected card to this stage",
                        lambda c=card, t=column: self._move_card(c, t),
                    )
        yield PaletteCommand("Sort cards", "Days in stage, value or name (s)", self.action_sort)
        yield PaletteCommand("Only my deals", "Toggle (o)", self.action_only_mine)
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


def _moved_note(moved: board.Move) -> str:
    note = f"{visible(moved.card.customer_name)}: {moved.from_stage_name} → {moved.to_stage_name}"
    if moved.customer_activated:
        note += " · customer is now active"
    return note + " (u to undo)"
