"""The footer of every section: Textual's, but it never cuts a key in half at the edge. When the
keys do not all fit, the least needed leave the footer (each stays in `?` and the palette):
the section's Refresh first, then the screen's keys from its last, then Search. `? Keys` and
`q Quit` always stay."""

from __future__ import annotations

from rich.cells import cell_len
from textual.widget import Widget
from textual.widgets import Footer

KEEP = frozenset({"help", "quit"})  # the app's actions that never leave
FIRST_TO_GO = ("refresh",)
LAST_TO_GO = ("search",)


def _action(key: Widget) -> str:
    return str(getattr(key, "action", ""))


class AppFooter(Footer):
    def _width(self, key: Widget) -> int:
        # FooterKey draws " key desc " (compact: "key desc" and a margin): see its CSS.
        text = cell_len(str(getattr(key, "key_display", ""))) + cell_len(
            str(getattr(key, "description", ""))
        )
        return text + (2 if self.compact else 3)

    def _drop_order(self, keys: list[Widget]) -> list[Widget]:
        droppable = [k for k in keys if _action(k) not in KEEP]
        first = [k for k in droppable if _action(k) in FIRST_TO_GO]
        last = [k for k in droppable if _action(k) in LAST_TO_GO]
        middle = [k for k in reversed(droppable) if k not in first and k not in last]
        return first + middle + last

    def fit(self) -> None:
        """Show as many keys as fit the footer's width, in the order above."""
        keys = list(self.query("FooterKey"))
        palette = [k for k in keys if k.has_class("-command-palette")]
        keys = [k for k in keys if k not in palette]
        room = self.size.width - sum(self._width(k) + 1 for k in palette)  # its border
        total = sum(self._width(k) for k in keys)
        hidden: set[Widget] = set()
        for key in self._drop_order(keys):
            if total <= room:
                break
            hidden.add(key)
            total -= self._width(key)
        for key in keys:
            key.display = key not in hidden

    async def recompose(self) -> None:
        await super().recompose()  # the bindings changed: new keys
        self.fit()

    def on_resize(self) -> None:
        self.fit()
