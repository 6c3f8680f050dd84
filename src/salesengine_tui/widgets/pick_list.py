"""The option list every picker uses: `j`/`k` move like down/up, and typing jumps (type-ahead):
letters typed in a row go to the first option that starts with them, else the first that
contains them ("last" reaches `last_service` at once). A pause of a second starts over. The
keys are the list's own, so only a list with the focus takes them: a filter box beside it
still gets every letter typed into it."""

from __future__ import annotations

import time
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import OptionList

TYPE_AHEAD_PAUSE = 1.0  # seconds without a key after which typing starts a new search


class PickList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("k", "cursor_up", "Up", show=False, id="list.up"),
    ]

    def __init__(self, *args: object, type_ahead: bool = True, **kwargs: object) -> None:
        """`type_ahead=False` where the screen's letters are its own keys (j/k still move)."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.type_ahead = type_ahead
        self._typed = ""
        self._typed_at = 0.0

    def on_key(self, event: events.Key) -> None:
        if not self.type_ahead:
            return
        char = event.character or ""
        if len(char) != 1 or not char.isprintable():
            return
        now = time.monotonic()
        if now - self._typed_at > TYPE_AHEAD_PAUSE:
            self._typed = ""
        if not self._typed and (not char.isalnum() or event.key in ("j", "k")):
            return  # j/k move (their bindings); a search starts with a letter or digit
        self._typed_at = now
        event.stop()
        event.prevent_default()
        found = self.find(self._typed + char)
        if found is None and self._typed:  # no option has both: a new search from this one
            found = self.find(char)
            self._typed = ""
        if found is not None:
            self._typed += char
            self.highlighted = found

    def find(self, typed: str) -> int | None:
        """The first option (not disabled) starting with `typed`, else the first containing it,
        ignoring case; None when none does."""
        typed = typed.casefold()
        labels = [
            (i, str(option.prompt).casefold())
            for i, option in enumerate(self.options)
            if not option.disabled
        ]
        starts = (i for i, label in labels if label.startswith(typed))
        contains = (i for i, label in labels if typed in label)
        return next(starts, next(contains, None))
