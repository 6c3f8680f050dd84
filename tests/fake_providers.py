"""A real HTTP server on loopback that speaks SendGrid's and Postmark's send APIs, records every
request it receives, and answers as scripted (success, 429 with Retry-After, 500, 401, 413 with
an HTML page, a Postmark batch with mixed results).

It also serves the lists the suppression pull reads, from data a test puts in: Postmark's
`GET /bounces` (newest first, paged by count and offset, dates read as US Eastern time) and
`GET /message-streams/{stream}/suppressions/dump`, and SendGrid's
`GET /v3/suppression/{bounces|spam_reports|unsubscribes}` (Unix times, limit and offset).
A GET answer can be scripted per path (`answer_get`); `token` makes every GET ask for it."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")  # how Postmark reads the dates in a query
POSTMARK_DEEPEST = 10_000  # Postmark refuses count + offset above this
POSTMARK_NO_TOKEN = "Request does not contain a valid Server token."


class _QuietServer(ThreadingHTTPServer):
    """A client that went away (a sender killed mid-request, on purpose) is not an error: the
    default handler would print a traceback into whichever test's stderr is captured then."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: object
    method: str = "POST"
    query: dict[str, str] = field(default_factory=dict)  # a GET's


@dataclass
class Scripted:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # None: the default answer for the request, after `delay`
    delay: float = 0.0


class FakeProviders:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: deque[Scripted] = deque()
        self.inactive: set[str] = set()  # Postmark answers 406 for these addresses
        # How many times each message (by outbox id) was accepted: what a recipient receives.
        self.accepted: Counter[str] = Counter()
        # What the suppression lists hold (tests put items in): Postmark's bounces
        # ({"ID", "Type", "Email", "BouncedAt", "Inactive", ...}) and suppressions per stream
        # ({"EmailAddress", "SuppressionReason", "Origin", "CreatedAt"}); SendGrid's lists
        # by name ({"email", "created", ...}).
        self.postmark_bounces: list[dict[str, object]] = []
        self.postmark_suppressions: dict[str, list[dict[str, object]]] = {}
        self.sendgrid_lists: dict[str, list[dict[str, object]]] = {}
        self.get_script: dict[str, deque[Scripted]] = {}
        self.token: str | None = None  # when set, a GET without it gets the provider's 401
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)  # notified as each request is recorded
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                with fake.lock:
                    fake.received.append(Received(self.path, dict(self.headers), body))
                    fake.arrived.notify_all()
                    scripted = fake.script.popleft() if fake.script else None
                if scripted is not None and scripted.delay:
                    time.sleep(scripted.delay)
                if scripted is None or scripted.body is None:
                    default = fake.default(self.path, body)
                    scripted = (
                        default
                        if scripted is None
                        else Scripted(
                            scripted.status, {**default.headers, **scripted.headers}, default.body
                        )
                    )
                with fake.lock:
                    fake.accepted.update(accepted_ids(self.path, body, scripted))
                self.reply(scripted)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                path, query = unquote(url.path), dict(parse_qsl(url.query))
                with fake.lock:
                    fake.received.append(
                        Received(path, dict(self.headers), None, method="GET", query=query)
                    )
                    fake.arrived.notify_all()
                    waiting = fake.get_script.get(path)
                    scripted = waiting.popleft() if waiting else None
                if scripted is not None and scripted.delay:  # a slow provider, as for a POST
                    time.sleep(scripted.delay)
                if scripted is None or scripted.body is None:
                    default = fake.default_get(path, query, self.headers)
                    if scripted is not None:
                        default = Scripted(scripted.status, default.headers, default.body)
                    scripted = default
                self.reply(scripted)

            def reply(self, scripted: Scripted) -> None:
                self.send_response(scripted.status)
                for name, value in scripted.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(scripted.body or b"")))
                self.end_headers()
                self.wfile.write(scripted.body or b"")

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        # A scripted slow answer must not hold the test up at shutdown.
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def default(self, path: str, body: object) -> Scripted:
        if path == "/v3/mail/send":
            return Scripted(202, {"X-Message-Id": f"sg-{len(self.received)}"}, b"")
        if path == "/email/batch" and isinstance(body, list):
            results = []
            for i, message in enumerate(body):
                to = message["To"].split("<")[-1].rstrip(">")
                if to in self.inactive:
                    results.append({"ErrorCode": 406, "Message": "Inactive recipient", "To": to})
                else:
                    results.append(
                        {
                            "ErrorCode": 0,
                            "Message": "OK",
                            "MessageID": f"pm-{len(self.received)}-{i}",
                            "To": to,
                        }
                    )
            return Scripted(200, {"Content-Type": "application/json"}, json.dumps(results).encode())
        return Scripted(404, {"Content-Type": "text/html"}, b"<html>not here</html>")

    def default_get(self, path: str, query: dict[str, str], headers: Message) -> Scripted:
        """The suppression lists, as the providers answer them."""
        parts = path.strip("/").split("/")
        if path.startswith("/v3/"):
            if self.token is not None and headers.get("Authorization") != f"Bearer {self.token}":
                return _json(401, {"errors": [{"message": "authorization required"}]})
            with self.lock:
                if parts[1:2] == ["suppression"] and parts[2:3] and parts[2] in self.sendgrid_lists:
                    return _sendgrid_list(list(self.sendgrid_lists[parts[2]]), query)
        else:
            if self.token is not None and headers.get("X-Postmark-Server-Token") != self.token:
                return _json(401, {"ErrorCode": 10, "Message": POSTMARK_NO_TOKEN})
            with self.lock:
                if path == "/bounces":
                    return _postmark_bounces(list(self.postmark_bounces), query)
                if len(parts) == 4 and parts[0] == "message-streams" and parts[3] == "dump":
                    stream = self.postmark_suppressions.get(parts[1], [])
                    return _postmark_dump(list(stream), query)
        return Scripted(404, {"Content-Type": "text/html"}, b"<html>not here</html>")

    def answer_get(self, path: str, *scripted: Scripted) -> None:
        """The next answers to GETs of `path` (a status without a body: the list's own body)."""
        with self.lock:
            self.get_script.setdefault(path, deque()).extend(scripted)

    def gets(self, path: str) -> list[Received]:
        """The GETs of `path` received so far, in order."""
        with self.lock:
            return [r for r in self.received if r.method == "GET" and r.path == path]

    def wait_received(self, count: int = 1, seconds: float = 30.0) -> bool:
        """Until `count` requests have arrived (recorded before they are answered); False if
        they did not within `seconds`."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, seconds)

    def answer(self, *scripted: Scripted) -> None:
        with self.lock:
            self.script.extend(scripted)

    def __enter__(self) -> FakeProviders:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def accepted_ids(path: str, body: object, answer: Scripted) -> list[str]:
    """The outbox ids an answer accepts: every message of a 2xx SendGrid request; of a Postmark
    200, every message whose result is not a refusal (an unreadable result counts: the
    provider may well have sent it)."""
    if not 200 <= answer.status < 300:
        return []
    if path == "/v3/mail/send" and isinstance(body, dict):
        return [p["custom_args"]["outbox_id"] for p in body.get("personalizations", [])]
    if path != "/email/batch" or not isinstance(body, list):
        return []
    try:
        results = json.loads(answer.body or b"")
    except ValueError:
        results = None
    ids = []
    for i, message in enumerate(body):
        result = results[i] if isinstance(results, list) and i < len(results) else None
        code = result.get("ErrorCode") if isinstance(result, dict) else None
        if not (isinstance(code, int) and code != 0):
            ids.append(message["Metadata"]["outbox_id"])
    return ids


# --- the suppression lists -----------------------------------------------------------------


def _json(status: int, data: object) -> Scripted:
    return Scripted(status, {"Content-Type": "application/json"}, json.dumps(data).encode())


def _eastern(text: str) -> datetime:
    """A Postmark query date (`2026-11-24T09:50:00` or `2026-11-24`): Eastern wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=EASTERN)


def _postmark_at(text: object) -> datetime:
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=EASTERN)


def _postmark_bounces(items: list[dict[str, object]], query: dict[str, str]) -> Scripted:
    try:
        count, offset = int(query["count"]), int(query["offset"])
    except (KeyError, ValueError):
        return _json(422, {"ErrorCode": 1000, "Message": "count and offset are required"})
    if not 1 <= count <= 500 or offset < 0 or count + offset > POSTMARK_DEEPEST:
        return _json(422, {"ErrorCode": 1000, "Message": "count or offset out of range"})
    if "fromdate" in query:  # both inclusive, to the second
        start = _eastern(query["fromdate"])
        items = [i for i in items if _postmark_at(i["BouncedAt"]).replace(microsecond=0) >= start]
    if "todate" in query:
        end = _eastern(query["todate"])
        items = [i for i in items if _postmark_at(i["BouncedAt"]).replace(microsecond=0) <= end]
    items.sort(key=lambda i: (_postmark_at(i["BouncedAt"]), i["ID"]), reverse=True)
    return _json(200, {"TotalCount": len(items), "Bounces": items[offset : offset + count]})


def _postmark_dump(items: list[dict[str, object]], query: dict[str, str]) -> Scripted:
    def day(item: dict[str, object]) -> date:
        return _postmark_at(item["CreatedAt"]).astimezone(EASTERN).date()

    if "fromdate" in query:
        items = [i for i in items if day(i) >= date.fromisoformat(query["fromdate"])]
    if "todate" in query:
        items = [i for i in items if day(i) <= date.fromisoformat(query["todate"])]
    return _json(200, {"Suppressions": items})


def _sendgrid_list(items: list[dict[str, object]], query: dict[str, str]) -> Scripted:
    start, end = int(query.get("start_time", 0)), int(query.get("end_time", 2**62))
    limit, offset = int(query.get("limit", 500)), int(query.get("offset", 0))
    items = [i for i in items if start <= int(i["created"]) <= end]  # type: ignore[call-overload]
    items.sort(key=lambda i: (i["created"], i["email"]), reverse=True)  # type: ignore[arg-type]
    return _json(200, items[offset : offset + limit])


def unix(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())
