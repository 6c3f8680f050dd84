"""Who may do what: the rules every front end (TUI, CLI, jobs) reaches through the domain layer.

Reps work leads and their own and unassigned deals; managers can do everything a rep can,
plus the actions listed in MANAGER_ONLY. A denied action raises PermissionDenied with the
reason, before anything is written.
"""

from __future__ import annotations

from enum import StrEnum

from .db.models import UserRole
from .errors import PermissionDenied
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


def require(actor: Actor, action: Action) -> None:
    if not allowed(actor, action):
        raise PermissionDenied(
            f"only managers may {action.value}; "
            f"{actor.name} ({actor.login}) is a {actor.role.value}"
        )
