"""Draining the outbox to a local fake provider (the tests' loopback server that speaks
SendGrid's and Postmark's APIs): messages per second with batching and one reused connection,
against one request per message, in the same run."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from harness import Cluster, Options, Result, benchmark
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fake_providers import FakeProviders

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import load_settings
from salesengine_tui.email.sender import make_provider
from salesengine_tui.usecases.email import drain

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
BATCHED = 100_000
SINGLE = 5_000  # one request per message is slow: a smaller queue gives its rate

FILL = """
INSERT INTO email_outbox (idempotency_key, to_email, to_name, subject, body_text, created_at,
                          next_attempt_at)
SELECT 'bench:' || g, 'person' || g || '@example.com', 'Person ' || g,
       'Checking in on your quote #' || g,
       'Hi Person ' || g || E',\\n\\nJust checking in on the quote for your new AC.\\n',
       :now, :now
FROM generate_series(1, :n) AS g
"""


def fill_for(n: int):
    def fill(engine: Engine) -> None:
        with engine.begin() as conn:
            conn.execute(text(FILL), {"n": n, "now": NOW})
            conn.execute(text("ANALYZE email_outbox"))

    return fill


def _run(
    cluster: Cluster, template: str, provider_name: str, batch: int | None
) -> tuple[float, int]:
    with FakeProviders() as fake, cluster.fresh(template) as engine:
        settings = load_settings(
            email_provider=provider_name,
            sendgrid_api_key="bench",
            sendgrid_base_url=fake.url,
            postmark_server_token="bench",
            postmark_base_url=fake.url,
        )
        provider = make_provider(settings)
        if batch is not None:
            provider.batch_size = batch  # type: ignore[misc]
        started = time.perf_counter()
        report = drain(engine, provider, settings, clock=FixedClock(NOW))
        seconds = time.perf_counter() - started
        provider.close()
        return seconds, report.sent


@benchmark(
    "email", "outbox drain to a loopback fake provider: batched vs one per message", order=50
)
def email(cluster: Cluster, options: Options) -> list[Result]:
    big = cluster.template("head", fill_for(BATCHED), label="outbox-100k")
    small = cluster.template("head", fill_for(SINGLE), label="outbox-5k")
    results = []
    runs = max(1, options.repeat - 1)
    for provider, label in (
        ("sendgrid", "SendGrid, 1,000 a request"),
        ("postmark", "Postmark, 500 a request"),
    ):
        timings = [_run(cluster, big, provider, None) for _ in range(runs)]
        assert all(sent == BATCHED for _, sent in timings)
        results.append(
            Result(f"drain: {label}, one connection", f"{BATCHED:,} messages",
                   [t for t, _ in timings], rows=BATCHED)
        )  # fmt: skip
    timings = [_run(cluster, small, "postmark", 1) for _ in range(runs)]
    assert all(sent == SINGLE for _, sent in timings)
    results.append(
        Result("drain: Postmark, one request per message", f"{SINGLE:,} messages",
               [t for t, _ in timings], rows=SINGLE)
    )  # fmt: skip
    return results
