"""The use-case layer: one Desk per front end owns every action's transaction."""

from .context import AppContext
from .desk import Desk

__all__ = ["AppContext", "Desk"]
