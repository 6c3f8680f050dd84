"""Reading what providers POST, field by field: the helpers `postmark_events` and
`sendgrid_events` share. Everything here is untrusted input from the internet (even behind
basic auth or a signature): a reader returns a clean value or None, never raises, and never
hands on a control character, an unchecked address or an unbounded string.

A malformed item is skipped with one problem line (`Skip`), so the provider is answered 2xx
and does not retry it for ever; the good items of the same batch still count.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from ..base import validation
from ..base.errors import UserError
from .events import EventKind, InboundReply, Parsed, ProviderEvent
from .outbox import header_safe

DETAIL_MAX = 500
SUBJECT_MAX = 300
NAME_MAX = 200
REPLY_TEXT_MAX = 20_000
HEADER_MAX = 4_000  # In-Reply-To, References: ours are found in the first few ids
TO_MAX = 2_000
TOKEN_MAX = 200  # an id a provider gave (event, message): longer is not one
# A batch of garbage must not become a log of millions of lines: the first few problems are
# kept, and one last line counts the rest.
MAX_PROBLEMS = 20
_ADDRESSES_MAX = 50  # the addresses a reply was sent to that are kept
# A provider's clock may run a little ahead of ours; a time further in the future than this
# is not believed (it would sort first on a timeline for ever): the time received stands in.
FUTURE_SKEW = timedelta(days=1)
# HTML is read only until the reply text is long enough: the rest would be cut anyway.
_HTML_READ_MAX = 20 * REPLY_TEXT_MAX


class Skip(Exception):
    """This item is left out; the message is the problem line's reason ("no email")."""


def clip(text: str, max_len: int) -> str:
    """`text` cut to `max_len` characters, ending with "…" when it was cut."""
    return text if len(text) <= max_len else text[: max_len - 1].rstrip() + "…"


# --- the batch ---------------------------------------------------------------------------------


class Batch:
    """Collects the events and problems of one request; `parsed()` closes it."""

    def __init__(self) -> None:
        self.events: list[ProviderEvent] = []
        self.problems: list[str] = []
        self._more = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self._more += 1

    def read(
        self, items: Iterable[object], read_one: Callable[[object], ProviderEvent | None]
    ) -> None:
        """`read_one` each item (None: ignored on purpose, no problem); a `Skip` becomes
        "item N: <reason>" (N counts from 1)."""
        for number, item in enumerate(items, start=1):
            try:
                event = read_one(item)
            except Skip as skip:
                self.problem(f"item {number}: {skip}")
            except Exception as error:
                self.problem(f"item {number}: could not be read ({type(error).__name__})")
            else:
                if event is not None:
                    self.events.append(event)

    def parsed(self) -> Parsed:
        problems = list(self.problems)
        if self._more:
            problems.append(f"and {self._more:,} more problems")
        return Parsed(events=self.events, problems=problems)


def items_of(payload: object, *, what: str) -> list[object]:
    """The items of a payload that is one object or a list of them; Skip if it is neither."""
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list):
        return payload
    raise Skip(f"not {what} (got {type(payload).__name__})")


def one_item(payload: object, read_one: Callable[[object], ProviderEvent | None]) -> Parsed:
    """A request that carries one item (an inbound email): its event, or its problem."""
    batch = Batch()
    batch.read([payload], read_one)
    return batch.parsed()


# --- fields ------------------------------------------------------------------------------------


def one_line(value: object, max_len: int) -> str | None:
    """A string field on one line: controls gone, runs of spaces one space, cut to `max_len`;
    None when it is not a string or is blank."""
    if not isinstance(value, str):
        return None
    value = value[: max_len * 4]  # a 10 MB "description" is not read whole
    if value.isprintable() and value == value.strip() and "  " not in value:
        cleaned: str | None = value  # already one clean line: the common case, made fast
    else:
        cleaned = header_safe(value)
    return clip(cleaned, max_len) if cleaned else None


def multi_line(value: object, max_len: int) -> str | None:
    """A body of text: line endings as "\\n", tabs and newlines kept, every other hidden
    character left out, trimmed, cut to `max_len`; None when not a string or blank."""
    if not isinstance(value, str):
        return None
    text = value[: max_len * 2].replace("\r\n", "\n").replace("\r", "\n")
    text = validation.without_hidden(text, keep="\n\t").strip()
    return clip(text, max_len) if text else None


def address(value: object) -> str | None:
    """A plausible email address (`base.validation.email`'s rule), or None."""
    if not isinstance(value, str) or len(value) > validation.EMAIL_MAX + 64:
        return None
    try:
        return validation.email(value)
    except UserError:
        return None


def addresses(values: Iterable[object]) -> list[str]:
    """The plausible addresses among `values` (strings like `Name <a@b.c>` or bare
    addresses), each once, in order."""
    found: dict[str, str] = {}  # by the address without case
    for value in values:
        if not isinstance(value, str):
            continue
        for _name, raw in email.utils.getaddresses([value[:TO_MAX]]):
            clean = address(raw)
            if clean and len(found) < _ADDRESSES_MAX:
                found.setdefault(clean.lower(), clean)
    return list(found.values())


_SPACE = re.compile(r"\s")


def token(value: object, max_len: int = TOKEN_MAX) -> str | None:
    """An id a provider gave (a string or a whole number): printable, no spaces, at most
    `max_len` characters; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > max_len or not text.isprintable() or _SPACE.search(text):
        return None
    return text


def outbox_id(value: object) -> uuid.UUID | None:
    """Our `outbox_id` as sent in the metadata or custom args (checked against rows later)."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


# ISO 8601 with up to 7 (or more) fractional digits (Postmark's .NET timestamps): Python reads 6.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def _six_digits(match: re.Match[str]) -> str:
    return match.group(1)


def iso_time(value: object) -> datetime | None:
    """An ISO 8601 time (`2019-11-05T16:33:54.9070259Z`, `...-05:00`); one without a zone is
    read as UTC; None if it is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        when = datetime.fromisoformat(_FRACTION.sub(_six_digits, value.strip()))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


_DIGITS = re.compile(r"[0-9]{1,12}")


def unix_time(value: object) -> datetime | None:
    """Seconds since 1970 (a number, or digits in a string); None if it is not one."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC) if value > 0 else None
    except (OverflowError, OSError, ValueError):  # 1e300, inf, nan
        return None


# "-04:00" is not RFC 5322's "-0400", but Postmark's own inbound example has it (the Date is
# as the sending server wrote it), and the email parser would drop such a zone silently.
_COLON_ZONE = re.compile(r"([+-][0-9]{2}):([0-9]{2})$")


def mail_time(value: object) -> datetime | None:
    """An email's Date header (RFC 5322); one without a zone is read as UTC."""
    if not isinstance(value, str) or len(value) > 200:
        return None
    try:
        when = email.utils.parsedate_to_datetime(_COLON_ZONE.sub(r"\1\2", value.strip()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def believable(when: datetime | None, received_at: datetime) -> datetime:
    """When it happened: the provider's time, or the time received when the provider gave
    none (or one further in the future than a clock's skew)."""
    if when is None or when > received_at + FUTURE_SKEW:
        return received_at
    return when


def received(received_at: datetime | None) -> datetime:
    """When the request came (now if not given; a time without a zone is UTC)."""
    if received_at is None:
        return datetime.now(UTC)
    return received_at if received_at.tzinfo is not None else received_at.replace(tzinfo=UTC)


# --- bodies ------------------------------------------------------------------------------------


class _TextOfHtml(HTMLParser):
    """Crude HTML to text: the character data, a line break at block ends, no scripts or styles."""

    _BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})
    _HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The words of an HTML body, lines kept, blank runs folded."""
    reader = _TextOfHtml()
    try:
        reader.feed(html[:_HTML_READ_MAX])
        reader.close()
    except Exception:
        pass
    lines = (" ".join(line.split()) for line in "".join(reader.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def reply_text(*, stripped: object = None, text: object = None, html: object = None) -> str:
    """What the customer wrote: the provider's stripped reply, else the plain text, else the
    HTML's words; cleaned and cut to REPLY_TEXT_MAX ("" when there is none)."""
    for candidate in (stripped, text):
        clean = multi_line(candidate, REPLY_TEXT_MAX)
        if clean:
            return clean
    if isinstance(html, str):
        return multi_line(html_text(html), REPLY_TEXT_MAX) or ""
    return ""


def message_id_header(value: object) -> str | None:
    """A Message-ID header value (`<id@host>`) usable as a key: one token, bounded."""
    return token(one_line(value, TOKEN_MAX + 1))


def inbound_key(message_id: str | None, *parts: str | None) -> str:
    """A reply's event key: "inbound:" + its message id; without one, a SHA-256 of what it
    says (sender, subject, text), so a replay gives the same key."""
    if message_id:
        return f"inbound:{message_id}"
    digest = hashlib.sha256("\x00".join(p or "" for p in parts).encode("utf-8", "replace"))
    return f"inbound:sha256:{digest.hexdigest()}"


def headers_named(pairs: Iterable[tuple[str, str]], *names: str) -> dict[str, str]:
    """The first value of each header in `names` (matched without case), cleaned to one line."""
    wanted = {name.lower() for name in names}
    found: dict[str, str] = {}
    for name, value in pairs:
        key = name.strip().lower()
        if key in wanted and key not in found:
            clean = one_line(value, HEADER_MAX)
            if clean:
                found[key] = clean
    return found


def replied(
    provider: str,
    *,
    from_email: str,
    from_name: object,
    to: list[str],
    mailbox_hash: str | None,
    subject: object,
    text: str,
    headers: Mapping[str, str],
    message_id: str | None,
    occurred_at: datetime,
) -> ProviderEvent:
    """The `replied` event of an inbound email, whichever provider read it; `headers` are
    `headers_named`'s (lower-case names)."""
    subject_line = one_line(subject, SUBJECT_MAX) or ""
    reply = InboundReply(
        from_email=from_email,
        from_name=one_line(from_name, NAME_MAX),
        to=clip(", ".join(to), TO_MAX) if to else None,
        mailbox_hash=mailbox_hash,
        subject=subject_line,
        text=text,
        in_reply_to=headers.get("in-reply-to"),
        references=headers.get("references"),
    )
    return ProviderEvent(
        provider=provider,
        key=inbound_key(message_id, from_email, subject_line, text),
        kind=EventKind.replied,
        occurred_at=occurred_at,
        email=from_email,
        message_id=message_id,
        detail=subject_line or None,
        reply=reply,
    )
