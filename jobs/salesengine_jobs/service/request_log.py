"""One log line per request, ours rather than uvicorn's access log: the path without its
query string (an unsubscribe token is a capability), no header, no body; and what a webhook
stored (a route leaves its counts in `request.state.counts`). A client that goes away while
its body is still coming (a provider's timeout, a dropped connection) is one line with
status 499, as nginx writes it: nobody is left to answer, and it is not our error (no
traceback in the log)."""

from __future__ import annotations

import logging
import time

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salesengine_tui.base.logfmt import quote

log = logging.getLogger("salesengine.serve")

# nginx's "client closed request": the client left before it was answered.
CLIENT_CLOSED = 499


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except ClientDisconnect:
            status = CLIENT_CLOSED
        finally:
            log.info(request_line(scope, status, time.perf_counter() - started))


def request_line(scope: Scope, status: int, seconds: float) -> str:
    client = scope.get("client")
    parts = [
        f"method={quote(scope.get('method', ''))}",
        f"path={quote(scope.get('path', ''))}",
        f"status={status}",
        f"ms={seconds * 1000:.1f}",
    ]
    if client:
        parts.append(f"client={quote(client[0])}")
    counts = scope.get("state", {}).get("counts") or {}
    parts += [f"{name}={value}" for name, value in counts.items()]
    return " ".join(parts)
