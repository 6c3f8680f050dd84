"""Bindings as data: each screen lists its keys as rows, and this turns them into Bindings
(with ids for the user's keymap, tooltips for `?` help, and whether the footer shows them).
Also how a key is shown to people (`⇧→`, `^l`, `␣`), per key: a binding's alternatives
("shift+right,L") are shown as themselves, never all as the first one."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from textual.binding import Binding
from textual.keys import KEY_NAME_REPLACEMENTS, Keys, format_key, key_to_character

# How the footer and `?` show keys whose names read badly there.
KEY_DISPLAY = {"space": "␣"}
MODIFIER_DISPLAY = {"ctrl": "^", "shift": "⇧", "alt": "⌥", "meta": "meta+", "super": "super+"}
MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
# Named keys Textual sends: every Keys value's last part ("ctrl+home" -> "home").
NAMED_KEYS = frozenset(k.value.rpartition("+")[2] for k in Keys)


class Key(NamedTuple):
    keys: str  # comma-separated alternatives, the first is the main one
    action: str
    description: str
    id: str
    tooltip: str
    show: bool = False  # in the footer


def bindings(rows: Iterable[Key] | Iterable[tuple[str, str, str, str, str, bool]]) -> list[Binding]:
    return [
        Binding(k.keys, k.action, k.description, id=k.id, tooltip=k.tooltip, show=k.show)
        for k in (Key(*row) for row in rows)
    ]


def normalize_key(key: str) -> str:
    """A key as Textual names it: "?" -> "question_mark", "/" -> "slash"."""
    key = key.strip()
    if len(key) != 1 or key.isalnum():
        return key
    try:
        name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return key
    return KEY_NAME_REPLACEMENTS.get(name, name)


def split_keys(keys: str) -> list[str]:
    """`"shift+right, L"` -> `["shift+right", "L"]`, each normalized."""
    return [normalize_key(k) for k in keys.split(",") if k.strip()]


def is_key_name(key: str) -> bool:
    """Whether Textual can ever send `key` (a modifier or two, then a key or a character)."""
    *modifiers, base = normalize_key(key).split("+")
    if not base or not set(modifiers) <= MODIFIERS:
        return False
    return len(base) == 1 or base in NAMED_KEYS or key_to_character(base) is not None


def key_display(key: str) -> str:
    """One key as shown in the footer and `?`: `⇧→`, `^l`, `/`, `L`."""
    if key in KEY_DISPLAY:
        return KEY_DISPLAY[key]
    *modifiers, base = key.split("+")
    shown = KEY_DISPLAY.get(base) or format_key(base)
    return "".join(MODIFIER_DISPLAY.get(m, f"{m}+") for m in modifiers) + shown


def keys_display(keys: Iterable[str]) -> str:
    """A binding's keys, alternatives together: `⇧→ / L`."""
    return " / ".join(dict.fromkeys(key_display(k) for k in keys))


def current_keys(binding_id: str, default: Iterable[str], keymap: Mapping[str, str]) -> list[str]:
    """The keys a binding answers to: the user's (from the keymap) or its default ones."""
    mapped = keymap.get(binding_id)
    return split_keys(mapped) if mapped else [normalize_key(k) for k in default]
