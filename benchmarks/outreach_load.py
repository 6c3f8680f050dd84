"""What the outreach benchmark sends, and how: providers' webhook requests made from the
seeded outbox rows (a SendGrid Event Webhook batch signed with a P-256 key the benchmark
makes, Postmark's one event per request with basic auth), and a load runner that posts them
over N concurrent keep-alive connections and times each request.

Kept apart from `bench_outreach.py` so a request can be built and sent by hand:

    python -c "import outreach_load as o; print(o.sendgrid_body(o.sample_rows(3)))"
"""

from __future__ import annotations

import base64
import json
import os
import socket
import statistics
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SENDGRID_PATH = "/webhooks/sendgrid/events"
POSTMARK_PATH = "/webhooks/postmark"
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


@dataclass(frozen=True)
class Row:
    """A sent outbox row the events are about."""

    n: int  # its number in the seed (customer n, outbox row n)
    outbox_id: str
    email: str
    message_id: str  # the provider's message id (SendGrid's X-Message-Id is per request)


# Which event each row gets, by n % 100: about nine in ten delivered, as a day's traffic.
SENDGRID_MIX = ((4, "bounce"), (6, "dropped"), (8, "spamreport"), (10, "unsubscribe"))
POSTMARK_MIX = ((10, "HardBounce"),)


def sendgrid_kind(n: int) -> str:
    return next((kind for below, kind in SENDGRID_MIX if n % 100 < below), "delivered")


def postmark_kind(n: int) -> str:
    return next((kind for below, kind in POSTMARK_MIX if n % 100 < below), "Delivery")


def outbox_row(n: int, provider: str) -> Row:
    """Row n as `bench_outreach`'s fill made it (ids and message ids follow from n)."""
    tail = f"{n:012d}"
    if provider == "sendgrid":  # one X-Message-Id per request of 1,000 recipients
        message_id = f"sgmsg{(n - 1) // 1000:017d}"
    else:
        message_id = f"7f3a0000-0000-4000-8000-{tail}"
    return Row(n, f"00000000-0000-4000-8000-{tail}", f"c{n}@example.com", message_id)


def sample_rows(count: int, start: int = 1, provider: str = "sendgrid") -> list[Row]:
    return [outbox_row(n, provider) for n in range(start, start + count)]


# --- SendGrid -------------------------------------------------------------------------------


class SendGridKey:
    """The account's signing key pair: SendGrid keeps the private half, the service is given
    the public one as SendGrid shows it (base64 DER SubjectPublicKeyInfo)."""

    def __init__(self) -> None:
        self._private = ec.generate_private_key(ec.SECP256R1())
        der = self._private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes, *, at: float | None = None) -> dict[str, str]:
        """Signature over the timestamp followed by the body (ECDSA P-256, SHA-256, DER)."""
        stamp = str(int(at if at is not None else time.time()))
        signature = self._private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            SIGNATURE: base64.b64encode(signature).decode(),
            TIMESTAMP: stamp,
            "Content-Type": "application/json",
            "User-Agent": "SendGrid Event API",
        }


def sendgrid_event(row: Row, at: datetime) -> dict[str, object]:
    kind = sendgrid_kind(row.n)
    event: dict[str, object] = {
        "email": row.email,
        "timestamp": int(at.timestamp()),
        "smtp-id": f"<{row.message_id}.{row.n}@ismtpd0001p1iad2.sendgrid.net>",
        "event": kind,
        "category": ["nurture"],
        "sg_event_id": base64.urlsafe_b64encode(f"{kind}-{row.n}-bench".encode()).decode(),
        "sg_message_id": f"{row.message_id}.filterdrecv-5645d9c87f-6r5hx-1-62E1C2D4-{row.n}.0",
        "outbox_id": row.outbox_id,  # our custom_args come back at the event's top level
    }
    if kind == "delivered":
        event["response"] = "250 2.0.0 OK  1669913400 bench"
    elif kind == "bounce":
        event.update(
            type="bounce",
            reason="550 5.1.1 The email account that you tried to reach does not exist.",
            status="5.1.1",
            bounce_classification="Invalid Address",
        )
    elif kind == "dropped":
        event.update(reason="Bounced Address", status="5.0.0")
    return event


def sendgrid_body(rows: Sequence[Row], now: datetime | None = None) -> bytes:
    """One Event Webhook POST: a JSON array of events, as SendGrid batches them."""
    base = (now or datetime.now(UTC)) - timedelta(hours=1)
    events = [sendgrid_event(row, base + timedelta(seconds=row.n % 3600)) for row in rows]
    return json.dumps(events, separators=(",", ":")).encode()


# --- Postmark -------------------------------------------------------------------------------


def postmark_body(row: Row, now: datetime | None = None) -> bytes:
    """One Postmark webhook POST: one event (Delivery, or a hard Bounce) per request."""
    at = ((now or datetime.now(UTC)) - timedelta(seconds=3600 - row.n % 3600)).isoformat()
    at = at.replace("+00:00", "Z")
    common = {
        "MessageID": row.message_id,
        "ServerID": 23,
        "MessageStream": "outbound",
        "Tag": "nurture",
        "Metadata": {"outbox_id": row.outbox_id},
    }
    if postmark_kind(row.n) == "HardBounce":
        payload = {
            "RecordType": "Bounce",
            "ID": 4_000_000_000 + row.n,
            "Type": "HardBounce",
            "TypeCode": 1,
            "Name": "Hard bounce",
            "Description": "The server was unable to deliver your message (ex: unknown user, "
            "mailbox not found).",
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
            "Email": row.email,
            "From": "sales@example.com",
            "BouncedAt": at,
            "DumpAvailable": False,
            "Inactive": True,
            "CanActivate": True,
            "Subject": "Checking in on your quote",
            **common,
        }
    else:
        payload = {
            "RecordType": "Delivery",
            "Recipient": row.email,
            "DeliveredAt": at,
            "Details": "smtp;250 2.0.0 OK",
            **common,
        }
    return json.dumps(payload, separators=(",", ":")).encode()


def basic_auth(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


# --- Load -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    path: str
    body: bytes
    headers: dict[str, str]
    events: int


@dataclass
class Load:
    """One phase: every request's latency, the wall time, and what did not answer 2xx."""

    wall: float
    latencies: list[float]
    events: int
    failures: list[str] = field(default_factory=list)
    # CPU seconds spent in the phase by the service process and by the database server (all
    # of its processes): a machine shared with other work slows the wall clock, not these.
    cpu_service: float = 0.0
    cpu_database: float = 0.0
    cpu_client: float = 0.0  # this process, making and sending the requests (same cores)

    @property
    def cpu_ms_per_event(self) -> float:
        return (self.cpu_service + self.cpu_database) * 1000 / self.events

    @property
    def events_per_second(self) -> float:
        return self.events / self.wall

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies) / self.wall

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


def cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """User + system CPU seconds of each process so far (Linux /proc); a gone one is left out."""
    seconds = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14 and 15)
        seconds[pid] = ticks / os.sysconf("SC_CLK_TCK")
    return seconds


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def children_of(parent: int) -> list[int]:
    """The processes whose parent is `parent`, and it: a PostgreSQL server's backends."""
    found = [parent]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == parent:  # ppid
                found.append(int(entry.name))
    return found


def measured_load(
    base_url: str,
    requests: Sequence[Request],
    concurrency: int,
    *,
    service_pid: int,
    database_pid: int,
) -> Load:
    """`run_load`, with the CPU the service (`service_pid` and its worker processes) and the
    database server (`database_pid`, the postmaster, and its children: backends that start
    during the phase count from zero) spent meanwhile."""
    service = children_of(service_pid)  # and its worker processes (`serve --workers N`)
    before = cpu_seconds([*service, *children_of(database_pid)])
    client = time.process_time()
    load = run_load(base_url, requests, concurrency)
    load.cpu_client = time.process_time() - client
    after = cpu_seconds([*service, *children_of(database_pid)])
    spent = {pid: seconds - before.get(pid, 0.0) for pid, seconds in after.items()}
    load.cpu_service = sum(spent.pop(pid, 0.0) for pid in service)
    load.cpu_database = sum(spent.values())
    return load


def run_load(base_url: str, requests: Sequence[Request], concurrency: int) -> Load:
    """Post `requests` in order over `concurrency` keep-alive connections (one thread each,
    the next request taken as soon as one answers, as a provider's senders do).

    The client is a bare HTTP/1.1 one over a socket, each request's bytes made before the
    clock starts: it shares the machine's two cores with the service and the database (a
    provider's senders would not), so it should take as little of them as it can; httpx took
    some 2-3 ms of CPU a request, more than the service under test."""
    host, port = _host_port(base_url)
    wire = [_wire(host, request) for request in requests]
    lock = threading.Lock()
    position = 0
    latencies: list[float] = []
    failures: list[str] = []

    def worker() -> None:
        nonlocal position
        connection: _Connection | None = None
        try:
            while True:
                with lock:
                    if position >= len(requests):
                        return
                    n = position
                    position += 1
                started = time.perf_counter()
                try:
                    connection = connection or _Connection(host, port)
                    status, answer = connection.exchange(wire[n])
                except OSError as exc:
                    if connection is not None:
                        connection.close()
                    connection, status, answer = None, 0, repr(exc)
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    if not 200 <= status < 300:
                        failures.append(f"HTTP {status} on {requests[n].path}: {answer[:200]}")
        finally:
            if connection is not None:
                connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return Load(wall, latencies, sum(r.events for r in requests), failures)


def _host_port(base_url: str) -> tuple[str, int]:
    netloc = base_url.split("://", 1)[1].rstrip("/")
    host, _, port = netloc.rpartition(":")
    return host, int(port)


def _wire(host: str, request: Request) -> bytes:
    headers = {"Host": host, "Content-Length": str(len(request.body)), **request.headers}
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST {request.path} HTTP/1.1\r\n{head}\r\n".encode() + request.body


class _Connection:
    """One keep-alive connection: a request's bytes out, the status and body back (the
    service answers with Content-Length, never chunked)."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def exchange(self, request: bytes) -> tuple[int, str]:
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            (int(line.split(":", 1)[1]) for line in lines[1:]
             if line.lower().startswith("content-length:")),
            0,
        )  # fmt: skip
        while len(self.buffer) < length:
            self._read()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body.decode(errors="replace")

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the service closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()
