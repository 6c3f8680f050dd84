"""Email providers: a folder of .eml files (the default), SendGrid and Postmark over httpx.

A provider cuts a batch of `Outgoing` messages into requests (`requests`) and sends one
request at a time (`send`), so the sender records each answer before the next request goes
out. For a request it answers, per message, whether it was accepted (with the provider's id)
or refused for good (with the provider's reason); or that the whole request was refused
(`Refused`: a 4xx, the sender then tries its messages one by one), should wait (`TryLater`:
429, 5xx, timeouts), cannot be read (`Unclear`) or that the sender should stop (`AuthFailed`:
401/403). One httpx Client per provider, reused, with timeouts. Secrets never appear in errors.

Every message carries our Message-ID (replies quote it) and, when replies are set up, its own
Reply-To (`reply+<token>@<reply domain>`), each where the provider allows it: SendGrid keeps
Reply-To among its reserved headers and takes `reply_to` only once a request, so it gets a
substitution tag there (SendGrid applies personalization substitutions to `reply_to`);
Postmark has a `ReplyTo` field per message.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .outbox import header_safe

if TYPE_CHECKING:  # imported when a provider is made: the app's start does without it
    import httpx

TIMEOUT_SECONDS, CONNECT_SECONDS = 20.0, 5.0
SENDGRID_BATCH = 1000
POSTMARK_BATCH = 500
POSTMARK_INACTIVE = 406


@dataclass(frozen=True)
class Outgoing:
    id: uuid.UUID
    to_email: str
    to_name: str | None
    subject: str
    body_text: str
    from_address: str
    headers: dict[str, str] = field(default_factory=dict)  # List-Unsubscribe, ...
    is_campaign: bool = False
    message_id: str | None = None  # `<id@sending domain>`: a reply's In-Reply-To names it
    reply_to: str | None = None  # `reply+<token>@<reply domain>`: a reply finds its email


@dataclass(frozen=True)
class Outcome:
    id: uuid.UUID
    accepted: bool
    message_id: str | None = None
    error: str | None = None
    inactive: bool = False  # the provider will not deliver to this address any more


class TryLater(Exception):
    """The provider is busy or broken right now; nothing in the batch was accepted."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Refused(Exception):
    """The provider refused the whole request (a 4xx other than 401/403/429): one message in
    it is bad, or the request is too big. Nothing in it was accepted."""


class Unclear(Exception):
    """The provider answered, but not so we can tell what it accepted: failing the batch is
    safer than sending it twice."""


class AuthFailed(Exception):
    """The provider refused our credentials: stop sending until someone fixes them."""


class Provider(Protocol):
    name: str
    batch_size: int

    def requests(self, batch: list[Outgoing]) -> list[list[Outgoing]]:
        """The requests a batch goes out in, in order."""
        ...

    def send(self, request: list[Outgoing]) -> list[Outcome]:
        """One request: an outcome per message, or one of the exceptions above."""
        ...

    def close(self) -> None: ...


# --- file -------------------------------------------------------------------------------------


def to_mime(message: Outgoing) -> EmailMessage:
    mime = EmailMessage(policy=email.policy.SMTP)
    mime["From"] = message.from_address
    mime["To"] = email.utils.formataddr((header_safe(message.to_name) or "", message.to_email))
    mime["Subject"] = header_safe(message.subject) or ""
    mime["Message-ID"] = message.message_id or email.utils.make_msgid(idstring=message.id.hex)
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    for name, value in message.headers.items():
        mime[name] = header_safe(value) or ""
    mime.set_content(message.body_text)
    return mime


class FileProvider:
    """Writes each message to `<folder>/<outbox id>.eml` (rewriting it is harmless)."""

    name = "file"
    batch_size = 100

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def requests(self, batch: list[Outgoing]) -> list[list[Outgoing]]:
        return [batch]

    def send(self, batch: list[Outgoing]) -> list[Outcome]:
        self.folder.mkdir(parents=True, exist_ok=True)
        outcomes = []
        for message in batch:
            path = self.folder / f"{message.id}.eml"
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(bytes(to_mime(message)))
            temporary.replace(path)  # whole files only, even if we die mid-write
            outcomes.append(Outcome(message.id, True, message_id=path.name))
        return outcomes

    def close(self) -> None:
        pass


# --- HTTP helpers -------------------------------------------------------------------------------


_DELAY_SECONDS = re.compile(r"[0-9]+")  # RFC 9110: delay-seconds = 1*DIGIT


def wait_seconds(value: str | None, *, epoch: bool = False) -> float | None:
    """`Retry-After` as RFC 9110 reads it: delay-seconds (digits only) or an HTTP-date
    (IMF-fixdate, RFC 850 or asctime, always GMT); anything else (`soon`, `inf`, `1e13`, a
    negative number) is ignored: None. `epoch`: a large number is a Unix time (SendGrid's
    `X-RateLimit-Reset`). The caller caps the result."""
    value = (value or "").strip()
    if _DELAY_SECONDS.fullmatch(value):
        seconds = float(value) if len(value) <= 15 else 1e15  # capped by the caller anyway
        if epoch and seconds > 10**9:
            seconds -= time.time()
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except Exception:  # whatever the header holds, a wrong one is ignored, never a crash
        return None
    if when.tzinfo is None:  # asctime carries no zone: HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _retry_after(response: httpx.Response) -> float | None:
    for header in ("Retry-After", "X-RateLimit-Reset"):
        seconds = wait_seconds(response.headers.get(header), epoch=header != "Retry-After")
        if seconds is not None:
            return seconds
    return None


def _reason(response: httpx.Response) -> str:
    """The provider's words for an error, whatever the body is (JSON, HTML, nothing), on one
    line without control characters: they go to logs, the outbox and managers' notices."""
    return header_safe(_words(response)) or f"HTTP {response.status_code}"


def _words(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        kind = response.headers.get("content-type", "").split(";")[0] or "no content type"
        return f"HTTP {response.status_code} ({kind} body)"
    if isinstance(data, dict):
        if isinstance(data.get("errors"), list) and data["errors"]:
            first = data["errors"][0]
            text = first.get("message") if isinstance(first, dict) else str(first)
            return f"HTTP {response.status_code}: {text}"
        if "Message" in data:
            return f"HTTP {response.status_code}: {data['Message']}"
    return f"HTTP {response.status_code}"


def _client(base_url: str, headers: dict[str, str]) -> httpx.Client:
    import httpx

    timeout = httpx.Timeout(TIMEOUT_SECONDS, connect=CONNECT_SECONDS)
    return httpx.Client(base_url=base_url, timeout=timeout, headers=headers)


def _post(client: httpx.Client, path: str, payload: object, provider: str) -> httpx.Response:
    import httpx

    try:
        response = client.post(path, json=payload)
    except httpx.TimeoutException:
        raise TryLater(f"{provider} did not answer in time") from None
    except httpx.TransportError as exc:
        raise TryLater(f"cannot reach {provider} ({type(exc).__name__})") from None
    if response.status_code in (401, 403):
        raise AuthFailed(f"{provider} refused the API key ({_reason(response)})")
    if response.status_code == 429 or response.status_code >= 500:
        raise TryLater(f"{provider}: {_reason(response)}", _retry_after(response))
    if response.status_code >= 400:
        raise Refused(_reason(response))
    return response


# --- SendGrid -------------------------------------------------------------------------------


class SendGridProvider:
    """POST /v3/mail/send, one personalization per recipient (its own subject, body, headers
    and reply address), at most 1,000 a request, never the same address twice in one request
    and one reply domain a request; 202 is success."""

    name = "sendgrid"
    batch_size = SENDGRID_BATCH

    def __init__(self, api_key: str, base_url: str, from_address: str) -> None:
        self.client = _client(base_url, {"Authorization": f"Bearer {api_key}"})
        self.from_address = from_address

    def requests(self, batch: list[Outgoing]) -> list[list[Outgoing]]:
        by_domain: dict[str, list[Outgoing]] = {}
        for message in batch:
            by_domain.setdefault(_reply_domain(message), []).append(message)
        return [group for same in by_domain.values() for group in _distinct_addresses(same)]

    def send(self, group: list[Outgoing]) -> list[Outcome]:
        name, address = email.utils.parseaddr(self.from_address)
        domain = _reply_domain(group[0])
        payload = {
            "from": {"email": address, **({"name": name} if name else {})},
            "content": [{"type": "text/plain", "value": SENDGRID_BODY}],
            "personalizations": [_personalization(m) for m in group],
        }
        if domain:  # each personalization puts its own mailbox in the tag
            payload["reply_to"] = {"email": f"{SENDGRID_REPLY}@{domain}"}
        response = _post(self.client, "/v3/mail/send", payload, "SendGrid")
        if not 200 <= response.status_code < 300:  # 202, or 200 in sandbox mode
            raise Unclear(f"SendGrid answered HTTP {response.status_code}")
        message_id = response.headers.get("X-Message-Id")
        return [Outcome(m.id, True, message_id=message_id) for m in group]

    def close(self) -> None:
        self.client.close()


SENDGRID_BODY = "-body-"
SENDGRID_REPLY = "-reply-mailbox-"  # a valid local part, for SendGrid's check before substitution


def _headers(message: Outgoing) -> dict[str, str]:
    """The headers an HTTP provider is given: our Message-ID, then List-Unsubscribe, ..."""
    return {**({"Message-ID": message.message_id} if message.message_id else {}), **message.headers}


def _reply_domain(message: Outgoing) -> str:
    return message.reply_to.rpartition("@")[2] if message.reply_to else ""


def _personalization(message: Outgoing) -> dict[str, object]:
    to = {"email": message.to_email, **({"name": message.to_name} if message.to_name else {})}
    substitutions = {SENDGRID_BODY: message.body_text}
    if message.reply_to:
        substitutions[SENDGRID_REPLY] = message.reply_to.rpartition("@")[0]
    # Message-ID is not among SendGrid's reserved headers (Reply-To is: see `reply_to`).
    headers = _headers(message)
    return {
        "to": [to],
        "subject": message.subject,
        "substitutions": substitutions,
        "custom_args": {"outbox_id": str(message.id)},
        **({"headers": headers} if headers else {}),
    }


def _distinct_addresses(batch: list[Outgoing]) -> list[list[Outgoing]]:
    """Groups of at most SENDGRID_BATCH with no address twice in a group."""
    groups: list[tuple[set[str], list[Outgoing]]] = []
    for message in batch:
        address = message.to_email.lower()
        for seen, group in groups:
            if address not in seen and len(group) < SENDGRID_BATCH:
                seen.add(address)
                group.append(message)
                break
        else:
            groups.append(({address}, [message]))
    return [group for _, group in groups]


# --- Postmark -------------------------------------------------------------------------------


class PostmarkProvider:
    """POST /email/batch, at most 500 a request on one message stream. The batch answers 200
    even when some messages failed: each result's ErrorCode says (406: inactive recipient)."""

    name = "postmark"
    batch_size = POSTMARK_BATCH

    def __init__(self, token: str, base_url: str, stream: str, broadcast_stream: str) -> None:
        self.client = _client(
            base_url, {"X-Postmark-Server-Token": token, "Accept": "application/json"}
        )
        self.stream = stream
        self.broadcast_stream = broadcast_stream  # campaigns go out on their own stream

    def requests(self, batch: list[Outgoing]) -> list[list[Outgoing]]:
        return [batch[i : i + POSTMARK_BATCH] for i in range(0, len(batch), POSTMARK_BATCH)]

    def send(self, batch: list[Outgoing]) -> list[Outcome]:
        payload = [
            {
                "From": m.from_address,
                "To": email.utils.formataddr((m.to_name or "", m.to_email)),
                "Subject": m.subject,
                "TextBody": m.body_text,
                "MessageStream": self.broadcast_stream if m.is_campaign else self.stream,
                **({"ReplyTo": m.reply_to} if m.reply_to else {}),
                "Headers": [{"Name": k, "Value": v} for k, v in _headers(m).items()],
                "Metadata": {"outbox_id": str(m.id)},
            }
            for m in batch
        ]
        response = _post(self.client, "/email/batch", payload, "Postmark")
        if response.status_code != 200:
            raise Unclear(f"Postmark answered HTTP {response.status_code}, not 200")
        try:
            results = response.json()
        except ValueError:
            raise Unclear("Postmark answered 200 without JSON") from None
        if not isinstance(results, list) or len(results) != len(batch):
            raise Unclear("Postmark's answer does not match the batch")
        return [_postmark_outcome(m, result) for m, result in zip(batch, results, strict=True)]

    def close(self) -> None:
        self.client.close()


def _postmark_outcome(message: Outgoing, result: object) -> Outcome:
    """One message's result in a batch answer; one that cannot be read (`null`, an ErrorCode
    that is not a number) fails that message: it may have gone, so it is not sent again."""
    code = result.get("ErrorCode") if isinstance(result, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        return Outcome(
            message.id,
            False,
            error="Postmark's result for this message cannot be read; it may have been sent, "
            "so it is not sent again",
        )
    if code == 0:
        message_id = result.get("MessageID")
        return Outcome(message.id, True, message_id=str(message_id) if message_id else None)
    return Outcome(
        message.id,
        False,
        error=header_safe(f"Postmark {code}: {result.get('Message', 'refused')}"),
        inactive=code == POSTMARK_INACTIVE,
    )
