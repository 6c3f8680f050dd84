"""What every front end carries: the engine, the clock, the settings and the acting user."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine

from ..access.users import Actor
from ..base.clock import Clock
from ..base.settings import Settings
from ..db import live
from ..db.roles import Connected

_HUB_LOCK = threading.Lock()


@dataclass
class AppContext:
    engine: Engine
    clock: Clock
    settings: Settings
    # None for work done for nobody in particular: database administration, the jobs runner.
    actor: Actor | None
    # Where actions come from, for the audit trail ("ssh key SHA256:… from 10.0.0.5").
    origin: str | None = None
    # Who the engine logs in as (`db.roles.who_connected`), once a front end has asked.
    connected: Connected | None = None
    # The process's one LISTEN connection, made on first use (see `hub`).
    _hub: live.Hub | None = field(default=None, repr=False, compare=False)

    @property
    def hub(self) -> live.Hub:
        """Every subscriber in this process shares one listener (the connection budget)."""
        with _HUB_LOCK:
            if self._hub is None:
                self._hub = live.Hub(live.listen_url(self.settings, self.engine.url))
            return self._hub
