"""What every request meets before its route: the body size cap (enforced while the body is
read, not taken from Content-Length alone) and HTTP basic auth for the providers' webhooks
(their URLs carry the credentials: https://user:password@host/webhooks/...)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salesengine_tui.base.settings import Settings

log = logging.getLogger("salesengine.serve")

REALM = 'Basic realm="salesengine webhooks", charset="UTF-8"'
# Providers retry a 503 on their own schedule; this asks for a slow one while someone sets it.
NOT_CONFIGURED_RETRY_SECONDS = "300"
# A body that stops coming for this long is given up on (408). uvicorn has no such timeout:
# without it a client that sends half a body holds its connection (and a graceful stop) for
# as long as it likes. A provider's chunks come far more often than this.
BODY_IDLE_SECONDS = 30.0


class BodyTooLarge(Exception):
    """The request body went past the cap while it was being read."""


class BodyTooSlow(Exception):
    """The request body stopped coming (nothing for `idle_seconds`)."""


def too_large_response() -> Response:
    return JSONResponse({"error": "request body too large"}, status_code=413)


def too_slow_response() -> Response:
    return JSONResponse(
        {"error": "request body too slow"}, status_code=408, headers={"Connection": "close"}
    )


class BodyLimit:
    """Refuse a request body over `max_bytes` with 413: at once when Content-Length says so,
    and while reading otherwise (a chunked body, or a Content-Length that lies: uvicorn stops
    at the declared length, chunked bodies have none). A body that stops coming for
    `idle_seconds` gets 408 and the connection is closed."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, idle_seconds: float = BODY_IDLE_SECONDS
    ) -> None:
        self.app, self.max_bytes, self.idle_seconds = app, max_bytes, idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await too_large_response()(scope, receive, send)
            return
        seen = 0
        started = False
        body_done = False

        async def capped_receive() -> Message:
            nonlocal seen, body_done
            if body_done:  # after the body: only a disconnect is left to wait for
                return await receive()
            try:
                async with asyncio.timeout(self.idle_seconds):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
                body_done = not message.get("more_body", False)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, watched_send)
        except BodyTooLarge:
            if started:  # too late to answer: the connection is closed on the client
                raise
            await too_large_response()(scope, receive, send)
        except BodyTooSlow:
            if started:
                raise
            log.warning("request body stopped coming for %.0f s: answering 408", self.idle_seconds)
            await too_slow_response()(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # uvicorn refuses a malformed length before we see it
    return None


class BasicAuth:
    """The webhooks' credentials (settings webhook_username / webhook_password). Unset, the
    webhooks answer 503 and say so in the log once; wrong, 401 with a challenge."""

    def __init__(self, settings: Settings) -> None:
        password = settings.webhook_password.get_secret_value() if settings.webhook_password else ""
        username = settings.webhook_username or ""
        self.configured = bool(username and password)
        self._expected = f"{username}:{password}".encode()
        self._warned = False

    def refusal(self, request: Request) -> Response | None:
        """None when the request carries the right credentials, else the answer to give."""
        if not self.configured:
            if not self._warned:
                self._warned = True
                log.warning(
                    "webhooks not configured: set SALESENGINE_WEBHOOK_USERNAME and "
                    "SALESENGINE_WEBHOOK_PASSWORD (the credentials in the providers' webhook URLs)"
                )
            return JSONResponse(
                {"error": "webhooks not configured"},
                status_code=503,
                headers={"Retry-After": NOT_CONFIGURED_RETRY_SECONDS},
            )
        given = _basic_credentials(request.headers.get("authorization", ""))
        # Compared in constant time whatever was given (a missing header compares as empty).
        if not hmac.compare_digest(given or b"", self._expected) or given is None:
            return JSONResponse(
                {"error": "authentication required"},
                status_code=401,
                headers={"WWW-Authenticate": REALM},
            )
        return None


def _basic_credentials(header: str) -> bytes | None:
    """`user:password` from `Authorization: Basic <base64>`, or None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
