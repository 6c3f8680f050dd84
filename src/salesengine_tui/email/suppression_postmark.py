"""Postmark's side of the suppression pull: its bounces (`GET /bounces`) and each message
stream's suppression list (`GET /message-streams/{stream}/suppressions/dump`).

Both are read by the webhook parser (`postmark_events`), so a pulled bounce is the webhook's
(same key, `bounce:<ID>`: stored once whichever came first, and the same rules) and a listed
suppression is the SubscriptionChange that made it. One difference: the bounce list says
whether the address is inactive now, so a hard bounce Postmark has since reactivated is only
recorded (the pull never sees the reactivation itself).

Postmark reads the dates in a query as US Eastern time, and lists bounces newest first, at
most 500 a page and 10,000 deep (count + offset); past that the window's end moves to the
oldest bounce read and paging starts again. The dump has no paging and filters by whole
dates, so it is asked from the day before the mark's (a day read twice stores nothing twice).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ..base.settings import Settings
from . import postmark_events
from .events import EventKind, ProviderEvent
from .suppression_pull import Feed, FeedFailed, Fetched, Getter, Window

EASTERN = ZoneInfo("America/New_York")
PAGE = 500
DEEPEST = 10_000  # Postmark refuses count + offset above this
PROVIDER = "postmark"
_SUPPRESSING = (EventKind.bounced, EventKind.dropped)


def feeds(get: Getter, settings: Settings) -> list[Feed]:
    streams = dict.fromkeys([settings.postmark_stream, settings.postmark_broadcast_stream])
    return [Bounces(get), *(Suppressions(get, stream) for stream in streams)]


def eastern(moment: datetime) -> str:
    """A moment as Postmark's query reads it: Eastern wall-clock time, no offset."""
    return moment.astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M:%S")


def listed(items: object, name: str) -> list[object]:
    answer = items.get(name) if isinstance(items, dict) else None
    if not isinstance(answer, list):
        raise FeedFailed(f"Postmark's answer has no {name} list")
    return answer


class Bounces:
    """Every bounce since the mark, newest first."""

    provider = PROVIDER
    name = "bounces"
    label = "postmark bounces"

    def __init__(self, get: Getter) -> None:
        self.get = get

    def fetch(self, window: Window) -> Fetched:
        fetched = Fetched()
        until = window.until
        while True:
            oldest = self._read(fetched, window, until)
            if oldest is None:
                return fetched
            # The next 10,000 end at the oldest read (its second included: read twice, stored
            # once); 10,000 bounces in one second could not be paged past.
            if oldest + timedelta(seconds=1) >= until:
                raise FeedFailed("Postmark lists more bounces at one moment than it pages")
            until = oldest + timedelta(seconds=1)

    def _read(self, fetched: Fetched, window: Window, until: datetime) -> datetime | None:
        """One window, page by page until a short one; returns the oldest bounce read when
        the window goes deeper than Postmark pages, else None."""
        params: dict[str, str | int] = {"count": PAGE, "todate": eastern(until)}
        if window.since is not None:
            params["fromdate"] = eastern(window.since)
        oldest, offset = None, 0
        while offset + PAGE <= DEEPEST:
            items = listed(self.get("/bounces", {**params, "offset": offset}), "Bounces")
            for event in bounces(items, fetched, window.until):
                oldest = event.occurred_at if oldest is None else min(oldest, event.occurred_at)
            if len(items) < PAGE:
                return None
            offset += PAGE
        return oldest


def bounces(items: list[object], fetched: Fetched, now: datetime) -> list[ProviderEvent]:
    """A page of the bounce list read as the Bounce webhook's records (a spam complaint is
    a bounce record whose Type says so), added to `fetched`."""
    records = [
        {**item, "RecordType": _record_type(item)} if isinstance(item, dict) else item
        for item in items
    ]
    parsed = postmark_events.parse_webhook(records, received_at=now)
    inactive = {
        postmark_events.bounce_key(str(item.get("ID"))): item.get("Inactive")
        for item in items
        if isinstance(item, dict)
    }
    events = []
    for event in parsed.events:
        if event.kind in _SUPPRESSING and inactive.get(event.key) is False:
            event = dataclasses.replace(event, kind=EventKind.soft_bounced)
        fetched.add(event)
        events.append(event)
    fetched.problems.extend(parsed.problems)
    return events


def _record_type(item: dict) -> str:
    return "SpamComplaint" if item.get("Type") == "SpamComplaint" else "Bounce"


class Suppressions:
    """One message stream's suppression list since the day before the mark's."""

    provider = PROVIDER

    def __init__(self, get: Getter, stream: str) -> None:
        self.get = get
        self.stream = stream
        self.name = f"suppressions:{stream}"
        self.label = f"postmark suppressions ({stream})"

    def fetch(self, window: Window) -> Fetched:
        params: dict[str, str | int] = {}
        if window.since is not None:
            day = window.since.astimezone(EASTERN).date() - timedelta(days=1)
            params["fromdate"] = day.isoformat()
        path = f"/message-streams/{quote(self.stream, safe='')}/suppressions/dump"
        items = listed(self.get(path, params), "Suppressions")
        # Each is the SubscriptionChange that suppressed the address, as its webhook says it.
        records = [
            {
                "RecordType": "SubscriptionChange",
                "Recipient": item.get("EmailAddress"),
                "SuppressSending": True,
                "SuppressionReason": item.get("SuppressionReason"),
                "Origin": item.get("Origin"),
                "ChangedAt": item.get("CreatedAt"),
                "MessageStream": self.stream,
            }
            if isinstance(item, dict)
            else item
            for item in items
        ]
        parsed = postmark_events.parse_webhook(records, received_at=window.until)
        fetched = Fetched(problems=parsed.problems)
        for event in parsed.events:
            fetched.add(event)
        return fetched
