"""What every front end carries: the engine, the clock, the settings and the acting user."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from .clock import Clock
from .settings import Settings
from .users import Actor


@dataclass
class AppContext:
    engine: Engine
    clock: Clock
    settings: Settings
    actor: Actor
