"""Users: reps, managers, technicians and the system user that signs automated work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ..base import validation
from ..base.errors import NotFound, UserError
from ..db.models import User, UserRole

SYSTEM_LOGIN = "system"


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

    @classmethod
    def of(cls, user: User) -> UserSummary:
        return cls(user.login, user.name, UserRole(user.role), user.email, user.active)


def add_user(
    session: Session, login: str, *, name: str, role: str, email: str | None = None
) -> User:
    login = validation.login(login)
    name = validation.require_text(name, "name", max_len=200)
    try:
        user_role = UserRole(role)
    except ValueError:
        allowed = ", ".join(r.value for r in UserRole if r != UserRole.system)
        raise UserError(f"role {role!r} is not one of: {allowed}") from None
    if user_role == UserRole.system:
        raise UserError("the system role is reserved for automation")
    user = User(login=login, name=name, role=user_role, email=validation.email(email))
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise UserError(f"a user with login {login!r} already exists") from None
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
