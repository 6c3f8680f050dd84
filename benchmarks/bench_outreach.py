"""The outreach service under a provider's replay: events applied per second through
`salesengine-jobs serve`, a real process on loopback, on 100,000 customers with 100,000 sent
emails (60,000 through SendGrid, 40,000 through Postmark; half in two blasts).

Three phases a run, each on the same fresh clone, with the service started anew:
  (a) SendGrid's signed Event Webhook, 1,000 events a request (how SendGrid batches under
      load), over SENDGRID_CONNECTIONS connections: 50,000 events, nine in ten `delivered`,
      the rest bounce, dropped, spamreport and unsubscribe;
  (c) the same 50 requests again (re-signed: a stale timestamp is refused), every event a
      duplicate: nothing may be stored or changed;
  (b) Postmark, one event a request (its webhooks are one event each), 8 connections: 3,000
      events, nine in ten Delivery, the rest hard bounces;
  (d) the same on 64 connections (6,000 other events): Postmark replaying a day's events
      retries them in parallel. The service writes the requests that arrive together in one
      transaction (group commit), so more connections mean bigger transactions.
After each phase SQL counts the email_events rows and the suppressed and opted-out customers:
the counts, not the 200s, prove the events were applied. Target: 1,000 events a second.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness import Cluster, Options, Result, benchmark
from outreach_load import (
    POSTMARK_PATH,
    SENDGRID_PATH,
    Load,
    Request,
    SendGridKey,
    basic_auth,
    measured_load,
    parent_of,
    postmark_body,
    postmark_kind,
    sample_rows,
    sendgrid_body,
    sendgrid_kind,
)
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from outreach_service import running_service

CUSTOMERS = 100_000
SENDGRID_ROWS = 60_000  # outbox rows 1..60,000 went through SendGrid, the rest through Postmark
SENDGRID_EVENTS, SENDGRID_BATCH, SENDGRID_CONNECTIONS = 50_000, 1_000, 4
POSTMARK_FIRST, POSTMARK_EVENTS, POSTMARK_CONNECTIONS = 60_001, 3_000, 8
# A replay: Postmark retries in parallel, so a day's events come as many concurrent requests.
REPLAY_FIRST, REPLAY_EVENTS, REPLAY_CONNECTIONS = 70_001, 6_000, 64
TARGET = 1_000  # events a second
USERNAME, PASSWORD = "postmark-hook", "bench-webhook-password"
SIGNING_KEY = "bench-signing-key-0123456789abcdef0123456789abcdef"

# Ids follow from n (outreach_load.outbox_row makes the same), so payloads need no query.
FILL = """
INSERT INTO customers (id, name, email, status, created_at)
SELECT ('10000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'Customer ' || g,
       'c' || g || '@example.com', 'active', now() - interval '400 days'
FROM generate_series(1, :customers) AS g;
INSERT INTO blasts (id, content_key, segment_name, definition, subject, body, recipients)
VALUES ('20000000-0000-4000-8000-000000000001', 'bench:spring', 'Spring tune-up', '{}',
        'Spring tune-up', 'Book your tune-up', 30000),
       ('20000000-0000-4000-8000-000000000002', 'bench:fall', 'Fall furnace check', '{}',
        'Fall furnace check', 'Book your check', 20000);
INSERT INTO email_outbox (id, idempotency_key, customer_id, to_email, to_name, subject,
                          body_text, is_campaign, status, attempts, provider,
                          provider_message_id, blast_id, created_at, next_attempt_at, sent_at)
SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'bench:' || g,
       ('10000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
       'c' || g || '@example.com', 'Customer ' || g,
       CASE WHEN blast IS NULL THEN 'Checking in on your quote' ELSE 'Spring tune-up' END,
       'Hi,' || E'\\n\\nJust checking in.\\n', blast IS NOT NULL, 'sent', 1,
       CASE WHEN g <= :sendgrid THEN 'sendgrid' ELSE 'postmark' END,
       CASE WHEN g <= :sendgrid THEN 'sgmsg' || lpad(((g - 1) / 1000)::text, 17, '0')
            ELSE '7f3a0000-0000-4000-8000-' || lpad(g::text, 12, '0') END,
       blast, now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'
FROM (SELECT g, CASE WHEN g <= 30000 THEN '20000000-0000-4000-8000-000000000001'::uuid
                     WHEN g > :sendgrid AND g <= :sendgrid + 20000
                     THEN '20000000-0000-4000-8000-000000000002'::uuid END AS blast
      FROM generate_series(1, :customers) AS g) AS s;
ANALYZE
"""

COUNTS = """
SELECT (SELECT count(*) FROM email_events WHERE provider = 'sendgrid') AS sendgrid,
       (SELECT count(*) FROM email_events WHERE provider = 'postmark') AS postmark,
       (SELECT count(*) FROM customers WHERE email_suppressed_at IS NOT NULL) AS suppressed,
       (SELECT count(*) FROM customers WHERE email_opt_out) AS opted_out,
       -- What a replay must leave alone: timeline entries, and when each customer changed.
       (SELECT count(*) FROM customer_interactions) AS interactions,
       (SELECT md5(string_agg(concat_ws('/', id, email_suppressed_at, email_suppressed_reason,
                                        opted_out_at), ',' ORDER BY id))
        FROM customers WHERE email_suppressed_at IS NOT NULL OR email_opt_out) AS fingerprint
"""


def fill(engine: Engine) -> None:
    with engine.begin() as conn:
        for statement in FILL.split(";\n"):
            if statement.strip():
                conn.execute(text(statement), {"customers": CUSTOMERS, "sendgrid": SENDGRID_ROWS})


@dataclass(frozen=True)
class Counts:
    sendgrid: int
    postmark: int
    suppressed: int
    opted_out: int
    # Compared only where the exact state is known (a replay must not change it).
    interactions: int = field(default=0, compare=False)
    fingerprint: str | None = field(default=None, compare=False)

    def state(self) -> tuple[object, ...]:
        return (self, self.interactions, self.fingerprint)


def counts(engine: Engine) -> Counts:
    with engine.connect() as conn:
        return Counts(*conn.execute(text(COUNTS)).one())


def expected_after_sendgrid() -> Counts:
    kinds = [sendgrid_kind(n) for n in range(1, SENDGRID_EVENTS + 1)]
    # A hard bounce or a drop suppresses; a complaint suppresses and opts out; an unsubscribe
    # at the provider opts out (email.events' rules).
    suppressed = sum(k in ("bounce", "dropped", "spamreport") for k in kinds)
    opted_out = sum(k in ("spamreport", "unsubscribe") for k in kinds)
    return Counts(SENDGRID_EVENTS, 0, suppressed, opted_out)


def expected_after_postmark(before: Counts, first: int, events: int) -> Counts:
    bounces = postmark_bounces(first, events)
    return Counts(
        before.sendgrid, before.postmark + events, before.suppressed + bounces, before.opted_out
    )


# --- The service process --------------------------------------------------------------------


@dataclass(frozen=True)
class Running:
    url: str
    pid: int  # the service process
    database_pid: int  # the PostgreSQL server (postmaster) its connections are children of


@contextmanager
def service(engine: Engine, public_key: str) -> Iterator[Running]:
    """`salesengine-jobs serve` on a free loopback port, started as the tests start it
    (tests/outreach_service.py), once /healthz answers."""
    with engine.connect() as conn:
        postmaster = parent_of(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    with tempfile.TemporaryDirectory(prefix="salesengine-bench-serve-") as folder:
        config = Path(folder) / "config.toml"
        config.write_text("")  # not the user's settings
        settings = {
            "config_file": str(config),
            "data_dir": folder,
            "signing_key": SIGNING_KEY,
            "webhook_username": USERNAME,
            "webhook_password": PASSWORD,
            "sendgrid_webhook_public_key": public_key,
        }
        with running_service(engine.url, settings, Path(folder) / "serve.log") as running:
            yield Running(running.url, running.process.pid, postmaster)


# --- The phases -----------------------------------------------------------------------------


def sendgrid_requests(key: SendGridKey, bodies: list[bytes]) -> list[Request]:
    """Signed just before the phase: a timestamp older than the service's limit is refused."""
    return [Request(SENDGRID_PATH, body, key.headers(body), SENDGRID_BATCH) for body in bodies]


def postmark_requests(first: int, events: int) -> list[Request]:
    headers = basic_auth(USERNAME, PASSWORD)
    rows = sample_rows(events, first, "postmark")
    return [Request(POSTMARK_PATH, postmark_body(row), headers, 1) for row in rows]


@dataclass
class Run:
    sendgrid: Load
    replay: Load
    postmark: Load
    postmark_replay: Load


def one_run(engine: Engine, key: SendGridKey, bodies: list[bytes]) -> Run:
    with service(engine, key.public_key) as running:

        def phase(requests: list[Request], connections: int, what: str) -> Load:
            load = measured_load(
                running.url,
                requests,
                connections,
                service_pid=running.pid,
                database_pid=running.database_pid,
            )
            if load.failures:
                raise RuntimeError(
                    f"{what}: {len(load.failures)} requests failed, first: {load.failures[0]}"
                )
            return load

        # Warm-up: imports and the first connection, outside the timing; stores nothing.
        phase(sendgrid_requests(key, [b"[]"]), 1, "warm-up")
        sendgrid = phase(sendgrid_requests(key, bodies), SENDGRID_CONNECTIONS, "SendGrid")
        after = counts(engine)
        expect(after, expected_after_sendgrid(), "after the SendGrid batches")
        replay = phase(sendgrid_requests(key, bodies), SENDGRID_CONNECTIONS, "SendGrid replay")
        again = counts(engine)
        if again.state() != after.state():
            raise RuntimeError(f"the replay changed the database: {after} -> {again}")
        postmark = phase(
            postmark_requests(POSTMARK_FIRST, POSTMARK_EVENTS), POSTMARK_CONNECTIONS, "Postmark"
        )
        after = expect(
            counts(engine),
            expected_after_postmark(after, POSTMARK_FIRST, POSTMARK_EVENTS),
            "after the Postmark events",
        )
        postmark_replay = phase(
            postmark_requests(REPLAY_FIRST, REPLAY_EVENTS), REPLAY_CONNECTIONS, "Postmark replay"
        )
        expect(
            counts(engine),
            expected_after_postmark(after, REPLAY_FIRST, REPLAY_EVENTS),
            "after the Postmark replay",
        )
    return Run(sendgrid, replay, postmark, postmark_replay)


def expect(got: Counts, want: Counts, when: str) -> Counts:
    if got != want:
        raise RuntimeError(f"{when}: the database holds {got}, expected {want}")
    return got


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}" if seconds >= 0.1 else f"{seconds * 1000:.1f}"


def result(name: str, size: str, loads: list[Load], tail: str) -> Result:
    rate = statistics.median(load.events_per_second for load in loads)
    requests = statistics.median(load.requests_per_second for load in loads)
    latencies = [t for load in loads for t in load.latencies]
    whole = Load(1.0, latencies, 0)
    verdict = "meets" if rate >= TARGET else "BELOW"
    service_cpu = statistics.median(load.cpu_service * 1000 / load.events for load in loads)
    database_cpu = statistics.median(load.cpu_database * 1000 / load.events for load in loads)
    client_cpu = statistics.median(load.cpu_client * 1000 / load.events for load in loads)
    # What an idle machine could do if CPU were the only limit: two cores for both, and one
    # for the service (one Python process: its work holds the GIL).
    ceiling = min(2 * 1000 / (service_cpu + database_cpu), 1000 / service_cpu)
    note = (
        f"median {rate:,.0f} events/s ({verdict} {TARGET:,}/s), {requests:,.1f} req/s, "
        f"p50 {ms(whole.percentile(50))} ms, p95 {ms(whole.percentile(95))} ms; "
        f"CPU per event: service {service_cpu:.2f} ms + PostgreSQL {database_cpu:.2f} ms "
        f"(CPU-bound ceiling on 2 idle cores ~{ceiling:,.0f}/s; the load generator took "
        f"{client_cpu:.2f} ms on the same cores); {tail}"
    )
    events = loads[0].events
    return Result(name, size, [load.wall for load in loads], rows=events, note=note)


@benchmark(
    "outreach",
    "provider events applied per second through `salesengine-jobs serve` (loopback)",
    order=55,
)
def outreach(cluster: Cluster, options: Options) -> list[Result]:
    template = cluster.template("head", fill, label="outreach-100k")
    key = SendGridKey()
    rows = sample_rows(SENDGRID_EVENTS, 1, "sendgrid")
    bodies = [
        sendgrid_body(rows[i : i + SENDGRID_BATCH]) for i in range(0, len(rows), SENDGRID_BATCH)
    ]
    runs: list[Run] = []
    load_before = os.getloadavg()[0]  # other work on the machine slows the wall clock
    for _ in range(options.repeat):
        with cluster.fresh(template) as engine:
            runs.append(one_run(engine, key, bodies))
            final = counts(engine)
    sg = expected_after_sendgrid()
    return [
        result(
            f"SendGrid Event Webhook, {SENDGRID_BATCH:,} events a request, "
            f"{SENDGRID_CONNECTIONS} connections",
            f"{SENDGRID_EVENTS:,} events",
            [r.sendgrid for r in runs],
            f"SQL after: {sg.sendgrid:,} email_events, {sg.suppressed:,} suppressed, "
            f"{sg.opted_out:,} opted out",
        ),
        result(
            "SendGrid replay of the same requests (all duplicates)",
            f"{SENDGRID_EVENTS:,} events",
            [r.replay for r in runs],
            "SQL after: no row added or changed",
        ),
        result(
            f"Postmark webhook, one event a request, {POSTMARK_CONNECTIONS} connections",
            f"{POSTMARK_EVENTS:,} events",
            [r.postmark for r in runs],
            f"SQL after: {POSTMARK_EVENTS:,} postmark email_events, "
            f"{postmark_bounces(POSTMARK_FIRST, POSTMARK_EVENTS):,} more suppressed",
        ),
        result(
            f"Postmark replay, one event a request, {REPLAY_CONNECTIONS} connections "
            "(Postmark retries in parallel)",
            f"{REPLAY_EVENTS:,} events",
            [r.postmark_replay for r in runs],
            f"SQL after: {final.postmark:,} postmark email_events in all, "
            f"{final.suppressed - sg.suppressed:,} more suppressed than after SendGrid; machine "
            f"load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end",
        ),
    ]


def postmark_bounces(first: int, events: int) -> int:
    return sum(postmark_kind(n) == "HardBounce" for n in range(first, first + events))
