"""A blast's outcomes as one short line, `✓ 1,204 ✗ 12 ⚑ 3 ⊘ 9` (or, in a narrow table
column, `✓1,204 ✗12 ⚑3 ⊘9`), and the legend that goes with it: each count behind its own mark
(colour adds to the mark, never replaces it); a blast nothing came back for yet shows "—" for
each, not zeros."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from ..marketing.blast_outcomes import BlastOutcomes
from ..ui.display import number

# Mark, legend word and colour (one of the 16 ANSI colours, as the dashboard's) by outcome.
MARKS = (
    ("delivered", "✓", "delivered", "#55ff55"),
    ("bounced", "✗", "bounced", "#ff5555"),
    ("complained", "⚑", "spam", "#ffff55"),
    ("unsubscribed", "⊘", "opted out", "#55ffff"),
)
# 40 cells: the dashboard's narrow column holds it whole (and "— nothing yet" on a line of its own).
LEGEND = " ".join(f"{mark} {word}" for _, mark, word, _ in MARKS)
NOTHING_YET = "—"
LEGEND_IN_FULL = f"{LEGEND}, {NOTHING_YET} nothing yet"


def counts(outcomes: BlastOutcomes) -> list[str]:
    """The four counts as shown ("—" each when nothing came back)."""
    if not outcomes.heard:
        return [NOTHING_YET] * len(MARKS)
    return [number(getattr(outcomes, name)) for name, *_ in MARKS]


def widths(shown: Sequence[BlastOutcomes]) -> list[int]:
    """Each count's width over the blasts `shown`: their lines line up one under another."""
    out = [1] * len(MARKS)
    for outcomes in shown:
        out = [max(w, len(c)) for w, c in zip(out, counts(outcomes), strict=True)]
    return out


def outcome_text(
    outcomes: BlastOutcomes, aligned: Sequence[int] | None = None, *, compact: bool = False
) -> Text:
    """`✓ 1,204 ✗ 12 ⚑ 3 ⊘ 9` (`compact`: `✓1,204 ✗12 ⚑3 ⊘9`); with `aligned` (from
    `widths`) each count padded to its width, so lines of several blasts line up."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    gap = "" if compact else " "
    for i, ((_, mark, _, colour), count) in enumerate(zip(MARKS, counts(outcomes), strict=True)):
        if i:
            text.append(" " + gap)
        style = colour if outcomes.heard and count != "0" else "dim"
        shown = count.rjust(aligned[i]) if aligned else count
        text.append(f"{mark}{gap}{shown}", style=style)
    return text
