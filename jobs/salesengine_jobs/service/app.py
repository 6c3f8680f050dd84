"""The outreach service's routes: unsubscribe links, the providers' webhooks, a health check.

Every route answers through the desk (`desk.outreach`): the providers' parsers turn a request
into events, `record_events` stores each once and applies the new ones in one transaction,
shared by the requests that arrive meanwhile (`group_commit`: one writer, each request answered
once its events are committed). Database work runs in the thread pool; a database that is
down answers 503 with Retry-After (providers retry), never a traceback.

What a provider gets back, and why:
- 200 once the events are stored (a replay is stored once: `duplicates` counts the rest);
- 200 with `ignored` for items that could not be read (logged): retrying them cannot help;
- 400 for a body that is not JSON at all (an Inbound Parse form that cannot be read is
  answered 200 with `ignored`: a retry sends the same bytes); 401 wrong credentials; 403 a
  bad SendGrid signature (nothing stored); 408 a body that stopped coming; 413 a body over
  the cap; 503 not configured, the database is down, or too many events are waiting to be
  written. A client gone before its answer is logged with 499 (no traceback).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from salesengine_tui.base.errors import UserError
from salesengine_tui.base.logfmt import quote
from salesengine_tui.email import postmark_events, sendgrid_events, sendgrid_signature
from salesengine_tui.email.events import Parsed
from salesengine_tui.email.tokens import BadToken, ExpiredToken
from salesengine_tui.usecases import Desk

from . import unsubscribe_page as page
from .group_commit import GroupCommit, Overloaded
from .limits import BasicAuth, BodyLimit
from .request_log import RequestLog

log = logging.getLogger("salesengine.serve")

# Errors that mean "the database is not answering now": the client should come back.
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER_SECONDS = "30"
# A token is some 40 characters; anything much longer is not ours (and not worth verifying).
MAX_TOKEN_CHARS = 512
MAX_PROBLEMS_LOGGED = 5
# SendGrid's Signed Event Webhook headers.
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
# Inbound Parse posts a handful of fields and the attachments; more than this is not mail.
MAX_FORM_FIELDS = 200
MAX_FORM_FILES = 100
UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}


class NotJSON(Exception):
    pass


def _retry_later(error: str) -> JSONResponse:
    return JSONResponse(
        {"error": error}, status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS}
    )


class OutreachService:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.settings = desk.ctx.settings
        self.auth = BasicAuth(self.settings)
        # One writer for every webhook's events (group commit): see group_commit.
        self.writer = GroupCommit(desk.outreach.record_events)
        self._warned: set[str] = set()

    def now(self) -> datetime:
        return self.desk.ctx.clock.now()

    def warn_once(self, what: str, message: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning(message)

    # --- unsubscribe ----------------------------------------------------------------------

    async def unsubscribe_form(self, request: Request) -> Response:
        """The page a link opens: it asks, and never opts out by itself."""
        return await self._unsubscribe(request, one_click=False)

    async def unsubscribe_now(self, request: Request) -> Response:
        """RFC 8058 one-click (`List-Unsubscribe=One-Click`) or the page's button: the valid
        token is what counts, not the body; no cookie, no login."""
        return await self._unsubscribe(request, one_click=True)

    async def _unsubscribe(self, request: Request, *, one_click: bool) -> Response:
        token = request.query_params.get("t", "").strip()
        if not token or len(token) > MAX_TOKEN_CHARS:
            return page.invalid(self.settings)
        outreach = self.desk.outreach
        try:
            view = await run_in_threadpool(
                outreach.unsubscribe if one_click else outreach.unsubscribe_page, token
            )
        except BadToken:
            return page.invalid(self.settings)
        except ExpiredToken:
            return page.expired(self.settings)
        except DATABASE_DOWN as exc:
            log.warning("unsubscribe: database unavailable (%s)", type(exc).__name__)
            return page.unavailable(self.settings)
        except UserError as exc:  # the signing key is not set, the database is not there
            self.warn_once("unsubscribe", f"unsubscribe: {exc}")
            return page.unavailable(self.settings)
        if one_click:
            request.state.counts = {"unsubscribed": 1}
            return page.done(view.masked_email)
        if view.opted_out:
            return page.already(view.masked_email)
        return page.confirm(token, view.masked_email)

    # --- Postmark ---------------------------------------------------------------------------

    async def postmark(self, request: Request) -> Response:
        """Bounce, SpamComplaint, SubscriptionChange and Delivery webhooks (by RecordType)."""
        return await self._json_webhook(request, "postmark", postmark_events.parse_webhook)

    async def postmark_inbound(self, request: Request) -> Response:
        """A reply, as Postmark's inbound JSON."""
        return await self._json_webhook(request, "postmark inbound", postmark_events.parse_inbound)

    async def _json_webhook(
        self, request: Request, source: str, parse: Callable[..., Parsed]
    ) -> Response:
        if refusal := self.auth.refusal(request):
            return refusal
        try:
            payload = await _json_body(request)
        except NotJSON:
            log.warning("%s: the body is not JSON", source)
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        return await self._record(request, source, parse(payload, received_at=self.now()))

    # --- SendGrid ---------------------------------------------------------------------------

    async def sendgrid_events(self, request: Request) -> Response:
        """The Signed Event Webhook: the ECDSA signature over timestamp + body, and a fresh
        timestamp, before anything is read."""
        key = (self.settings.sendgrid_webhook_public_key or "").strip()
        if not key:
            self.warn_once(
                "sendgrid",
                "sendgrid events: not configured: set SALESENGINE_SENDGRID_WEBHOOK_PUBLIC_KEY "
                "(Mail Settings > Event Webhook > Signature Verification)",
            )
            return _retry_later("sendgrid webhook not configured")
        body = await request.body()
        try:
            sendgrid_signature.verify(
                key,
                request.headers.get(SIGNATURE_HEADER, ""),
                request.headers.get(TIMESTAMP_HEADER, ""),
                body,
                now=self.now().timestamp(),
                max_age=self.settings.webhook_max_age_seconds,
            )
        except sendgrid_signature.UnusableKey as exc:  # ours to fix: SendGrid retries
            self.warn_once("sendgrid key", f"sendgrid events: {exc.reason}")
            return _retry_later("sendgrid webhook not configured")
        except sendgrid_signature.BadSignature as exc:
            log.warning("sendgrid events: refused: %s", quote(exc.reason))
            return JSONResponse({"error": "bad signature"}, status_code=403)
        try:
            payload = _parse_json(body)
        except NotJSON:
            log.warning("sendgrid events: the body is not JSON")
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        parsed = sendgrid_events.parse_events(payload, received_at=self.now())
        return await self._record(request, "sendgrid events", parsed)

    async def sendgrid_inbound(self, request: Request) -> Response:
        """Inbound Parse: a reply as a multipart form (attachments are not kept)."""
        if refusal := self.auth.refusal(request):
            return refusal
        cap = self.settings.webhook_max_bytes
        try:
            async with request.form(
                max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS, max_part_size=cap
            ) as form:
                fields = {
                    name: value for name, value in form.multi_items() if isinstance(value, str)
                }
        except HTTPException as exc:
            # Starlette could not read the form (a broken multipart body, more parts than an
            # email has): a retry brings the same body, so it is answered 200 and logged, as
            # any item that cannot be read (SendGrid retries anything else for three days).
            log.warning("sendgrid inbound: the form cannot be read: %s", quote(str(exc.detail)))
            request.state.counts = {"stored": 0, "duplicates": 0, "ignored": 1}
            return JSONResponse(request.state.counts)
        parsed = sendgrid_events.parse_inbound(_as_sent(fields), received_at=self.now())
        return await self._record(request, "sendgrid inbound", parsed)

    # --- both -------------------------------------------------------------------------------

    async def _record(self, request: Request, source: str, parsed: Parsed) -> Response:
        ignored = len(parsed.problems)
        if ignored:
            shown = "; ".join(parsed.problems[:MAX_PROBLEMS_LOGGED])
            more = (
                f" (and {ignored - MAX_PROBLEMS_LOGGED} more)"
                if ignored > MAX_PROBLEMS_LOGGED
                else ""
            )
            log.warning("%s: ignored %d malformed: %s%s", source, ignored, quote(shown), more)
        stored = duplicates = 0
        if parsed.events:
            try:  # answered once the transaction holding these events committed
                done = await self.writer.record(parsed.events)
            except Overloaded:
                self.warn_once("overloaded", f"{source}: too many events waiting; answering 503")
                return _retry_later("busy")
            except DATABASE_DOWN as exc:
                log.warning("%s: database unavailable (%s)", source, type(exc).__name__)
                return _retry_later("database unavailable")
            stored, duplicates = done.stored, done.duplicates
        counts = {"stored": stored, "duplicates": duplicates, "ignored": ignored}
        request.state.counts = counts
        return JSONResponse(counts)

    async def healthz(self, request: Request) -> Response:
        try:
            await run_in_threadpool(self.desk.outreach.ping)
        except (*DATABASE_DOWN, UserError) as exc:
            log.warning("healthz: database unavailable (%s)", type(exc).__name__)
            return PlainTextResponse(
                "database unavailable", status_code=503, headers={"Retry-After": "10"}
            )
        return PlainTextResponse("ok")


async def _json_body(request: Request) -> object:
    return _parse_json(await request.body())


def _parse_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise NotJSON from None


def _as_sent(fields: dict[str, str]) -> dict[str, str | bytes]:
    """Starlette decodes each form field as UTF-8 (Latin-1 when that fails); Inbound Parse
    names each field's own charset in `charsets`. A field in another charset goes back to its
    bytes (Latin-1 gives them back as they came) for the parser to decode as named."""
    try:
        charsets = json.loads(fields.get("charsets") or "{}")
    except ValueError:
        charsets = None
    if not isinstance(charsets, dict):
        return dict(fields)
    sent: dict[str, str | bytes] = dict(fields)
    for name, charset in charsets.items():
        value = fields.get(name)
        if not isinstance(value, str) or not isinstance(charset, str):
            continue
        if charset.strip().lower().replace("_", "-") in UTF8_NAMES:
            continue
        with contextlib.suppress(UnicodeEncodeError):  # it was UTF-8 after all: as decoded
            sent[name] = value.encode("latin-1")
    return sent


def build_app(desk: Desk) -> Starlette:
    service = OutreachService(desk)
    routes = [
        Route("/unsubscribe", service.unsubscribe_form, methods=["GET"]),
        Route("/unsubscribe", service.unsubscribe_now, methods=["POST"]),
        Route("/webhooks/postmark", service.postmark, methods=["POST"]),
        Route("/webhooks/postmark/inbound", service.postmark_inbound, methods=["POST"]),
        Route("/webhooks/sendgrid/events", service.sendgrid_events, methods=["POST"]),
        Route("/webhooks/sendgrid/inbound", service.sendgrid_inbound, methods=["POST"]),
        Route("/healthz", service.healthz, methods=["GET"]),
    ]
    middleware = [
        Middleware(RequestLog),
        Middleware(BodyLimit, max_bytes=desk.ctx.settings.webhook_max_bytes),
    ]
    return Starlette(routes=routes, middleware=middleware)
