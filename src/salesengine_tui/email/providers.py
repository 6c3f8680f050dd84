"""Email providers: a folder of .eml files (the default), SendGrid and Postmark over httpx.

Each provider sends a batch of `Outgoing` messages and answers, per message, whether it was
accepted (with the provider's id), refused for good (with the provider's reason), or whether
the whole batch should wait (`TryLater`: 429, 5xx, timeouts) or the sender should stop
(`AuthFailed`: 401/403). One httpx Client per provider, reused, with timeouts. Secrets never
appear in errors.
"""

from __future__ import annotations

import email.policy
import email.utils
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import httpx

from .outbox import header_safe

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
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


class Unclear(Exception):
    """The provider answered, but not so we can tell what it accepted: failing the batch is
    safer than sending it twice."""


class AuthFailed(Exception):
    """The provider refused our credentials: stop sending until someone fixes them."""


class Provider(Protocol):
    name: str
    batch_size: int

    def send(self, batch: list[Outgoing]) -> list[Outcome]: ...

    def close(self) -> None: ...


# --- file -------------------------------------------------------------------------------------


def to_mime(message: Outgoing) -> EmailMessage:
    mime = EmailMessage(policy=email.policy.SMTP)
    mime["From"] = message.from_address
    mime["To"] = email.utils.formataddr((header_safe(message.to_name) or "", message.to_email))
    mime["Subject"] = header_safe(message.subject) or ""
    mime["Message-ID"] = email.utils.make_msgid(idstring=message.id.hex)
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


def _retry_after(response: httpx.Response) -> float | None:
    for header in ("Retry-After", "X-RateLimit-Reset"):
        value = response.headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is None:
                continue
            from datetime import UTC, datetime

            seconds = (parsed - datetime.now(UTC)).total_seconds()
        if header == "X-RateLimit-Reset" and seconds > 10**9:  # an epoch time, not seconds
            from time import time

            seconds -= time()
        return max(0.0, seconds)
    return None


def _reason(response: httpx.Response) -> str:
    """The provider's words for an error, whatever the body is (JSON, HTML, nothing)."""
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


def _post(client: httpx.Client, path: str, payload: object, provider: str) -> httpx.Response:
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
    return response


def _split_on_refusal(
    send_one_batch, batch: list[Outgoing], response: httpx.Response
) -> list[Outcome]:
    """A 4xx for a whole batch: if it holds one message that message fails; otherwise each
    message goes again on its own so only the bad one fails."""
    if len(batch) == 1:
        return [Outcome(batch[0].id, False, error=_reason(response))]
    outcomes: list[Outcome] = []
    for message in batch:
        outcomes += send_one_batch([message])
    return outcomes


# --- SendGrid -------------------------------------------------------------------------------


class SendGridProvider:
    """POST /v3/mail/send, one personalization per recipient (its own subject and body),
    at most 1,000 a request and never the same address twice in one request; 202 is success."""

    name = "sendgrid"
    batch_size = SENDGRID_BATCH

    def __init__(self, api_key: str, base_url: str, from_address: str) -> None:
        self.client = httpx.Client(
            base_url=base_url,
            timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        self.from_address = from_address

    def send(self, batch: list[Outgoing]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for group in _distinct_addresses(batch):
            outcomes += self._send_group(group)
        return outcomes

    def _send_group(self, group: list[Outgoing]) -> list[Outcome]:
        name, address = email.utils.parseaddr(self.from_address)
        payload = {
            "from": {"email": address, **({"name": name} if name else {})},
            "content": [{"type": "text/plain", "value": "-body-"}],
            "personalizations": [
                {
                    "to": [{"email": m.to_email, **({"name": m.to_name} if m.to_name else {})}],
                    "subject": m.subject,
                    "substitutions": {"-body-": m.body_text},
                    "custom_args": {"outbox_id": str(m.id)},
                    **({"headers": m.headers} if m.headers else {}),
                }
                for m in group
            ],
        }
        response = _post(self.client, "/v3/mail/send", payload, "SendGrid")
        if response.status_code == 202:
            message_id = response.headers.get("X-Message-Id")
            return [Outcome(m.id, True, message_id=message_id) for m in group]
        return _split_on_refusal(self._send_group, group, response)

    def close(self) -> None:
        self.client.close()


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
        self.client = httpx.Client(
            base_url=base_url,
            timeout=TIMEOUT,
            headers={"X-Postmark-Server-Token": token, "Accept": "application/json"},
        )
        self.stream = stream
        self.broadcast_stream = broadcast_stream  # campaigns go out on their own stream

    def send(self, batch: list[Outgoing]) -> list[Outcome]:
        payload = [
            {
                "From": m.from_address,
                "To": email.utils.formataddr((m.to_name or "", m.to_email)),
                "Subject": m.subject,
                "TextBody": m.body_text,
                "MessageStream": self.broadcast_stream if m.is_campaign else self.stream,
                "Headers": [{"Name": k, "Value": v} for k, v in m.headers.items()],
                "Metadata": {"outbox_id": str(m.id)},
            }
            for m in batch
        ]
        response = _post(self.client, "/email/batch", payload, "Postmark")
        if response.status_code != 200:
            return _split_on_refusal(self.send, batch, response)
        try:
            results = response.json()
        except ValueError:
            raise Unclear("Postmark answered 200 without JSON") from None
        if not isinstance(results, list) or len(results) != len(batch):
            raise Unclear("Postmark's answer does not match the batch")
        outcomes = []
        for message, result in zip(batch, results, strict=True):
            code = int(result.get("ErrorCode", -1))
            if code == 0:
                outcomes.append(Outcome(message.id, True, message_id=result.get("MessageID")))
            else:
                outcomes.append(
                    Outcome(
                        message.id,
                        False,
                        error=f"Postmark {code}: {result.get('Message', 'refused')}",
                        inactive=code == POSTMARK_INACTIVE,
                    )
                )
        return outcomes

    def close(self) -> None:
        self.client.close()
