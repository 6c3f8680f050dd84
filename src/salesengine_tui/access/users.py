"""Users: reps, managers, technicians and the system user that signs automated work."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from ..base import validation
from ..base.errors import NotFound, PermissionDenied, UserError
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
    # The PostgreSQL role each of their transactions runs as (row-level security decides by
    # it); None only for an actor made without a database (some tests) or the system user.
    db_role: str | None = None

    @property
    def is_manager(self) -> bool:
        return self.role == UserRole.manager

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(
            id=user.id,
            login=user.login,
            name=user.name,
            role=UserRole(user.role),
            db_role=user.db_role,
        )


@dataclass(frozen=True)
class UserSummary:
    """A user as `salesengine users list` shows them."""

    login: str
    name: str
    role: UserRole
    email: str | None
    active: bool
    initials: str = ""
    db_role: str | None = None

    @classmethod
    def of(cls, user: User) -> UserSummary:
        return cls(
            user.login,
            user.name,
            UserRole(user.role),
            user.email,
            user.active,
            user.initials or "",
            user.db_role,
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
    db_role: str | None = None,
) -> User:
    """A new user; `initials` unique on the desk (None: picked from the name, "JW", "JWi");
    `db_role`: the person's existing PostgreSQL role (None: the insert trigger of revision
    0021 makes `se_LOGIN`), which the database refuses when it is an administrator's."""
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
        db_role=_db_role(session, db_role),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # someone added the same login or initials a moment ago
        session.rollback()
        raise UserError(
            f"a user with login {login!r} or initials {user.initials!r} was just added; try again"
        ) from None
    except DBAPIError as exc:  # the role trigger's refusal of an administrator's role
        if not isinstance(exc.orig, psycopg.errors.InsufficientPrivilege):
            raise
        session.rollback()
        raise PermissionDenied(validation.printable(str(exc.orig).splitlines()[0])) from None
    return user


_DB_ROLE = re.compile(r"[a-z_][a-z0-9_$.-]{0,62}")


def _db_role(session: Session, wanted: str | None) -> str | None:
    """An existing role to attach (None: a new one is made). It must not be anyone's yet."""
    if wanted is None or not wanted.strip():
        return None
    text = wanted.strip()
    if not _DB_ROLE.fullmatch(text):
        raise UserError(
            f"database role {validation.printable(text)[:70]!r}: use 1 to 63 lowercase "
            "letters, digits, '_', '$', '.' or '-', starting with a letter or '_'"
        )
    taken = session.execute(sa.select(User.login).where(User.db_role == text)).scalar_one_or_none()
    if taken is not None:
        raise UserError(f"database role {text!r} is {taken}'s already")
    return text


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


def person_for_gateway(session: Session, login: str) -> Actor:
    """The active person with this login, as the gateway finds them: it may read no table, only
    this (`salesengine_gateway_person`, revision 0021)."""
    row = session.execute(
        sa.text("SELECT id, login, name, role, db_role FROM salesengine_gateway_person(:login)"),
        {"login": login},
    ).one_or_none()
    if row is None:
        raise NotFound(
            f"no user {login!r}: `salesengine users list` shows who exists, "
            "`salesengine users add` creates one"
        )
    return Actor(id=row.id, login=row.login, name=row.name, role=UserRole(row.role),
                 db_role=row.db_role)  # fmt: skip


def system_user(session: Session) -> User:
    user = session.exec(select(User).where(User.login == SYSTEM_LOGIN)).first()
    if user is None:
        raise NotFound("the system user is missing: run `salesengine db upgrade`")
    return user
