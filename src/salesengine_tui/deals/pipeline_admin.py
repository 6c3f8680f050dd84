"""Editing pipelines and their stages (managers only): add, rename, reorder, probability,
rotting days, follow-up rule, delete. A stage that holds estimates cannot be deleted until
they are moved; every change tells open boards to reload (NOTIFY, delivered on commit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base.errors import NotFound, UserError
from ..base.validation import one_line_name
from ..db.models import DealPipeline, DealStage, Estimate
from .board_changes import BoardChange, notify_change

NAME_MAX = 60
STAGES_CHANGED = uuid.UUID(int=0)  # the estimate id of a NOTIFY that means "reload the lanes"


@dataclass(frozen=True)
class StageSettings:
    id: uuid.UUID
    pipeline_id: uuid.UUID
    name: str
    position: int
    probability: int
    is_won: bool
    is_lost: bool
    rotting_days: int | None
    follow_up_after_days: int | None
    estimates: int

    @property
    def kind(self) -> str:
        return "won" if self.is_won else "lost" if self.is_lost else "open"


def stages(session: Session, pipeline_id: uuid.UUID) -> list[StageSettings]:
    held = (
        sa.select(Estimate.stage_id, sa.func.count().label("n"))
        .group_by(Estimate.stage_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            DealStage.id,
            DealStage.pipeline_id,
            DealStage.name,
            DealStage.position,
            DealStage.probability,
            DealStage.is_won,
            DealStage.is_lost,
            DealStage.rotting_days,
            DealStage.follow_up_after_days,
            sa.func.coalesce(held.c.n, 0),
        )
        .outerjoin(held, held.c.stage_id == DealStage.id)
        .where(DealStage.pipeline_id == pipeline_id)
        .order_by(DealStage.position)
    )
    return [StageSettings(*row) for row in rows]


def clean_name(value: str, what: str = "stage name") -> str:
    return one_line_name(value, what, max_len=NAME_MAX)


def parse_percent(value: str) -> int:
    try:
        number = int(value.strip().rstrip("%"))
    except ValueError:
        raise UserError(f"probability {value!r} is not a whole number from 0 to 100") from None
    if not 0 <= number <= 100:
        raise UserError(f"probability {number} is not between 0 and 100")
    return number


def parse_days(value: str, what: str) -> int | None:
    """Blank or "never" turns the rule off."""
    text = value.strip().lower()
    if text in ("", "never", "off", "-"):
        return None
    try:
        days = int(text.removesuffix("d").strip())
    except ValueError:
        raise UserError(f"{what} {value!r} is not a number of days (or blank for never)") from None
    if days <= 0:
        raise UserError(f"{what} must be at least 1 day (or blank for never)")
    return days


def _stage(session: Session, stage_id: uuid.UUID) -> DealStage:
    stage = session.get(DealStage, stage_id, with_for_update=True)
    if stage is None:
        raise NotFound("that stage was deleted (by someone else?)")
    return stage


def _changed(session: Session, pipeline_id: uuid.UUID, actor: Actor) -> None:
    notify_change(session, BoardChange(pipeline_id, STAGES_CHANGED, actor.id, kind="stages"))


def _flush_named(session: Session, name: str) -> None:
    """Names are checked first; a race with another manager ends here, the work undone."""
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise UserError(f"there is already a stage or pipeline named {name!r}") from None


def _pipeline_taken(session: Session, name: str, but: uuid.UUID | None = None) -> None:
    stmt = sa.select(DealPipeline.id).where(sa.func.lower(DealPipeline.name) == name.lower())
    if but is not None:
        stmt = stmt.where(DealPipeline.id != but)
    if session.execute(stmt).first() is not None:
        raise UserError(f"there is already a pipeline named {name!r}")


def _taken(session: Session, pipeline_id: uuid.UUID, name: str, but: uuid.UUID | None) -> None:
    stmt = sa.select(DealStage.id).where(
        DealStage.pipeline_id == pipeline_id, sa.func.lower(DealStage.name) == name.lower()
    )
    if but is not None:
        stmt = stmt.where(DealStage.id != but)
    if session.execute(stmt).first() is not None:
        raise UserError(f"this pipeline already has a stage named {name!r}")


def add_stage(
    session: Session,
    actor: Actor,
    pipeline_id: uuid.UUID,
    name: str,
    *,
    after: uuid.UUID | None = None,
    probability: int = 10,
) -> uuid.UUID:
    """A new open stage after `after` (or before the won/lost stages at the end)."""
    permissions.require(actor, permissions.Action.edit_pipelines)
    name = clean_name(name)
    _taken(session, pipeline_id, name, None)
    current = stages(session, pipeline_id)
    if after is not None:
        index = next((i + 1 for i, s in enumerate(current) if s.id == after), len(current))
    else:
        index = next((i for i, s in enumerate(current) if s.is_won or s.is_lost), len(current))
    # Make room: shift the later stages down one place (positions are deferred-unique).
    for s in current[index:]:
        session.execute(
            sa.update(DealStage).where(DealStage.id == s.id).values(position=s.position + 1)
        )
    if index < len(current):
        position = current[index].position
    else:
        position = current[-1].position + 1 if current else 1
    stage = DealStage(
        pipeline_id=pipeline_id, name=name, position=position, probability=probability
    )
    session.add(stage)
    _flush_named(session, name)
    _changed(session, pipeline_id, actor)
    return stage.id


def update_stage(
    session: Session,
    actor: Actor,
    stage_id: uuid.UUID,
    *,
    name: str,
    probability: str,
    rotting_days: str,
    follow_up_after_days: str,
) -> None:
    """Every setting of one stage at once, as typed; nothing changes if any is wrong."""
    permissions.require(actor, permissions.Action.edit_pipelines)
    stage = _stage(session, stage_id)
    new_name = clean_name(name)
    _taken(session, stage.pipeline_id, new_name, stage.id)
    stage.name = new_name
    stage.probability = parse_percent(probability)
    stage.rotting_days = parse_days(rotting_days, "rotting after")
    stage.follow_up_after_days = parse_days(follow_up_after_days, "follow up after")
    _flush_named(session, new_name)
    _changed(session, stage.pipeline_id, actor)


def move_stage(session: Session, actor: Actor, stage_id: uuid.UUID, delta: int) -> None:
    """Swap a stage with its neighbour (delta -1: earlier, +1: later)."""
    permissions.require(actor, permissions.Action.edit_pipelines)
    stage = _stage(session, stage_id)
    current = stages(session, stage.pipeline_id)
    index = next(i for i, s in enumerate(current) if s.id == stage_id)
    other = index + delta
    if not 0 <= other < len(current):
        raise UserError(f"{stage.name!r} is already {'first' if delta < 0 else 'last'}")
    neighbour = current[other]
    session.execute(
        sa.update(DealStage).where(DealStage.id == neighbour.id).values(position=stage.position)
    )
    session.execute(
        sa.update(DealStage).where(DealStage.id == stage.id).values(position=neighbour.position)
    )
    _changed(session, stage.pipeline_id, actor)


def delete_stage(session: Session, actor: Actor, stage_id: uuid.UUID) -> str:
    """Delete an empty stage; one that holds estimates says how many and where to move them."""
    permissions.require(actor, permissions.Action.edit_pipelines)
    stage = _stage(session, stage_id)
    held = session.execute(
        sa.select(sa.func.count()).select_from(Estimate).where(Estimate.stage_id == stage_id)
    ).scalar_one()
    if held:
        them = "them" if held != 1 else "it"
        raise UserError(
            f"{stage.name!r} holds {held:,} estimate{'s' if held != 1 else ''}: move {them} to "
            "another stage on the board first"
        )
    if stage.is_won or stage.is_lost:
        others = session.execute(
            sa.select(sa.func.count())
            .select_from(DealStage)
            .where(
                DealStage.pipeline_id == stage.pipeline_id,
                DealStage.id != stage.id,
                DealStage.is_won if stage.is_won else DealStage.is_lost,
            )
        ).scalar_one()
        if not others:
            kind = "won" if stage.is_won else "lost"
            raise UserError(f"{stage.name!r} is the pipeline's only {kind} stage; it must have one")
    name, pipeline_id = stage.name, stage.pipeline_id
    session.delete(stage)
    session.flush()
    _changed(session, pipeline_id, actor)
    return name


def add_pipeline(session: Session, actor: Actor, name: str) -> uuid.UUID:
    """A new pipeline with the stages every pipeline needs: New, Won and Lost."""
    permissions.require(actor, permissions.Action.edit_pipelines)
    name = clean_name(name, "pipeline name")
    _pipeline_taken(session, name)
    last = session.execute(sa.select(sa.func.max(DealPipeline.position))).scalar_one() or 0
    pipeline = DealPipeline(name=name, position=last + 1)
    session.add(pipeline)
    _flush_named(session, name)
    for position, (stage_name, probability, won, lost) in enumerate(
        [("New", 10, False, False), ("Won", 100, True, False), ("Lost", 0, False, True)], 1
    ):
        session.add(
            DealStage(
                pipeline_id=pipeline.id,
                name=stage_name,
                position=position,
                probability=probability,
                is_won=won,
                is_lost=lost,
            )
        )
    session.flush()
    _changed(session, pipeline.id, actor)
    return pipeline.id


def rename_pipeline(session: Session, actor: Actor, pipeline_id: uuid.UUID, name: str) -> None:
    permissions.require(actor, permissions.Action.edit_pipelines)
    name = clean_name(name, "pipeline name")
    _pipeline_taken(session, name, but=pipeline_id)
    pipeline = session.get(DealPipeline, pipeline_id, with_for_update=True)
    if pipeline is None:
        raise NotFound("that pipeline was deleted (by someone else?)")
    pipeline.name = name
    _flush_named(session, name)
    _changed(session, pipeline_id, actor)
