"""What every group of use cases shares: the desk's context and the one way to open a
transaction. Screens, the CLI and the jobs runner never open sessions; these do."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from ..access.users import Actor
from ..base.errors import UserError
from ..db.engine import session_scope
from ..db.roles import JOBS_ROLE, act_as
from .context import AppContext


class UseCases:
    # The jobs' groups (Jobs, Email, Outreach) run as the jobs role.
    SYSTEM_WORK: bool = False

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    @property
    def db_role(self) -> str | None:
        """The PostgreSQL role this group's transactions run as: the acting person's, the
        jobs role for the jobs' work, or (None) the connection's own (administration)."""
        if self.SYSTEM_WORK:  # whoever starts them (a test's desk has a person), jobs
            return JOBS_ROLE
        actor = self.ctx.actor
        if actor is not None:
            connected = self.ctx.connected
            if connected is not None and connected.kind == "person":
                return None  # logged in as themselves already
            return actor.db_role
        return None

    def _take_role(self, session: Session) -> None:
        act_as(session, self.db_role, self.ctx.origin)

    @property
    def actor(self) -> Actor:
        """The person acting. Commands that act for nobody (database administration, the jobs'
        system work) have none, and their use cases do not ask."""
        if self.ctx.actor is None:
            raise UserError("this action needs a user: pass --user LOGIN")
        return self.ctx.actor

    def now(self) -> datetime:
        return self.ctx.clock.now()

    @property
    def tz(self) -> ZoneInfo:
        """The business time zone: where "today" and calendar days are counted."""
        return ZoneInfo(self.ctx.settings.business_timezone)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One action's transaction: committed when the block ends, rolled back on any error."""
        with session_scope(self.ctx.engine, prepare=self._take_role) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read: nothing is committed (closing the session rolls back)."""
        with Session(self.ctx.engine) as session:
            self._take_role(session)
            yield session

    def listen_on(
        self,
        channels: str | Sequence[str],
        on_payload: Callable[[str], None],
        stop: threading.Event,
        *,
        on_connected: Callable[[], None] | None = None,
    ) -> None:
        """Hear what other copies of the app change, until `stop` is set (blocks: run it in a
        worker thread). `on_connected` is called once the LISTEN is in place."""
        self.ctx.hub.listen(channels, on_payload, stop, on_connected=on_connected)
