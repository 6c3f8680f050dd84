"""Who may do what: the rules every front end (TUI, CLI, jobs) reaches through the domain layer.

Reps work leads and their own and unassigned deals; managers can do everything a rep can,
plus the actions listed in MANAGER_ONLY. A denied action raises PermissionDenied with the
reason, before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session

from ..base.errors import PermissionDenied
from ..db.models import User, UserRole
from .users import Actor


class Action(StrEnum):
    send_blast = "send an email blast"
    reassign = "reassign customers or deals"
    edit_pipelines = "edit pipelines and stages"
    see_all_notifications = "see every notification"


MANAGER_ONLY = frozenset(Action)


def allowed(actor: Actor, action: Action) -> bool:
    if action in MANAGER_ONLY:
        return actor.role in (UserRole.manager, UserRole.system)
    return True


def refusal(actor: Actor, action: Action) -> str | None:
    """Why `actor` may not do `action`, as a person reads it (None: they may)."""
    if allowed(actor, action):
        return None
    return f"Only managers may {action.value}; you are signed in as a {actor.role.value}."


def require(actor: Actor, action: Action) -> None:
    if not allowed(actor, action):
        raise PermissionDenied(
            f"only managers may {action.value}; "
            f"{actor.name} ({actor.login}) is a {actor.role.value}"
        )


def _owner_name(session: Session, owner_id: uuid.UUID) -> str:
    name = session.execute(sa.select(User.name).where(User.id == owner_id)).scalar_one_or_none()
    return name or "someone else"


def require_deal(session: Session, actor: Actor, owner_id: uuid.UUID | None) -> None:
    """Reps work their own and unassigned deals; managers work every deal."""
    if allowed(actor, Action.reassign) or owner_id in (None, actor.id):
        return
    raise PermissionDenied(
        f"this deal is {_owner_name(session, owner_id)}'s: a rep works their own and "
        "unassigned deals (a manager can reassign it)"
    )


def require_assign(
    actor: Actor, new_owner: uuid.UUID | None, current_owners: Iterable[uuid.UUID | None]
) -> None:
    """Managers assign freely; a rep may only take unassigned leads for themselves."""
    if allowed(actor, Action.reassign):
        return
    if new_owner == actor.id and all(o in (None, actor.id) for o in current_owners):
        return
    raise PermissionDenied(
        "only managers may reassign customers or deals; a rep can take unassigned leads "
        "for themselves"
    )
