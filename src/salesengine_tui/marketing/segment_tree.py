"""Editing a segment as rows: the builder's view of a definition, and the edits it makes.

The builder always holds a root group (a single condition is a group of one). A row is either
a group's heading ("Match ALL of" / "ANY of") or a condition; its `path` is the list of item
indexes from the root. Edits return a new definition (definitions are immutable), tidied so
empty groups disappear and a group of one inside another is flattened into its parent.
"""

from __future__ import annotations

from dataclasses import dataclass

from .segments import Condition, Definition, Group

Path = tuple[int, ...]
EMPTY = Group("and", ())


@dataclass(frozen=True)
class Row:
    path: Path
    depth: int
    item: Condition | Group

    @property
    def is_group(self) -> bool:
        return isinstance(self.item, Group)


def as_root(definition: Definition | None) -> Group:
    if definition is None:
        return EMPTY
    return definition if isinstance(definition, Group) else Group("and", (definition,))


def rows(root: Group) -> list[Row]:
    """Root heading first, then every item depth-first."""
    out = [Row((), 0, root)]

    def walk(group: Group, path: Path, depth: int) -> None:
        for i, item in enumerate(group.items):
            out.append(Row((*path, i), depth, item))
            if isinstance(item, Group):
                walk(item, (*path, i), depth + 1)

    walk(root, (), 1)
    return out


def _get(root: Group, path: Path) -> Condition | Group:
    item: Condition | Group = root
    for i in path:
        assert isinstance(item, Group)
        item = item.items[i]
    return item


def _replace_at(group: Group, path: Path, new: Condition | Group | None) -> Group:
    """`group` with the item at `path` replaced (None: removed)."""
    head, rest = path[0], path[1:]
    items = list(group.items)
    if rest:
        child = items[head]
        assert isinstance(child, Group)
        items[head] = _replace_at(child, rest, new)
    elif new is None:
        del items[head]
    else:
        items[head] = new
    return Group(group.join, tuple(items))


def tidy(group: Group, *, root: bool = True) -> Group:
    items: list[Condition | Group] = []
    for item in group.items:
        if isinstance(item, Group):
            inner = tidy(item, root=False)
            if not inner.items:
                continue
            if len(inner.items) == 1 or inner.join == group.join:
                items.extend(inner.items)  # same meaning without the brackets
                continue
            items.append(inner)
        else:
            items.append(item)
    return Group(group.join, tuple(items))


def definition_of(root: Group) -> Definition | None:
    """What gets compiled and saved: None when there are no conditions yet."""
    root = tidy(root)
    if not root.items:
        return None
    return root.items[0] if len(root.items) == 1 else root


def insert(root: Group, at: Path, item: Condition | Group) -> tuple[Group, Path]:
    """Add `item` after the row at `at` (into a heading's group: at its end); returns the new
    root and the new item's path."""
    target = _get(root, at)
    if isinstance(target, Group):
        group_path, index = at, len(target.items)
    else:
        group_path, index = at[:-1], at[-1] + 1
    group = _get(root, group_path)
    assert isinstance(group, Group)
    items = list(group.items)
    items.insert(index, item)
    new_group = Group(group.join, tuple(items))
    new_root = new_group if not group_path else _replace_at(root, group_path, new_group)
    return new_root, (*group_path, index)


def replace(root: Group, at: Path, item: Condition) -> Group:
    return _replace_at(root, at, item) if at else root


def remove(root: Group, at: Path) -> Group:
    """Remove a condition or a whole group; removing the root heading clears everything."""
    if not at:
        return Group(root.join, ())
    return tidy(_replace_at(root, at, None))


def toggle_join(root: Group, at: Path) -> Group:
    """Switch AND/OR of the group a row belongs to (a heading: its own group)."""
    target = _get(root, at)
    group_path = at if isinstance(target, Group) else at[:-1]
    group = _get(root, group_path)
    assert isinstance(group, Group)
    flipped = Group("or" if group.join == "and" else "and", group.items)
    return flipped if not group_path else _replace_at(root, group_path, flipped)


def new_group(root: Group, at: Path, first: Condition) -> tuple[Group, Path]:
    """A sub-group (joined the other way from its parent) holding `first`, after the row."""
    target = _get(root, at)
    parent = target if isinstance(target, Group) else _get(root, at[:-1])
    assert isinstance(parent, Group)
    join = "or" if parent.join == "and" else "and"
    new_root, path = insert(root, at, Group(join, (first,)))
    return new_root, (*path, 0)
