"""Deals: the board (read the lanes and cards, move, reassign, undo), and a deal itself (open
one, edit it, read it for the deal screen, the deals of a customer)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..customers import leads as customer_leads
from ..customers.leads import Person, assignable_users
from ..deals import board, board_card, deal_view, editing
from ..deals.pipelines import PipelineInfo, list_pipelines
from ..tasks import editing as task_editing
from ..tasks.model import TaskDraft, TaskRow
from ..tasks.queries import open_tasks
from .base import UseCases

TASKS_SHOWN = 10  # a deal screen lists this many of the customer's open tasks


@dataclass(frozen=True)
class NewDeal:
    """A deal as a person typed it (the deal form, convert): values already parsed."""

    pipeline_id: uuid.UUID
    stage_id: uuid.UUID | None  # None: the pipeline's first open stage
    title: str
    amount: Decimal
    expected_close_on: date | None
    owner_id: uuid.UUID | None
    # A first task for the deal (its due as typed); it goes to the deal's owner.
    first_task: TaskDraft | None = None


@dataclass(frozen=True)
class DealOpened:
    estimate_id: uuid.UUID
    customer_id: uuid.UUID
    card: board.Card
    task_id: uuid.UUID | None = None


@dataclass(frozen=True)
class DealRead:
    """What the deal screen shows: the deal, and its customer's open tasks (the deal's own
    among them, marked by their estimate number)."""

    deal: deal_view.DealView
    tasks: list[TaskRow]
    more_tasks: bool  # the customer has more open tasks than listed


@dataclass(frozen=True)
class DealChoices:
    """What the deal form offers: owners and pipelines."""

    owners: list[Person]
    pipelines: list[PipelineInfo]


def open_deal(
    session: Session,
    actor: Actor,
    customer_id: uuid.UUID,
    deal: NewDeal,
    *,
    now: datetime,
    tz: ZoneInfo,
    origin: str = "",
) -> DealOpened:
    """Open `deal` for a customer, and its first task if any, in the caller's transaction (the
    deal form and a conversion share it)."""
    estimate_id = editing.create_deal(
        session,
        actor,
        customer_id=customer_id,
        pipeline_id=deal.pipeline_id,
        stage_id=deal.stage_id,
        title=deal.title,
        amount=deal.amount,
        expected_close_on=deal.expected_close_on,
        owner_id=deal.owner_id,
        now=now,
        today=now.astimezone(tz).date(),
        origin=origin,
    )
    task_id = None
    if deal.first_task is not None:
        draft = replace(
            deal.first_task,
            estimate_id=estimate_id,
            assignee_id=deal.owner_id,
            unassigned=deal.owner_id is None,
        )
        task_id = task_editing.create_from_draft(session, actor, customer_id, draft, now=now, tz=tz)
    return DealOpened(estimate_id, customer_id, board.get_card(session, estimate_id), task_id)


@dataclass(frozen=True)
class CardPlace:
    """Where a card sits now: its stage, and its index in that column."""

    stage_id: uuid.UUID
    index: int


@dataclass(frozen=True)
class BoardRead:
    """One load of the board."""

    pipelines: list[PipelineInfo]
    query: board.BoardQuery | None  # None: there are no pipelines
    columns: list[board.Column]
    followed: CardPlace | None = None  # the followed card, where the query still shows it


class Deals(UseCases):
    # --- reads ------------------------------------------------------------------------------

    def load_board(
        self, query: board.BoardQuery | None, *, follow: board.Card | None = None
    ) -> BoardRead:
        """The pipelines and the columns of `query` (the first pipeline when `query` is None
        or its pipeline is gone), and where `follow` sits now: it may have moved since."""
        with self.read() as session:
            pipelines = list_pipelines(session)
            if query is None or query.pipeline_id not in {p.id for p in pipelines}:
                if not pipelines:
                    return BoardRead(pipelines, None, [])
                query = board.BoardQuery(pipeline_id=pipelines[0].id)
            columns = board.columns(session, query)
            followed = None
            if follow is not None:
                index = board.position(session, follow, query)
                if index is not None:
                    followed = CardPlace(board.get_card(session, follow.id).stage_id, index)
        return BoardRead(pipelines, query, columns, followed)

    def page(
        self,
        stage_id: uuid.UUID,
        query: board.BoardQuery,
        *,
        after: board.Card | None = None,
        before: board.Card | None = None,
        offset: int = 0,
        from_end: bool = False,
        limit: int = board.PAGE_SIZE,
    ) -> list[board.Card]:
        """A block of one column's cards (see `board.page`)."""
        with self.read() as session:
            return board.page(
                session,
                stage_id,
                query,
                after=after,
                before=before,
                offset=offset,
                from_end=from_end,
                limit=limit,
            )

    def position(self, card: board.Card, query: board.BoardQuery) -> int | None:
        with self.read() as session:
            return board.position(session, card, query)

    def changed_cards(
        self, changes: list[board.BoardChange], query: board.BoardQuery
    ) -> list[board_card.CardPatch]:
        """The cards `changes` name, as a board showing `query` sees them now (one statement
        each, by primary key): what a live board patches itself from."""
        with self.read() as session:
            return [board_card.changed_card(session, change, query) for change in changes]

    def assignable_owners(self) -> list[Person]:
        """Who a deal can be given to: active reps and managers, by name."""
        with self.read() as session:
            return assignable_users(session)

    def listen(
        self,
        changed: Callable[[board.BoardChange], None],
        stop: threading.Event,
        *,
        on_connected: Callable[[], None] | None = None,
    ) -> None:
        """Call `changed` for every change another board (or pipeline settings) makes, until
        `stop` is set (blocks: run it in a worker thread). Payloads not understood are dropped."""

        def heard(payload: str) -> None:
            change = board.BoardChange.from_json(payload)
            if change is not None:
                changed(change)

        self.listen_on(board.BOARD_CHANNEL, heard, stop, on_connected=on_connected)

    # --- writes -----------------------------------------------------------------------------
    # `origin` names the board that acts, so it can skip the echo of its own NOTIFY.

    def move(
        self,
        card: board.Card,
        stage_id: uuid.UUID,
        *,
        lost_reason: str | None = None,
        amount: Decimal | None = None,
        origin: str = "",
    ) -> board.Move:
        """Move `card` (as the board saw it) to a stage; MoveConflict if it changed since,
        ValueRequired when Won needs its value first (then move again with `amount`)."""
        with self.write() as session:
            return board.move(
                session,
                self.actor,
                card.id,
                expected_version=card.version,
                to_stage_id=stage_id,
                now=self.now(),
                lost_reason=lost_reason,
                amount=amount,
                origin=origin,
            )

    def undo(self, last: board.Move, *, origin: str = "") -> board.Move:
        with self.write() as session:
            return board.undo(session, self.actor, last, now=self.now(), origin=origin)

    def reassign(self, card: board.Card, owner_id: uuid.UUID | None, *, origin: str = "") -> str:
        """Give the deal to `owner_id` (None: nobody), managers only; returns the new owner's
        name. An edit of the owner: on the deal's history like any other."""
        permissions.require(self.actor, permissions.Action.reassign)
        with self.write() as session:
            edited = editing.edit_deal(
                session,
                self.actor,
                card.id,
                expected_version=card.version,
                now=self.now(),
                owner_id=owner_id,
                origin=origin,
            )
        return edited.card.owner_name or "nobody"

    # --- a deal itself ----------------------------------------------------------------------

    def deal(self, estimate_id: uuid.UUID) -> DealRead:
        """The deal screen's read: the deal, its history, and its customer's open tasks."""
        with self.read() as session:
            view = deal_view.deal_view(session, estimate_id)
            tasks = open_tasks(session, customer_id=view.customer_id, limit=TASKS_SHOWN + 1)
        return DealRead(view, tasks[:TASKS_SHOWN], len(tasks) > TASKS_SHOWN)

    def customer_deals(self, customer_id: uuid.UUID) -> tuple[list[deal_view.DealLine], int]:
        """A customer's deals (open ones first) and how many they have in all."""
        with self.read() as session:
            return deal_view.customer_deals(session, customer_id)

    def choices(self) -> DealChoices:
        with self.read() as session:
            return DealChoices(assignable_users(session), list_pipelines(session))

    def today(self) -> date:
        """The business date: the deal form reads `+30` and `eom` from it."""
        return self.now().astimezone(self.tz).date()

    def create(
        self,
        deal: NewDeal,
        *,
        customer_id: uuid.UUID | None = None,
        new_lead: dict[str, str | None] | None = None,
        origin: str = "",
    ) -> DealOpened:
        """Open a deal (and its first task) for a customer, or for a new lead typed in the
        form (`new_lead`: its contact fields), all in one transaction."""
        if (customer_id is None) == (new_lead is None):
            raise ValueError("give a customer or a new lead, not both")
        with self.write() as session:
            if new_lead is not None:
                customer_id = customer_leads.create_lead(
                    session,
                    self.actor,
                    new_lead,
                    now=self.now(),
                    region=self.ctx.settings.phone_region,
                )
            assert customer_id is not None
            return open_deal(
                session, self.actor, customer_id, deal, now=self.now(), tz=self.tz, origin=origin
            )

    def edit(
        self,
        estimate_id: uuid.UUID,
        *,
        expected_version: int,
        title: str | object = editing.UNCHANGED,
        amount: Decimal | object = editing.UNCHANGED,
        expected_close_on: date | object | None = editing.UNCHANGED,
        owner_id: uuid.UUID | object | None = editing.UNCHANGED,
        origin: str = "",
    ) -> editing.Edited:
        """Change the given fields of a deal if nobody changed it since `expected_version`
        (else MoveConflict, nothing written); returns what changed."""
        with self.write() as session:
            return editing.edit_deal(
                session,
                self.actor,
                estimate_id,
                expected_version=expected_version,
                now=self.now(),
                today=self.today(),
                origin=origin,
                **{  # only the fields given: the rest keep their values
                    name: value
                    for name, value in (
                        ("title", title),
                        ("amount", amount),
                        ("expected_close_on", expected_close_on),
                        ("owner_id", owner_id),
                    )
                    if value is not editing.UNCHANGED
                },
            )
