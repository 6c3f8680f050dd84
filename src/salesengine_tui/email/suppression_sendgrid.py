"""SendGrid's side of the suppression pull: its bounce, spam report and global unsubscribe
lists (`GET /v3/suppression/{list}`), each item an address and when (`created`, Unix time),
asked between two Unix times (both inclusive), 500 a page.

Group unsubscribes (`/v3/asm/...`) are not pulled: SalesEngine sends no unsubscribe groups, so
SendGrid keeps none for its mail (its Event Webhook's `group_unsubscribe` is still read).
"""

from __future__ import annotations

from . import event_fields as f
from .events import EventKind, ProviderEvent
from .suppression_pull import Feed, FeedFailed, Fetched, Getter, Window, pages

PAGE = 500
PROVIDER = "sendgrid"

# list -> what an item on it means here
LISTS = {
    "bounces": EventKind.bounced,  # SendGrid lists an address here once it stops sending to it
    "spam_reports": EventKind.complained,
    "unsubscribes": EventKind.unsubscribed,
}


def feeds(get: Getter) -> list[Feed]:
    return [SuppressionList(get, name) for name in LISTS]


class SuppressionList:
    provider = PROVIDER

    def __init__(self, get: Getter, name: str) -> None:
        self.get = get
        self.name = name
        self.label = f"sendgrid {name.replace('_', ' ')}"
        self.kind = LISTS[name]

    def fetch(self, window: Window) -> Fetched:
        params: dict[str, str | int] = {"end_time": int(window.until.timestamp()), "limit": PAGE}
        if window.since is not None:
            params["start_time"] = int(window.since.timestamp())

        def page(offset: int) -> list[object]:
            answer = self.get(f"/v3/suppression/{self.name}", {**params, "offset": offset})
            if not isinstance(answer, list):
                raise FeedFailed(f"SendGrid's {self.name} answer is not a list")
            return answer

        fetched = Fetched()
        for item in pages(page, PAGE):
            event = self._event(item)
            if event is None:
                fetched.problems.append("an item without an email or a created time")
            else:
                fetched.add(event)
        return fetched

    def _event(self, item: object) -> ProviderEvent | None:
        if not isinstance(item, dict):
            return None
        address, created = f.address(item.get("email")), item.get("created")
        at = f.unix_time(created)
        if address is None or at is None:
            return None
        words = " ".join(
            w for w in (f.one_line(item.get(k), f.DETAIL_MAX) for k in ("status", "reason")) if w
        )
        return ProviderEvent(
            provider=PROVIDER,
            # An item has no id: the list, the address and when identify it.
            key=f"pull:{self.name}:{address.lower()}:{int(at.timestamp())}",
            kind=self.kind,
            occurred_at=at,
            email=address,
            detail=f.clip(words, f.DETAIL_MAX) if words else None,
        )
