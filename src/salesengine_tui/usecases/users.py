"""Users and their SSH keys (managers' administration)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from pathlib import Path

from ..access import identity, permissions, ssh_keys
from ..access.users import (
    Actor,
    UserSummary,
    add_user,
    get_by_login,
    list_users,
    person_for_gateway,
)
from ..base.errors import NotFound
from ..db.roles import Connected, who_connected
from .base import UseCases


class Users(UseCases):
    def connected(self) -> Connected:
        """Who the desk's connections log in as (asked once, then kept on the context)."""
        if self.ctx.connected is None:
            self.ctx.connected = who_connected(self.ctx.engine)
        return self.ctx.connected

    def sign_in(self, asked: str | None, default: str | None) -> Actor | None:
        """Set the desk's actor from the connection: a person's own role is that person (a
        different `asked` login is refused); through the gateway or as the owner, `asked`
        else `default` (None: nobody acts, the owner's administration)."""
        login = identity.acting_login(self.connected(), asked, default)
        self.ctx.actor = None if login is None else self.actor_for(login)
        return self.ctx.actor

    def actor_for(self, login: str) -> Actor:
        """The user with this login, to act as (an unknown login is a UserError)."""
        gateway = self.connected().kind == "gateway"
        with self.read() as session:
            if gateway and self.ctx.actor is None:
                return person_for_gateway(session, login)
            return Actor.of(get_by_login(session, login))

    def add(
        self,
        login: str,
        *,
        name: str,
        role: str,
        email: str | None = None,
        initials: str | None = None,
        db_role: str | None = None,
        by: str | None = None,
    ) -> UserSummary:
        """A new user (a taken login, a bad name, role or email is a UserError), added by the
        desk's actor or, when it acts for nobody, by the user with login `by`: a manager, or
        anyone while the database has no manager yet (the first one is made so)."""
        if self.ctx.actor is not None and self.connected().kind == "owner" and not self._managed():
            # The first manager of a new database is made by its owner, as the owner: no
            # person's role may add users yet (the database's rule), and none is a manager.
            owner = Users(replace(self.ctx, actor=None))
            return owner.add(
                login, name=name, role=role, email=email, initials=initials, db_role=db_role,
                by=self.ctx.actor.login,
            )  # fmt: skip
        with self.write() as session:
            acting = self.ctx.actor
            if acting is None and by is not None:
                with suppress(NotFound):  # no such user: allowed only while there is no manager
                    acting = Actor.of(get_by_login(session, by))
            permissions.require_user_admin(session, acting, by)
            user = add_user(
                session,
                login,
                name=name,
                role=role,
                email=email,
                initials=initials,
                db_role=db_role,
            )
            return UserSummary.of(user)

    def _managed(self) -> bool:
        """Whether the database has an active manager yet."""
        with self.read() as session:
            return permissions.has_manager(session)

    def people(self) -> list[UserSummary]:
        """Everyone who can log in (not the system user), by role then login."""
        with self.read() as session:
            return [UserSummary.of(user) for user in list_users(session)]

    def add_ssh_key(
        self,
        authorized_keys: Path,
        keyfile: Path,
        login: str,
        *,
        executable: Path,
        config: Path | None = None,
    ) -> tuple[ssh_keys.PublicKey, ssh_keys.AddOutcome]:
        """Let the public key in `keyfile` open the app as `login`, who must be an active user
        of this database (a manager's action)."""
        permissions.require(self.actor, permissions.Action.manage_users)
        with self.read() as session:
            return ssh_keys.add_for_user(
                session, authorized_keys, keyfile, login, executable=executable, config=config
            )
