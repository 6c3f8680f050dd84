"""Telling every open board that a card or a stage changed: LISTEN/NOTIFY on one channel,
delivered when (and only if) the writing transaction commits.

The payload says what changed, so an open board can patch what it shows instead of reading
every lane again: for one card ("card"), its version, the stage it left and entered, and the
figures before and after that its lane totals and sort position need. Ids and numbers only, never
user text (a NOTIFY payload must stay under 8000 bytes, and names have no limit). "stages" (the
pipeline's structure changed), "many" (a bulk change) and anything not understood ("reload") make
a board load again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

# LISTEN/NOTIFY channel for board changes; the payload is `BoardChange` as JSON.
BOARD_CHANNEL = "salesengine_board"

T = TypeVar("T")

ChangeKind = Literal["card", "stages", "many", "reload"]
KINDS: tuple[ChangeKind, ...] = ("card", "stages", "many", "reload")


class CardState(Protocol):
    """What a change tells of one card (a `Card`, or a row of a write's own read): where it
    sits, and what its lane's totals, its sort position and the board's filters read (the
    title itself stays out: user text)."""

    id: uuid.UUID
    version: int
    stage_id: uuid.UUID
    amount: Decimal
    stage_entered_at: datetime
    owner_id: uuid.UUID | None
    expected_close_on: date | None


@dataclass(frozen=True)
class BoardChange:
    """What a NOTIFY on the board channel says."""

    pipeline_id: uuid.UUID
    estimate_id: uuid.UUID
    by: uuid.UUID | None
    origin: str = ""  # the sender's board id, so a board can skip its own echoes
    kind: ChangeKind = "reload"
    # A "card" change: the card's version after it, the stage it left (None: new) and entered,
    # its value before and after, and the before-values the board's filters and order read.
    version: int | None = None
    from_stage_id: uuid.UUID | None = None
    to_stage_id: uuid.UUID | None = None
    amount_before: Decimal | None = None
    amount: Decimal | None = None
    entered_before: datetime | None = None
    owner_before: uuid.UUID | None = None
    close_before: date | None = None
    title_changed: bool = False

    @property
    def patchable(self) -> bool:
        """A change an open board can patch from (everything else: load the board again)."""
        return (
            self.kind == "card"
            and self.version is not None
            and self.to_stage_id is not None
            and self.amount is not None
            and (self.from_stage_id is None or self.amount_before is not None)
        )

    def to_json(self) -> str:
        data: dict[str, object] = {
            "kind": self.kind,
            "pipeline_id": str(self.pipeline_id),
            "estimate_id": str(self.estimate_id),
            "by": _text(self.by),
            "origin": self.origin,
        }
        if self.kind == "card":
            data.update(
                version=self.version,
                from_stage_id=_text(self.from_stage_id),
                to_stage_id=_text(self.to_stage_id),
                amount_before=_text(self.amount_before),
                amount=_text(self.amount),
                entered_before=_text(self.entered_before),
                owner_before=_text(self.owner_before),
                close_before=_text(self.close_before),
                title_changed=self.title_changed,
            )
        return json.dumps(data)

    @classmethod
    def from_json(cls, payload: str) -> BoardChange | None:
        """The change, or None for a payload that is not one; a payload from an older or newer
        version (no kind, or one not known here) is a "reload"."""
        try:
            data = json.loads(payload)
            change = cls(
                pipeline_id=uuid.UUID(data["pipeline_id"]),
                estimate_id=uuid.UUID(data["estimate_id"]),
                by=_read(uuid.UUID, data.get("by")),
                origin=str(data.get("origin") or ""),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # not ours: ignore rather than crash
        kind = data.get("kind")
        if kind not in KINDS:
            return change  # a sender that says less (or more) than this: reload
        if kind != "card":
            return cls(change.pipeline_id, change.estimate_id, change.by, change.origin, kind)
        try:
            return cls(
                change.pipeline_id,
                change.estimate_id,
                change.by,
                change.origin,
                "card",
                version=int(data["version"]),
                from_stage_id=_read(uuid.UUID, data.get("from_stage_id")),
                to_stage_id=_read(uuid.UUID, data.get("to_stage_id")),
                amount_before=_read(Decimal, data.get("amount_before")),
                amount=_read(Decimal, data.get("amount")),
                entered_before=_read(datetime.fromisoformat, data.get("entered_before")),
                owner_before=_read(uuid.UUID, data.get("owner_before")),
                close_before=_read(date.fromisoformat, data.get("close_before")),
                title_changed=bool(data.get("title_changed")),
            )
        except (ValueError, KeyError, TypeError, ArithmeticError):
            return change  # a card change this version cannot read: reload


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def _read(parse: Callable[[Any], T], value: object) -> T | None:
    return None if value is None else parse(value)


def card_change(
    pipeline_id: uuid.UUID,
    card: CardState,
    *,
    before: CardState | None,
    by: uuid.UUID | None,
    origin: str,
    title_changed: bool = False,
) -> BoardChange:
    """A "card" change: `card` as a write left it, `before` as it was (None: new)."""
    return BoardChange(
        pipeline_id,
        card.id,
        by,
        origin,
        "card",
        version=card.version,
        from_stage_id=before.stage_id if before else None,
        to_stage_id=card.stage_id,
        amount_before=before.amount if before else None,
        amount=card.amount,
        entered_before=before.stage_entered_at if before else None,
        owner_before=before.owner_id if before else None,
        close_before=before.expected_close_on if before else None,
        title_changed=title_changed,
    )


def notify_change(session: Session, change: BoardChange) -> None:
    """Queue a NOTIFY; PostgreSQL delivers it when (and only if) the transaction commits."""
    session.execute(sa.select(sa.func.pg_notify(BOARD_CHANNEL, change.to_json())))
