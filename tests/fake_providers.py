"""A real HTTP server on loopback that speaks SendGrid's and Postmark's send APIs, records every
request it receives, and answers as scripted (success, 429 with Retry-After, 500, 401, 413 with
an HTML page, a Postmark batch with mixed results)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
                self.send_response(scripted.status)
                for name, value in scripted.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(scripted.body)))
                self.end_headers()
                self.wfile.write(scripted.body)

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
