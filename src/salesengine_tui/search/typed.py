"""What a person typed into the search, read once: the number it may be, whether it looks
like a phone number or an email address, whether it has words worth a word search."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..db.text_search import phone_like

MAX_TYPED = 100  # characters kept: enough for any name, email or title
MIN_WORDS = 2  # characters before a word search is worth running ("k" matches everyone)
NUMBER_MAX = 2**63 - 1  # deal and ticket numbers are bigint
# "249", "#249" (a deal or a ticket), "T-1234", "t1234", "T 1234", "#T-1234" (a ticket only)
_NUMBER = re.compile(r"#?\s*(?P<ticket>[tT]\s*-?\s*)?(?P<digits>[0-9]{1,19})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True)
class Typed:
    text: str  # one line, trimmed, spaces collapsed, at most MAX_TYPED characters
    number: int | None = None
    tickets_only: bool = False  # "T-1234" names a ticket, never a deal
    phone: bool = False
    email: bool = False  # has an "@": an address typed from its start
    words: bool = False

    @property
    def empty(self) -> bool:
        return not (self.number is not None or self.phone or self.email or self.words)


def read(text: str) -> Typed:
    """Read what was typed. Control characters are spaces here (a pasted `\\x1b[2J` is the
    words "2J"); nothing typed is ever more than text to compare."""
    clean = " ".join(_CONTROL.sub(" ", text).split())[:MAX_TYPED]
    number, tickets_only = None, False
    if match := _NUMBER.fullmatch(clean):
        value = int(match["digits"])
        if 1 <= value <= NUMBER_MAX:
            number, tickets_only = value, match["ticket"] is not None
    phone = phone_like(clean)
    return Typed(
        text=clean,
        number=number,
        tickets_only=tickets_only,
        phone=phone,
        email="@" in clean,
        # A number or a phone number is looked up as one; words are for names and titles.
        words=len(clean) >= MIN_WORDS and match is None and not phone,
    )
