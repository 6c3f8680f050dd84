"""Every binding of the app, its screens and its widgets, found by walking their classes: what
the user's keymap is checked against, what `salesengine keys` lists, what the id audit walks.
Only read when there is a keymap to check or a list to print (it imports every screen)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

from ..base.keymap import Bound, KeymapCheck, Level, check_keymap, read_entries
from .keys import current_keys, is_key_name, keys_display, normalize_key

PACKAGES = ("salesengine_tui.screens", "salesengine_tui.widgets")
APP_LEVEL = "the whole app"


def _modules() -> Iterator[ModuleType]:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.iter_modules(package.__path__, f"{name}."):
            yield importlib.import_module(info.name)


def binding_classes(app_class: type[App[object]]) -> list[type[DOMNode]]:
    """The app's class, then every screen and widget class of ours, in module order."""
    found: list[type[DOMNode]] = [app_class]
    for module in _modules():
        found += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, DOMNode)
            and obj.__module__ == module.__name__
        ]
    return found


def merged_bindings(cls: type[DOMNode]) -> list[Binding]:
    """The bindings an instance of `cls` has, merged as Textual merges them: each class's
    BINDINGS along the MRO, a later class's key replacing an earlier one's, from the last class
    declared `inherit_bindings=False`."""
    keys: dict[str, list[Binding]] = {}
    for base in reversed(cls.__mro__):
        if not issubclass(base, DOMNode):
            continue
        if not getattr(base, "_inherit_bindings", True):  # Textual's flag for that keyword
            keys.clear()
        own: dict[str, list[Binding]] = {}
        for binding in Binding.make_bindings(base.__dict__.get("BINDINGS", [])):
            own.setdefault(binding.key, []).append(binding)
        keys.update(own)
    return [binding for bindings in keys.values() for binding in bindings]


def bound(bindings: list[Binding]) -> tuple[Bound, ...]:
    """One Bound per binding id (its keys together); Textual's own, without id, per action."""
    grouped: dict[object, tuple[Binding, list[str]]] = {}
    for b in bindings:
        grouped.setdefault(b.id or ("action", b.action), (b, []))[1].append(b.key)
    return tuple(
        Bound(b.id, tuple(dict.fromkeys(keys)), b.description or b.action)
        for b, keys in grouped.values()
    )


def level_name(cls: type[DOMNode]) -> str:
    section = getattr(cls, "SECTION", None)
    if section is not None:
        return str(section.title)
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__.removesuffix("Screen")).split()
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else cls.__name__


def app_bound(app_class: type[App[object]]) -> tuple[Bound, ...]:
    palette = Bound(None, (app_class.COMMAND_PALETTE_BINDING,), "Command palette")
    return (*bound(merged_bindings(app_class)), palette)


def levels(app_class: type[App[object]]) -> list[Level]:
    """Where keys must not clash: each screen with the app's keys (a dialog without them: it
    stops them), each widget alone, the app."""
    app_keys = app_bound(app_class)
    found = [Level(APP_LEVEL, app_keys)]
    classes = binding_classes(app_class)[1:]
    # Screens first, bases (Section, Board base) after: a problem names the first it is on.
    classes.sort(key=lambda c: any(o is not c and issubclass(o, c) for o in classes))
    for cls in classes:
        own = bound(merged_bindings(cls))
        if not any(b.id for b in own):
            continue  # only Textual's own keys: nothing of ours to rebind there
        if issubclass(cls, Screen) and not issubclass(cls, ModalScreen):
            own += tuple(b for b in app_keys if b.id not in {o.id for o in own if o.id})
        found.append(Level(level_name(cls), own))
    return found


def check_user_keymap(
    app_class: type[App[object]], table: Mapping[str, object], path: Path
) -> KeymapCheck:
    """The settings' [keymap] table checked: what applies, and each problem with its line."""
    if not table:
        return KeymapCheck({}, [])  # nothing to check: the screens are not walked
    return check_keymap(
        read_entries(table, path), levels(app_class), normalize=normalize_key, is_key=is_key_name
    )


@dataclass(frozen=True)
class KeyRow:
    """One line of `salesengine keys`."""

    id: str
    description: str
    default: str  # as shown: "⇧→ / L"
    current: str
    where: str  # the screens and widgets that have it


def key_rows(app_class: type[App[object]], keymap: Mapping[str, str]) -> list[KeyRow]:
    """Every binding id once, with its default and current keys and where it applies (the
    app's keys: the whole app, not every screen again)."""
    found: dict[str, tuple[Bound, list[str]]] = {}
    app_ids = {b.id for b in app_bound(app_class)}
    for level in levels(app_class):
        for b in level.bindings:
            if b.id is None or (b.id in app_ids and level.name != APP_LEVEL):
                continue
            found.setdefault(b.id, (b, []))[1].append(level.name)
    return [
        KeyRow(
            binding_id,
            b.description,
            keys_display(b.keys),
            keys_display(current_keys(binding_id, b.keys, keymap)),
            ", ".join(dict.fromkeys(where)),
        )
        for binding_id, (b, where) in sorted(found.items())
    ]
