"""The `[keymap]` table of the settings file: binding id = keys, to rebind a key.

    [keymap]
    "board.move_next" = "ctrl+l"        # alternatives: "ctrl+l,L"
    leads.call = "C"                    # a bare dotted key is the same id

Reading it keeps the line each entry is on (tomllib gives no positions, so the file's text is
scanned), and checking it against the bindings the app has (plain data the front end supplies)
finds unknown ids, names that are not keys, and keys that clash on one screen. Each problem is
one line, "config.toml:12: unknown key id 'board.mvoe_right'"; its entry is left out and the
rest apply (the app still starts)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TABLE = "keymap"
EXAMPLE = '"ctrl+l" or "ctrl+l,L"'


@dataclass(frozen=True)
class KeymapEntry:
    id: str
    keys: tuple[str, ...] | None  # as written; None: not a string of keys
    where: str  # "config.toml:12" (the path and line), or the path alone


@dataclass(frozen=True)
class Bound:
    """A binding as the check sees it."""

    id: str | None  # None: a key of Textual's own, not ours to rebind
    keys: tuple[str, ...]  # Textual's names ("question_mark"), the defaults
    description: str


@dataclass(frozen=True)
class Level:
    """Bindings that answer together: a screen with the app's keys, a dialog, a widget."""

    name: str
    bindings: tuple[Bound, ...]


@dataclass(frozen=True)
class KeymapCheck:
    keymap: dict[str, str]  # what applies: id -> "key,key" (Textual's names)
    problems: list[str]  # one line each, file and line first


# --- reading ------------------------------------------------------------------------------------

_PART = r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)"""
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]\s*(?:#.*)?$")
_ENTRY = re.compile(rf"^\s*({_DOTTED})\s*=")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in re.findall(_PART, dotted))


def entry_lines(text: str) -> dict[str, int]:
    """Line number (from 1) of each id in the keymap table, under `[keymap]`, `[keymap.x]` or
    as `keymap.x.y = ...`; the table's own line under the key ""."""
    lines: dict[str, int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        if header := _HEADER.match(line):
            table = _parts(header.group(1))
            if table[:1] == (TABLE,):
                lines.setdefault(".".join(table[1:]), number)
            continue
        if line.lstrip().startswith("[["):
            table = ()  # an array of tables: not ours
            continue
        if entry := _ENTRY.match(line):
            path = table + _parts(entry.group(1))
            if path[:1] == (TABLE,):
                lines.setdefault(".".join(path[1:]), number)
    return lines


def _flatten(table: Mapping[str, object], prefix: str = "") -> Iterator[tuple[str, object]]:
    for name, value in table.items():
        full = f"{prefix}.{name}" if prefix else name
        if isinstance(value, Mapping):
            yield from _flatten(value, full)
        else:
            yield full, value


def _keys(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        keys = tuple(k.strip() for k in value.split(","))
    elif isinstance(value, list) and all(isinstance(k, str) for k in value):
        keys = tuple(k.strip() for k in value)
    else:
        return None
    return keys if keys and all(keys) else None


def read_entries(table: Mapping[str, object], path: Path) -> list[KeymapEntry]:
    """The table's entries (nested tables flattened to dotted ids), each with where it is."""
    try:
        lines = entry_lines(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        lines = {}  # no file (the keymap came from the environment): the path alone

    def where(binding_id: str) -> str:
        line = lines.get(binding_id) or lines.get("")
        return f"{path}:{line}" if line else str(path)

    return [KeymapEntry(i, _keys(value), where(i)) for i, value in _flatten(table)]


# --- checking -----------------------------------------------------------------------------------


def _name(bound: Bound) -> str:
    return repr(bound.id) if bound.id else f"Textual's {bound.description or 'key'!r}"


def check_keymap(
    entries: Sequence[KeymapEntry],
    levels: Sequence[Level],
    *,
    normalize: Callable[[str], str],
    is_key: Callable[[str], bool],
) -> KeymapCheck:
    """What of `entries` applies, and why the rest does not."""
    known = sorted({b.id for level in levels for b in level.bindings if b.id})
    problems: list[str] = []
    accepted: dict[str, tuple[KeymapEntry, tuple[str, ...]]] = {}
    for entry in entries:
        if entry.id not in known:
            close = difflib.get_close_matches(entry.id, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{entry.where}: unknown key id {entry.id!r}{hint}")
        elif entry.keys is None:
            problems.append(f"{entry.where}: {entry.id!r}: give the keys as text, e.g. {EXAMPLE}")
        elif bad := [k for k in entry.keys if not is_key(k)]:
            problems.append(f"{entry.where}: {entry.id!r}: {bad[0]!r} is not a key name")
        else:
            accepted[entry.id] = (entry, tuple(dict.fromkeys(normalize(k) for k in entry.keys)))
    reported: set[tuple[str, str]] = set()
    while clashes := _clashes(accepted, levels):
        for binding_id, key, other, level in clashes:
            if binding_id not in accepted:
                continue
            entry = accepted[binding_id][0]
            if (binding_id, key) not in reported:
                reported.add((binding_id, key))
                if other.id in accepted:
                    why = f"also given to {other.id!r} ({accepted[other.id][0].where})"
                    fate = "both ignored"
                else:
                    why = f"already {_name(other)} ({other.description})"
                    fate = "ignored"
                problems.append(
                    f"{entry.where}: {key!r} for {binding_id!r} is {why} on {level}; {fate}"
                )
        for binding_id, *_ in clashes:
            accepted.pop(binding_id, None)
    keymap = {binding_id: ",".join(keys) for binding_id, (_, keys) in accepted.items()}
    return KeymapCheck(keymap, problems)


def _clashes(
    accepted: Mapping[str, tuple[KeymapEntry, tuple[str, ...]]], levels: Sequence[Level]
) -> list[tuple[str, str, Bound, str]]:
    """(id the keymap moved onto a key, the key, the other binding on it, where) for every
    key two bindings of one level would share once the keymap applies."""
    found = []
    for level in levels:
        owners: dict[str, list[Bound]] = {}
        for bound in level.bindings:
            keys = accepted[bound.id][1] if bound.id in accepted else bound.keys
            for key in keys:
                owners.setdefault(key, []).append(bound)
        for key, bounds in owners.items():
            for bound in bounds:
                # A key the binding has by default is its own: only a newcomer clashes there.
                if bound.id not in accepted or key in bound.keys:
                    continue
                others = [b for b in bounds if b is not bound]
                if others:
                    found.append((bound.id, key, others[0], level.name))
    return found
