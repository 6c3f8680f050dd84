"""Bindings as data: each screen lists its keys as rows, and this turns them into Bindings
(with ids for remapping, tooltips for `?` help, and how the footer shows the key)."""

from __future__ import annotations

from typing import NamedTuple

from textual.binding import Binding

# How the footer and `?` show keys whose names read badly there.
KEY_DISPLAY = {"slash": "/", "space": "␣", "shift+right": "⇧→", "shift+left": "⇧←"}


class Key(NamedTuple):
    keys: str  # comma-separated, the first is the one shown
    action: str
    description: str
    id: str
    tooltip: str
    show: bool = False  # in the footer


def bindings(rows: list[Key] | list[tuple[str, str, str, str, str, bool]]) -> list[Binding]:
    out = []
    for row in rows:
        key = Key(*row)
        display = KEY_DISPLAY.get(key.keys.split(",")[0])
        out.append(
            Binding(
                key.keys,
                key.action,
                key.description,
                id=key.id,
                tooltip=key.tooltip,
                show=key.show,
                key_display=display,
            )
        )
    return out
