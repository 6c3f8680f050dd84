"""The suppression pull, for sites the providers' webhooks cannot reach: each feed (Postmark's
bounces and each stream's suppressions; SendGrid's bounces, spam reports and unsubscribes) is
read since its mark in `email_sync_marks` and turned into `ProviderEvent`s, which
`events.record` stores once and applies like a webhook's.

The HTTP side is here and in `suppression_postmark` / `suppression_sendgrid`, and holds no
database transaction; the use case (`usecases.jobs.Jobs.suppressions`) reads the mark, calls
`Feed.fetch`, then stores the events and the new mark in one transaction per feed. A feed that
fails keeps its mark (the next run asks again from the same point); replays are harmless, so
each request asks from a little before the mark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from ..base.settings import Settings
from ..db.models.outreach import EmailSyncMark
from .events import ProviderEvent
from .providers import PostmarkProvider, SendGridProvider, _reason
from .sender import make_provider

if TYPE_CHECKING:
    import httpx

# Each request asks from this long before the mark: an item the provider lists a little late
# (or a clock a little off) is still read; one read twice is stored once.
OVERLAP = timedelta(minutes=10)


class FeedFailed(Exception):
    """The feed could not be read this time (credentials refused, the provider busy or
    down, an answer that cannot be read); its mark stays where it was."""


@dataclass(frozen=True)
class Window:
    since: datetime | None  # None: everything the provider keeps (the first pull)
    until: datetime  # the pull's start: the end of what is asked


@dataclass
class Fetched:
    events: dict[str, ProviderEvent] = field(default_factory=dict)  # by key: a page read
    newest: datetime | None = None  # twice (the list moved) gives each event once
    problems: list[str] = field(default_factory=list)  # items left out, and why

    def add(self, event: ProviderEvent) -> None:
        self.events[event.key] = event
        if self.newest is None or event.occurred_at > self.newest:
            self.newest = event.occurred_at


class Feed(Protocol):
    provider: str  # "postmark" | "sendgrid": the events' provider and the mark's
    name: str  # the mark's feed: "bounces", "suppressions:outbound", "spam_reports", ...
    label: str  # what the report calls it: "postmark bounces"

    def fetch(self, window: Window) -> Fetched: ...


@dataclass
class FeedReport:
    """What one feed's pull did, as the job's counts keep it."""

    label: str
    received: int = 0
    new: int = 0
    suppressed: int = 0
    opted_out: int = 0
    unreadable: int = 0  # items the provider listed that could not be read (left out)
    synced_until: datetime | None = None
    error: str | None = None


# --- HTTP ---------------------------------------------------------------------------------------


class Getter:
    """GETs a provider's JSON over the client the sender uses for it (its base URL, key and
    timeouts); every failure is a `FeedFailed` naming the provider, never the key."""

    def __init__(self, client: httpx.Client, provider: str, secret: str) -> None:
        self.client = client
        self.provider = provider  # "Postmark", "SendGrid": as people write it
        self.secret = secret

    def __call__(self, path: str, params: dict[str, str | int]) -> object:
        import httpx

        try:
            response = self.client.get(path, params=params)
        except httpx.TimeoutException:
            raise FeedFailed(self._later(f"{self.provider} did not answer in time")) from None
        except httpx.TransportError as exc:
            reason = f"cannot reach {self.provider} ({type(exc).__name__})"
            raise FeedFailed(self._later(reason)) from None
        status, words = response.status_code, _reason(response)
        if status in (401, 403):
            raise FeedFailed(self._clean(f"{self.provider} refused the API key ({words})"))
        if status == 429 or status >= 500:
            raise FeedFailed(self._later(f"{self.provider}: {words}"))
        if status != 200:
            raise FeedFailed(self._clean(f"{self.provider} refused the request ({words})"))
        try:
            return response.json()
        except ValueError:
            raise FeedFailed(f"{self.provider} answered 200 without JSON") from None

    def _later(self, reason: str) -> str:
        return self._clean(reason) + "; the next run asks again"

    def _clean(self, text: str) -> str:
        # A provider that echoed the key back (none is known to) still never shows it.
        return text.replace(self.secret, "[key]") if self.secret else text


def pages(get_page: Callable[[int], list[object]], size: int) -> Iterator[object]:
    """Every item of an offset-paged list: pages of `size` until a short one."""
    offset = 0
    while True:
        page = get_page(offset)
        yield from page
        if len(page) < size:
            return
        offset += size


# --- which feeds ---------------------------------------------------------------------------------


@dataclass
class Feeds:
    """The configured provider's feeds and the client they share (closed by `close`)."""

    feeds: list[Feed]
    close: Callable[[], None]


def open_feeds(settings: Settings) -> Feeds:
    """The feeds of the configured provider: none for the file provider. A missing key is the
    sender's clear error (`make_provider`)."""
    from . import suppression_postmark, suppression_sendgrid

    provider = make_provider(settings)
    if isinstance(provider, PostmarkProvider):
        token = settings.postmark_server_token
        get = Getter(provider.client, "Postmark", token.get_secret_value() if token else "")
        return Feeds(suppression_postmark.feeds(get, settings), provider.close)
    if isinstance(provider, SendGridProvider):
        key = settings.sendgrid_api_key
        get = Getter(provider.client, "SendGrid", key.get_secret_value() if key else "")
        return Feeds(suppression_sendgrid.feeds(get), provider.close)
    provider.close()
    return Feeds([], lambda: None)


# --- marks ---------------------------------------------------------------------------------------


def mark(session: Session, feed: Feed) -> datetime | None:
    """How far this feed has been read (None: never)."""
    return session.execute(
        sa.select(EmailSyncMark.synced_until).where(
            EmailSyncMark.provider == feed.provider, EmailSyncMark.feed == feed.name
        )
    ).scalar_one_or_none()


def window(synced_until: datetime | None, now: datetime) -> Window:
    return Window(None if synced_until is None else synced_until - OVERLAP, now)


def advance(session: Session, feed: Feed, until: datetime, *, now: datetime) -> datetime:
    """Moves the feed's mark to `until`, never back (a replayed, older window); returns it."""
    table = EmailSyncMark.__table__
    statement = insert(table).values(
        provider=feed.provider, feed=feed.name, synced_until=until, synced_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.provider, table.c.feed],
        set_={
            "synced_until": sa.func.greatest(table.c.synced_until, statement.excluded.synced_until),
            "synced_at": statement.excluded.synced_at,
        },
    ).returning(table.c.synced_until)
    return session.execute(statement).scalar_one()


def new_mark(fetched: Fetched, asked: Window) -> datetime:
    """Where the mark goes after a feed was read whole: the newest item seen, or the end of
    what was asked when nothing was listed. Never past the end asked (an item dated in the
    future by a provider's clock would make the next pull skip what comes before it)."""
    return min(fetched.newest or asked.until, asked.until)
