"""Rich renderables that fit any width without breaking a word: labelled facts (a profile's,
a deal's) and one-line events (a deal's history). What does not fit is cut with "…"; where a
layout side by side would cut what matters, the lines stack instead."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from ..ui.display import visible

STACK_INDENT = 2  # a value under its label (when it does not fit beside it) is indented this much


class Facts:
    """Labelled values, a label beside its value where the value's longest word fits there,
    else the label on a line of its own and the value under it, indented (a long email in a
    narrow column). Values wrap between words only; a word longer than the whole width ends
    in "…" (never folded mid-word)."""

    def __init__(self, rows: Iterable[tuple[str, Text]], *, gap: int = 1) -> None:
        self.rows = list(rows)
        self.gap = gap

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        label_width = max((cell_len(label) for label, _ in self.rows), default=0)
        beside = width - label_width - self.gap
        under = max(1, width - STACK_INDENT)
        for label, value in self.rows:
            if beside > 0 and beside >= min(_longest_word(value), under):
                for i, line in enumerate(_wrapped(value, beside, console)):
                    head = (label if i == 0 else "").ljust(label_width + self.gap)
                    yield _line(Text(head, style="dim"), line)
            else:  # stacked: the value gets the whole width but the indent
                yield _line(Text(label, style="dim"))
                for line in _wrapped(value, under, console):
                    yield _line(Text(" " * STACK_INDENT), line)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(options.max_width, 10), options.max_width)


def _longest_word(text: Text) -> int:
    return max((cell_len(word) for word in text.plain.split()), default=0)


def _wrapped(value: Text, width: int, console: Console) -> list[Text]:
    """`value` wrapped between words to `width`; a longer word is cut with "…"."""
    return list(value.wrap(console, width, overflow="ellipsis")) or [Text("")]


def _line(*parts: Text) -> Text:
    return Text.assemble(*parts, no_wrap=True, overflow="ellipsis", end="\n")


class Events:
    """Rows of (when, what, who): one line each, `what` cut with "…", while `what` has at
    least `min_what` columns beside the others; narrower, `when · who` on one line and `what`
    under it, indented (so a stage move's `from → to` still shows at 80 columns)."""

    def __init__(self, rows: Iterable[tuple[str, Text, str]], *, min_what: int = 32) -> None:
        self.rows = list(rows)
        self.min_what = min_what

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        when_width = max((cell_len(when) for when, _, _ in self.rows), default=0)
        who_width = max((cell_len(who) for _, _, who in self.rows), default=0)
        beside = width - when_width - 1 - (who_width + 1 if who_width else 0)
        for raw_when, what, raw_who in self.rows:
            when, who = visible(raw_when), visible(raw_who)
            if beside >= self.min_what:
                cut = what.copy()
                cut.truncate(beside, overflow="ellipsis", pad=True)
                tail = (" " + who.ljust(who_width)) if who_width else ""
                yield _line(
                    Text(when.ljust(when_width) + " ", style="dim"), cut, Text(tail, style="dim")
                )
            else:
                yield _line(Text(when + (f" · {who}" if who else ""), style="dim"))
                yield _line(Text(" " * STACK_INDENT), what)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(options.max_width, 10), options.max_width)
