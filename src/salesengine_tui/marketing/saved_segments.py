"""Saved segments: named definitions people keep, rename, duplicate and delete.

Names are unique (case matters not: "Old units" and "old units" are the same name), and a
name may not read as a segment expression (`status = lead`), so the command line, which takes
either, never mistakes one for the other. The definition is stored as JSON and checked again
through `segments.from_json` when loaded, so a stored segment that no longer fits the field
list says so instead of compiling wrongly.

Each segment has an owner (who saved it): the owner or a manager renames, changes or deletes
it (`permissions.require_segment`); anyone may open, use or copy it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base.errors import NotFound, UserError
from ..base.validation import one_line_name
from ..db.models import Segment, User
from . import segments

NAME_MAX = 80


@dataclass(frozen=True)
class Saved:
    id: uuid.UUID
    name: str
    definition: segments.Definition
    created_by: str | None
    updated_at: datetime | None
    owner: str | None = None  # the owner's name (None: no owner, managers only)
    owner_id: uuid.UUID | None = None

    @property
    def text(self) -> str:
        return segments.to_text(self.definition)


def clean_name(name: str) -> str:
    return one_line_name(name, "segment name", max_len=NAME_MAX)


def _reads_as_expression(name: str) -> bool:
    try:
        segments.parse(name)
    except segments.SegmentError:
        return False
    return True


def new_name(name: str) -> str:
    """A name to save a segment under: cleaned, and not one that reads as an expression."""
    name = clean_name(name)
    if _reads_as_expression(name):
        raise UserError(
            f"the segment name {name!r} reads as a segment expression: "
            "pick a name that is not one (e.g. 'Leads in Plano')"
        )
    return name


_creator, _owner = aliased(User), aliased(User)


def _row(row: sa.Row) -> Saved:
    return Saved(
        row.id,
        row.name,
        segments.from_json(row.definition),
        row.created_login,
        row.updated_at,
        row.owner_name,
        row.owner_id,
    )


def _select() -> sa.Select:
    return (
        sa.select(
            Segment.id,
            Segment.name,
            Segment.definition,
            _creator.login.label("created_login"),
            Segment.updated_at,
            _owner.name.label("owner_name"),
            Segment.owner_id,
        )
        .outerjoin(_creator, _creator.id == Segment.created_by)
        .outerjoin(_owner, _owner.id == Segment.owner_id)
    )


def list_saved(session: Session) -> list[Saved]:
    rows = session.execute(_select().order_by(sa.func.lower(Segment.name)))
    return [_row(row) for row in rows]


def get(session: Session, name: str) -> Saved:
    row = session.execute(
        _select().where(sa.func.lower(Segment.name) == clean_name(name).lower())
    ).first()
    if row is None:
        raise NotFound(f"no saved segment named {name!r}: `salesengine segments list` shows them")
    return _row(row)


def get_by_id(session: Session, segment_id: uuid.UUID) -> Saved:
    row = session.execute(_select().where(Segment.id == segment_id)).first()
    if row is None:
        raise NotFound("that segment was deleted (by someone else?)")
    return _row(row)


def _require_owner(session: Session, actor: Actor, segment_id: uuid.UUID, doing: str) -> None:
    """The owner or a manager: checked on the row, locked until the change commits."""
    row = session.execute(
        sa.select(Segment.owner_id).where(Segment.id == segment_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound("that segment was deleted (by someone else?)")
    permissions.require_segment(session, actor, row.owner_id, doing)


def _taken(session: Session, name: str, but: uuid.UUID | None = None) -> bool:
    stmt = sa.select(Segment.id).where(sa.func.lower(Segment.name) == name.lower())
    if but is not None:
        stmt = stmt.where(Segment.id != but)
    return session.execute(stmt).first() is not None


def _write(session: Session, stmt: sa.Executable, name: str) -> uuid.UUID:
    try:
        with session.begin_nested():
            row = session.execute(stmt).first()
    except IntegrityError:
        raise UserError(f"a segment named {name!r} already exists") from None
    if row is None:
        raise NotFound("that segment was deleted (by someone else?)")
    return row[0]


def save(
    session: Session,
    name: str,
    definition: segments.Definition,
    *,
    actor: Actor,
    now: datetime,
    segment_id: uuid.UUID | None = None,
) -> Saved:
    """A new segment, or (with `segment_id`) new name and definition for an existing one
    (its owner's or a manager's to change). A new one is the actor's."""
    name = new_name(name)
    if segment_id is not None:
        _require_owner(session, actor, segment_id, "change")
    if _taken(session, name, but=segment_id):
        raise UserError(f"a segment named {name!r} already exists")
    stored = segments.to_json(definition)
    if segment_id is None:
        stmt = (
            sa.insert(Segment)
            .values(
                name=name,
                definition=stored,
                created_by=actor.id,
                owner_id=actor.id,
                created_at=now,
                updated_at=now,
            )
            .returning(Segment.id)
        )
    else:
        stmt = (
            sa.update(Segment)
            .where(Segment.id == segment_id)
            .values(name=name, definition=stored, updated_at=now)
            .returning(Segment.id)
        )
    return get_by_id(session, _write(session, stmt, name))


def rename(
    session: Session, segment_id: uuid.UUID, name: str, *, actor: Actor, now: datetime
) -> Saved:
    name = new_name(name)
    _require_owner(session, actor, segment_id, "rename")
    if _taken(session, name, but=segment_id):
        raise UserError(f"a segment named {name!r} already exists")
    stmt = (
        sa.update(Segment)
        .where(Segment.id == segment_id)
        .values(name=name, updated_at=now)
        .returning(Segment.id)
    )
    return get_by_id(session, _write(session, stmt, name))


def duplicate(session: Session, segment_id: uuid.UUID, *, actor: Actor, now: datetime) -> Saved:
    """A copy named "<name> (copy)", "<name> (copy 2)", ... whichever is free."""
    original = get_by_id(session, segment_id)
    n = 1
    while True:
        suffix = " (copy)" if n == 1 else f" (copy {n})"
        name = original.name[: NAME_MAX - len(suffix)] + suffix
        if not _taken(session, name):
            return save(session, name, original.definition, actor=actor, now=now)
        n += 1


def delete(session: Session, segment_id: uuid.UUID, *, actor: Actor) -> None:
    _require_owner(session, actor, segment_id, "delete")
    session.execute(sa.delete(Segment).where(Segment.id == segment_id))


def resolve(session: Session, name_or_expression: str) -> tuple[segments.Definition, str | None]:
    """A saved segment's name, or else an expression (for the command line); the name comes
    back when it was a name. Text that is both (a segment saved before names were checked)
    is refused rather than guessed."""
    try:
        name = clean_name(name_or_expression)
    except UserError:
        name = None  # empty or too long: no segment has that name
    found = None
    if name is not None:
        found = session.execute(
            sa.select(Segment.name, Segment.definition).where(
                sa.func.lower(Segment.name) == name.lower()
            )
        ).first()
    try:
        parsed = segments.parse(name_or_expression)
    except segments.SegmentError:
        if found is None:
            raise
        return segments.from_json(found.definition), found.name
    if found is not None:
        raise UserError(
            f"{found.name!r} is both a saved segment's name and an expression: "
            "rename the saved segment (its owner or a manager can)"
        )
    return parsed, None
