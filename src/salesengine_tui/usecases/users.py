"""Users and their SSH keys (managers' administration)."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

from ..access import permissions, ssh_keys
from ..access.users import Actor, UserSummary, add_user, get_by_login, list_users
from ..base.errors import NotFound
from .base import UseCases


class Users(UseCases):
    def actor_for(self, login: str) -> Actor:
        """The user with this login, to act as (an unknown login is a UserError)."""
        with self.read() as session:
            return Actor.of(get_by_login(session, login))

    def add(
        self,
        login: str,
        *,
        name: str,
        role: str,
        email: str | None = None,
        initials: str | None = None,
        by: str | None = None,
    ) -> UserSummary:
        """A new user (a taken login, a bad name, role or email is a UserError), added by the
        desk's actor or, when it acts for nobody, by the user with login `by`: a manager, or
        anyone while the database has no manager yet (the first one is made so)."""
        with self.write() as session:
            acting = self.ctx.actor
            if acting is None and by is not None:
                with suppress(NotFound):  # no such user: allowed only while there is no manager
                    acting = Actor.of(get_by_login(session, by))
            permissions.require_user_admin(session, acting, by)
            user = add_user(session, login, name=name, role=role, email=email, initials=initials)
            return UserSummary.of(user)

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
