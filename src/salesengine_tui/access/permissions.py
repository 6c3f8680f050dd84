"""Who may do what: the rules every front end (TUI, CLI, jobs) reaches through the domain layer.

Reps work leads and their own and unassigned deals; managers can do everything a rep can,
plus the actions listed in MANAGER_ONLY. Technicians and managers close tickets (SERVICE). A
denied action raises PermissionDenied with the reason, before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session

from ..base.errors import NotFound, PermissionDenied
from ..db.models import User, UserRole
from .users import Actor


class Action(StrEnum):
    send_blast = "send an email blast"
    reassign = "reassign customers or deals"
    edit_pipelines = "edit pipelines and stages"
    see_all_notifications = "see every notification"
    manage_users = "add users and their SSH keys"
    close_tickets = "close tickets"
    edit_deals = "create and edit deals"


# The service side's work: technicians close the tickets they work on, managers too.
SERVICE = frozenset({Action.close_tickets})
# The sales side's work: reps and managers (technicians flag upsells; they do not sell).
SALES = frozenset({Action.edit_deals})
MANAGER_ONLY = frozenset(Action) - SERVICE - SALES


def _who(action: Action) -> str:
    if action in SALES:
        return "reps and managers"
    return "technicians and managers" if action in SERVICE else "managers"


def allowed(actor: Actor, action: Action) -> bool:
    if action in SERVICE:
        return actor.role in (UserRole.technician, UserRole.manager, UserRole.system)
    if action in SALES:
        return actor.role in (UserRole.rep, UserRole.manager, UserRole.system)
    if action in MANAGER_ONLY:
        return actor.role in (UserRole.manager, UserRole.system)
    return True


def refusal(actor: Actor, action: Action) -> str | None:
    """Why `actor` may not do `action`, as a person reads it (None: they may)."""
    if allowed(actor, action):
        return None
    return f"Only {_who(action)} may {action.value}; you are signed in as a {actor.role.value}."


def require(actor: Actor, action: Action) -> None:
    if not allowed(actor, action):
        raise PermissionDenied(
            f"only {_who(action)} may {action.value}; "
            f"{actor.name} ({actor.login}) is a {actor.role.value}"
        )


def has_manager(session: Session) -> bool:
    """Whether the database has an active manager (until then, anyone makes the first)."""
    managers = sa.select(User.id).where(User.role == UserRole.manager, User.active)
    return bool(session.execute(sa.select(managers.exists())).scalar_one())


def require_user_admin(session: Session, actor: Actor | None, login: str | None) -> None:
    """Managers add users. While the database has no active manager, anyone may: that is how
    the first manager of a new database is made. `actor` is None when `login` (who is acting)
    is no user of this database."""
    if not has_manager(session):
        return
    if actor is None:
        who = f"{login!r} is not a user of this database" if login else "nobody is acting"
        raise PermissionDenied(
            f"only managers may {Action.manage_users.value}; {who} "
            "(act as a manager with --user LOGIN)"
        )
    require(actor, Action.manage_users)


def require_lead_owner(session: Session, actor: Actor, login: str | None) -> None:
    """Who leads given in bulk (an import) may belong to: an active rep or manager (`login`),
    or nobody (None). Managers give leads to anyone; others to themselves or to nobody, as they
    take leads in the app."""
    if login is None:
        return
    owner = session.execute(
        sa.select(User).where(User.login == login, User.active)
    ).scalar_one_or_none()
    if owner is None:
        raise NotFound(f"no active user with login {login!r} (see `salesengine users list`)")
    if owner.role not in (UserRole.rep, UserRole.manager):
        raise PermissionDenied(
            f"leads belong to reps and managers only; {owner.name} ({owner.login}) is a "
            f"{UserRole(owner.role).value}"
        )
    if owner.id != actor.id and not allowed(actor, Action.reassign):
        raise PermissionDenied(
            f"only managers may give leads to someone else; {actor.name} ({actor.login}) is a "
            f"{actor.role.value} and imports leads for themselves or for nobody"
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


def segment_refusal(
    actor: Actor, owner_id: uuid.UUID | None, doing: str, *, owner: str | None = None
) -> str | None:
    """A saved segment is renamed, changed or deleted by its owner or a manager; one with no
    owner (its creator is gone) by managers only. Why not (`owner`: their name), or None."""
    if actor.role in (UserRole.manager, UserRole.system) or owner_id == actor.id:
        return None
    if owner_id is None:
        return f"only a manager may {doing} this saved segment (it has no owner)"
    return (
        f"only its owner ({owner or 'someone else'}) or a manager may {doing} "
        "this saved segment: save a copy to change it"
    )


def require_segment(session: Session, actor: Actor, owner_id: uuid.UUID | None, doing: str) -> None:
    owner = _owner_name(session, owner_id) if owner_id is not None else None
    if (refused := segment_refusal(actor, owner_id, doing, owner=owner)) is not None:
        raise PermissionDenied(refused)


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


def require_deal_owner(
    actor: Actor, current: uuid.UUID | None, new: uuid.UUID | None, *, creating: bool = False
) -> None:
    """Who a deal may be given to, on creating or editing it: managers give deals to anyone
    (or nobody); a rep opens deals for themselves and may take an unassigned one, but gives no
    deal to someone else, nor leaves one unowned."""
    if allowed(actor, Action.reassign) or (not creating and new == current):
        return
    if new == actor.id and (creating or current is None):
        return
    if creating:
        raise PermissionDenied(
            f"a rep opens deals for themselves; {actor.name} ({actor.login}) is a "
            f"{actor.role.value} (a manager can open one for someone else)"
        )
    raise PermissionDenied(
        "only managers may give a deal to someone else; a rep can take an unassigned deal "
        "for themselves"
    )
