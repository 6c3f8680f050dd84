"""Telling every open board that a card or a stage changed: LISTEN/NOTIFY on one channel,
delivered when (and only if) the writing transaction commits."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

# LISTEN/NOTIFY channel for board changes; the payload is `BoardChange` as JSON.
BOARD_CHANNEL = "salesengine_board"


@dataclass(frozen=True)
class BoardChange:
    """What a NOTIFY on the board channel says."""

    pipeline_id: uuid.UUID
    estimate_id: uuid.UUID
    by: uuid.UUID | None
    origin: str = ""  # the sender's board id, so a board can skip its own echoes

    def to_json(self) -> str:
        return json.dumps(
            {
                "pipeline_id": str(self.pipeline_id),
                "estimate_id": str(self.estimate_id),
                "by": str(self.by) if self.by else None,
                "origin": self.origin,
            }
        )

    @classmethod
    def from_json(cls, payload: str) -> BoardChange | None:
        try:
            data = json.loads(payload)
            return cls(
                pipeline_id=uuid.UUID(data["pipeline_id"]),
                estimate_id=uuid.UUID(data["estimate_id"]),
                by=uuid.UUID(data["by"]) if data.get("by") else None,
                origin=str(data.get("origin") or ""),
            )
        except (ValueError, KeyError, TypeError):
            return None  # not ours, or from a newer version: ignore rather than crash


def notify_change(session: Session, change: BoardChange) -> None:
    """Queue a NOTIFY; PostgreSQL delivers it when (and only if) the transaction commits."""
    session.execute(sa.select(sa.func.pg_notify(BOARD_CHANNEL, change.to_json())))
