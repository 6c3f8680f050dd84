"""What every front end carries: the engine, the clock, the settings and the acting user."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from ..access.users import Actor
from ..base.clock import Clock
from ..base.settings import Settings


@dataclass
class AppContext:
    engine: Engine
    clock: Clock
    settings: Settings
    # None for work done for nobody in particular: database administration, the jobs runner.
    actor: Actor | None
