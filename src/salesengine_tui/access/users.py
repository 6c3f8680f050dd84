"""Users: reps, managers, technicians and the system user that signs automated work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ..base import validation
from ..base.errors import NotFound, UserError
from ..db.models import User, UserRole

SYSTEM_LOGIN = "system"
INITIALS_MAX = 5  # letters or digits (the check constraint of revision 0017)


@dataclass(frozen=True)
class Actor:
    """The acting user, as every domain call that changes data receives it."""

    id: UUID
    login: str
    name: str
    role: UserRole

    @property
    def is_manager(self) -> bool:
        return self.role == UserRole.manager

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(id=user.id, login=user.login, name=user.name, role=UserRole(user.role))


@dataclass(frozen=True)
class UserSummary:
    """A user as `salesengine users list` shows them."""

    login: str
    name: str
    role: UserRole
    email: str | None
    active: bool
    initials: str = ""

    @classmethod
    def of(cls, user: User) -> UserSummary:
        return cls(
            user.login, user.name, UserRole(user.role), user.email, user.active, user.initials or ""
        )


def _initials(session: Session, name: str, wanted: str | None) -> str:
    """The initials asked for (1 to INITIALS_MAX letters or digits, no one else's in any
    case), or the first free ones for `name`: the database's rule, `salesengine_free_initials`
    (revision 0017), which the insert trigger applies to users added any other way."""
    if wanted is None or not wanted.strip():
        return session.execute(sa.select(sa.func.salesengine_free_initials(name))).scalar_one()
    text = wanted.strip()
    if not (text.isalnum() and len(text) <= INITIALS_MAX):
        raise UserError(
            f"initials {validation.printable(text)[:20]!r}: use 1 to {INITIALS_MAX} letters or "
            "digits"
        )
    taken = session.execute(
        sa.select(User.login).where(sa.func.upper(User.initials) == text.upper())
    ).scalar_one_or_none()
    if taken is not None:
        raise UserError(f"initials {text!r} are {taken}'s already; choose others")
    return text


def add_user(
    session: Session,
    login: str,
    *,
    name: str,
    role: str,
    email: str | None = None,
    initials: str | None = None,
) -> User:
    """A new user; `initials` unique on the desk (None: picked from the name, "JW", "JWi")."""
    login = validation.login(login)
    name = validation.require_text(name, "name", max_len=200)
    try:
        user_role = UserRole(role)
    except ValueError:
        allowed = ", ".join(r.value for r in UserRole if r != UserRole.system)
        raise UserError(f"role {role!r} is not one of: {allowed}") from None
    if user_role == UserRole.system:
        raise UserError("the system role is reserved for automation")
    if session.execute(sa.select(User.id).where(User.login == login)).first() is not None:
        raise UserError(f"a user with login {login!r} already exists")
    user = User(
        login=login,
        name=name,
        role=user_role,
        email=validation.email(email),
        initials=_initials(session, name, initials),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # someone added the same login or initials a moment ago
        session.rollback()
        raise UserError(
            f"a user with login {login!r} or initials {user.initials!r} was just added; try again"
        ) from None
    return user


def list_users(session: Session) -> Sequence[User]:
    """People only: the system user signs automated work but never logs in."""
    return session.exec(
        select(User).where(User.role != UserRole.system).order_by(User.role, User.login)
    ).all()


def get_by_login(session: Session, login: str) -> User:
    user = session.exec(select(User).where(User.login == login)).first()
    if user is None or not user.active or user.role == UserRole.system:
        raise NotFound(
            f"no user {login!r}: `salesengine users list` shows who exists, "
            "`salesengine users add` creates one"
        )
    return user


def system_user(session: Session) -> User:
    user = session.exec(select(User).where(User.login == SYSTEM_LOGIN)).first()
    if user is None:
        raise NotFound("the system user is missing: run `salesengine db upgrade`")
    return user
