"""Issue 14 (items 3, 4, 11): every email at most once per fault, `Retry-After` read as RFC 9110
says, and a provider's words inert in logs and in the database. Real PostgreSQL, a real HTTP
server speaking SendGrid's and Postmark's APIs on loopback (it counts how many times each
message was accepted), and real `salesengine-jobs` processes where processes matter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from factories import FIXED_NOW
from fake_providers import FakeProviders, Scripted
from sqlalchemy import Engine, text
from test_cli import _url
from test_email import KEY, settings_for
from waiting import DEADLINE_SECONDS, wait_for

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.engine import session_scope
from salesengine_tui.email import outbox
from salesengine_tui.email.providers import Outcome, Outgoing
from salesengine_tui.email.sender import make_provider
from salesengine_tui.usecases.email import drain

LATER = FIXED_NOW + timedelta(days=1)  # past every backoff and every lease


def queue_to(engine: Engine, settings, addresses: list[str], *, key: str = "h") -> list[str]:
    """One email per address (the same address may come twice); their outbox ids."""
    ids = []
    with session_scope(engine) as s:
        for i, address in enumerate(addresses):
            queued = outbox.enqueue(s, key=f"{key}:{i}", to_email=address, subject=f"S{i}",
                                    body="b", now=FIXED_NOW, settings=settings)  # fmt: skip
            ids.append(str(queued.id))
    return ids


def by_status(engine: Engine) -> dict[str, set[str]]:
    rows: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for row_id, status in conn.execute(text("SELECT id, status::text FROM email_outbox")):
            rows.setdefault(status, set()).add(str(row_id))
    return rows


def assert_at_most_once(fake: FakeProviders) -> None:
    twice = {row_id: n for row_id, n in fake.accepted.items() if n > 1}
    assert not twice, f"accepted more than once: {twice}"


def run_drain(engine: Engine, settings, clock_at: datetime = FIXED_NOW):
    return drain(engine, make_provider(settings), settings, clock=FixedClock(clock_at))


HTML_413 = Scripted(413, {"Content-Type": "text/html"}, b"<html>Request Entity Too Large</html>")


# --- 14.3: whatever the provider accepted is recorded as sent ----------------------------------


def test_413_then_singles_then_429_keeps_what_was_accepted(
    engine: Engine, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "sendgrid")
    ids = queue_to(engine, settings, [f"a{i}@example.com" for i in range(4)])
    too_many = Scripted(429, {"Retry-After": "60"}, b'{"errors":[{"message":"slow down"}]}')
    fake.answer(HTML_413, Scripted(202), Scripted(202), too_many)
    report = run_drain(engine, settings)
    assert (report.sent, report.retried) == (2, 2)
    statuses = by_status(engine)
    assert statuses["sent"] == set(fake.accepted) and len(statuses["queued"]) == 2
    run_drain(engine, settings, LATER)
    assert by_status(engine) == {"sent": set(ids)}
    assert_at_most_once(fake)


def test_same_address_twice_second_request_busy(engine: Engine, fake: FakeProviders) -> None:
    settings = settings_for(fake, "sendgrid")
    ids = queue_to(engine, settings, ["hank@example.com", "peggy@example.com", "hank@example.com"])
    fake.answer(Scripted(202), Scripted(503, {}, b""))  # two requests: Hank is in each once
    report = run_drain(engine, settings)
    assert (report.sent, report.retried) == (2, 1) and len(fake.received) == 2
    assert by_status(engine)["sent"] == set(fake.accepted)
    run_drain(engine, settings, LATER)
    assert by_status(engine) == {"sent": set(ids)}
    assert_at_most_once(fake)


@pytest.mark.parametrize(
    "answer",
    [b"[null]", b'[{"ErrorCode": "x", "Message": "?"}]', b'[{"ErrorCode": null}]', b"[[]]"],
)
def test_postmark_unreadable_result_fails_the_message(
    engine: Engine, fake: FakeProviders, answer: bytes
) -> None:
    """The README: an answer that cannot be read fails rather than risk sending twice; it must
    neither raise nor leave the row `sending` to go out again after the lease."""
    settings = settings_for(fake, "postmark")
    queue_to(engine, settings, ["p@example.com"])
    fake.answer(Scripted(200, {"Content-Type": "application/json"}, answer))
    report = run_drain(engine, settings)
    assert report.failed == 1 and set(by_status(engine)) == {"failed"}
    with engine.connect() as conn:
        error = conn.execute(text("SELECT last_error FROM email_outbox")).scalar_one()
    assert "cannot be read" in error
    run_drain(engine, settings, LATER)
    assert len(fake.received) == 1
    assert_at_most_once(fake)


def test_postmark_half_readable_answer_keeps_the_readable_half(
    engine: Engine, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "postmark")
    queue_to(engine, settings, ["p@example.com", "q@example.com"])
    answer = b'[{"ErrorCode": 0, "MessageID": "pm-1", "Message": "OK"}, null]'
    fake.answer(Scripted(200, {"Content-Type": "application/json"}, answer))
    report = run_drain(engine, settings)
    assert (report.sent, report.failed) == (1, 1)
    assert {k: len(v) for k, v in by_status(engine).items()} == {"sent": 1, "failed": 1}
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT provider_message_id FROM email_outbox WHERE status = 'sent'")
            ).scalar_one()
            == "pm-1"
        )
    run_drain(engine, settings, LATER)
    assert len(fake.received) == 1


def test_401_during_single_retries_keeps_delivered_sent(
    engine: Engine, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "postmark")
    queue_to(engine, settings, ["a@example.com", "b@example.com", "c@example.com"])
    denied = Scripted(
        401, {"Content-Type": "application/json"}, b'{"ErrorCode":10,"Message":"Bad"}'
    )
    fake.answer(HTML_413, Scripted(200), denied)
    report = run_drain(engine, settings)
    assert report.stopped and "refused the API key" in report.stopped
    statuses = by_status(engine)
    assert len(fake.accepted) == 1 and statuses["sent"] == set(fake.accepted)
    assert len(statuses["failed"]) == 2  # the refused one and the one never tried
    run_drain(engine, settings, LATER)
    assert len(fake.received) == 3
    assert_at_most_once(fake)


def test_lease_is_renewed_while_a_sender_works_through_single_retries(
    engine: Engine, db_url, fake: FakeProviders
) -> None:
    """Two real `salesengine-jobs once outbox` processes, a 2 s lease. The first sender's
    batch is refused (413) and retried one message at a time, 0.5 s each, far past its lease;
    a second sender starts once the first has held its claim longer than the lease, and ends
    while the first still works. Nobody gets an email twice, everybody gets one."""
    settings = settings_for(fake, "sendgrid")
    ids = queue_to(engine, settings, [f"l{i}@example.com" for i in range(40)])
    fake.answer(HTML_413, *[Scripted(202, delay=0.5) for _ in range(40)])
    env = {
        **os.environ,
        "SALESENGINE_EMAIL_PROVIDER": "sendgrid",
        "SALESENGINE_SENDGRID_API_KEY": KEY,
        "SALESENGINE_SENDGRID_BASE_URL": fake.url,
        "SALESENGINE_OUTBOX_LEASE_SECONDS": "2",
    }
    argv = [sys.executable, "-m", "salesengine_jobs.cli", "--database-url", _url(db_url),
            "once", "outbox"]  # fmt: skip
    first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The batch and five singles have reached the provider, four answered: 2 s and more
        # since the claim, so a lease that is not renewed is over.
        assert fake.wait_received(6), "the first sender never got through its singles"
        second = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=DEADLINE_SECONDS * 2
        )
        still_working = first.poll() is None
        with fake.lock:  # the second sender is done: the provider need not be slow any more
            fake.script.clear()
        _out, err = first.communicate(timeout=DEADLINE_SECONDS)
    finally:
        if first.poll() is None:
            first.kill()
    assert still_working, "the second sender ran after the first had finished: no overlap"
    assert second.returncode == 0 and first.returncode == 0, (second.stderr, err)
    assert_at_most_once(fake)
    assert set(fake.accepted) == set(ids)
    assert by_status(engine) == {"sent": set(ids)}
    assert "sent 0" in second.stdout and "recovered" not in second.stdout


def test_a_stop_between_requests_gives_back_the_rest_untouched(
    engine: Engine, fake: FakeProviders
) -> None:
    """SIGTERM in the runner sets `should_stop`: the sender ends after the request in flight,
    and the messages it never sent are queued again at once, the claim not counted."""
    settings = settings_for(fake, "sendgrid")
    queue_to(engine, settings, [f"s{i}@example.com" for i in range(3)])
    fake.answer(HTML_413)
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW),
                   should_stop=lambda: bool(fake.accepted))  # fmt: skip
    assert report.sent == 1 and len(fake.received) == 2
    with engine.connect() as conn:
        rest = conn.execute(
            text("SELECT attempts, next_attempt_at FROM email_outbox WHERE status = 'queued'")
        ).all()
    assert rest == [(0, FIXED_NOW), (0, FIXED_NOW)]


# --- 14.4: Retry-After ---------------------------------------------------------------------


def _in(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("retry_after", "low", "high"),
    [
        ("soon", 20, 40),  # not a number nor a date: ignored, the backoff (30 s +-20%) rules
        ("inf", 20, 40),
        ("1e13", 20, 40),
        ("-5", 20, 40),
        ("120", 119, 121),
        # Dates two minutes ahead, written when the test runs: RFC 850, asctime, IMF-fixdate.
        (lambda: _in(120).strftime("%A, %d-%b-%y %H:%M:%S GMT"), 100, 125),
        (lambda: _in(120).strftime("%a %b %d %H:%M:%S %Y"), 100, 125),
        (lambda: format_datetime(_in(120), usegmt=True), 100, 125),
        ("Fri, 01 Jan 2099 00:00:00 GMT", 3600, 3600),  # capped at one hour
        ("99999999999", 3600, 3600),
    ],
    ids=["soon", "inf", "1e13", "negative", "120", "rfc850", "asctime", "imf", "2099", "1e11"],
)
def test_retry_after_read_as_rfc_9110_says_and_capped(
    engine: Engine, fake: FakeProviders, retry_after, low: float, high: float
) -> None:
    if callable(retry_after):
        retry_after = retry_after()
    settings = settings_for(fake, "sendgrid")
    queue_to(engine, settings, ["r@example.com"])
    fake.answer(Scripted(429, {"Retry-After": retry_after}, b'{"errors":[{"message":"wait"}]}'))
    report = run_drain(engine, settings)  # no traceback, whatever the header holds
    assert report.retried == 1
    with engine.connect() as conn:
        status, due = conn.execute(
            text("SELECT status::text, next_attempt_at FROM email_outbox")
        ).one()
    assert status == "queued"
    assert low <= (due - FIXED_NOW).total_seconds() <= high


def test_retry_after_cap_is_a_setting(engine: Engine, fake: FakeProviders) -> None:
    settings = settings_for(fake, "sendgrid", outbox_retry_after_max_seconds=600)
    queue_to(engine, settings, ["r@example.com"])
    fake.answer(Scripted(503, {"Retry-After": "86400"}, b""))
    run_drain(engine, settings)
    with engine.connect() as conn:
        due = conn.execute(text("SELECT next_attempt_at FROM email_outbox")).scalar_one()
    assert due == FIXED_NOW + timedelta(seconds=600)


class BrokenProvider:
    """A provider (the interface the sender talks to, like the file provider) whose code
    fails on one message: a fault nobody foresaw."""

    name = "broken"
    batch_size = 10

    def requests(self, batch: list[Outgoing]) -> list[list[Outgoing]]:
        return [[message] for message in batch]

    def send(self, request: list[Outgoing]) -> list[Outcome]:
        if any(message.to_email == "bad@example.com" for message in request):
            raise RuntimeError("a bug in the provider code")
        return [Outcome(message.id, True, message_id="x") for message in request]

    def close(self) -> None:
        pass


def test_a_fault_anywhere_in_a_drain_leaves_nothing_claimed(
    engine: Engine, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "sendgrid")
    queue_to(engine, settings, ["ok@example.com", "bad@example.com", "later@example.com"])
    report = drain(engine, BrokenProvider(), settings, clock=FixedClock(FIXED_NOW))
    assert report.stopped and "RuntimeError" in report.stopped
    statuses = by_status(engine)
    assert "sending" not in statuses
    # The broken message fails; the others were sent before it or went back to the queue,
    # whichever order they were claimed in.
    assert len(statuses.get("failed", ())) == 1
    assert sum(len(v) for v in statuses.values()) == 3
    assert set(statuses) <= {"failed", "sent", "queued"}


# --- 14.11: a provider's words stay inert in logs and in the database ------------------------

FORGED = "boom\n2026-12-01 00:00:00,000 level=ERROR logger=salesengine.jobs event=forged x=\x1b[2J"
PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
LINE_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} level=[A-Z]+ logger=\S+ ")


def test_provider_error_text_cannot_forge_a_log_line_or_reach_the_database(
    engine: Engine, db_url, desk, fake: FakeProviders, tmp_path
) -> None:
    """A real `salesengine-jobs run`: the provider refuses the key (401), then is busy (500),
    both with an error text that holds a newline, a whole forged log line and ESC. The
    managers' notice of the 401 (`desk`: a manager exists) is clean too."""
    import json
    import signal

    settings = settings_for(fake, "sendgrid")
    body = json.dumps({"errors": [{"message": FORGED}]}).encode()
    fake.answer(Scripted(401, {"Content-Type": "application/json"}, body))
    (first,) = queue_to(engine, settings, ["one@example.com"])
    env = {
        **os.environ,
        "SALESENGINE_EMAIL_PROVIDER": "sendgrid",
        "SALESENGINE_SENDGRID_API_KEY": KEY,
        "SALESENGINE_SENDGRID_BASE_URL": fake.url,
        "SALESENGINE_OUTBOX_EVERY_SECONDS": "1",
        "SALESENGINE_NURTURE_AT": "23:59",
        "SALESENGINE_OUTBOX_DIR": str(tmp_path),
    }
    runner = subprocess.Popen(
        [sys.executable, "-m", "salesengine_jobs.cli", "--database-url", _url(db_url), "run"],
        env=env, stderr=subprocess.PIPE,
    )  # fmt: skip
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(runner.stderr), daemon=True)
    reader.start()

    def errors() -> dict[str, str | None]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, last_error FROM email_outbox")).all()
        return {str(row_id): error for row_id, error in rows}

    try:
        wait_for(lambda: errors().get(first), "the first email failing on the 401")
        fake.answer(Scripted(500, {"Content-Type": "application/json"}, body))
        (second,) = queue_to(engine, settings, ["two@example.com"], key="second")
        wait_for(lambda: errors().get(second), "the second email waiting after the 500")
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=DEADLINE_SECONDS) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
    reader.join(DEADLINE_SECONDS)
    log = b"".join(lines)
    assert b"\x1b" not in log
    assert log.count(b"event=forged") >= 2  # the provider's words are in the log, quoted
    for line in log.decode().splitlines():
        assert LINE_START.match(line), f"a line the runner did not write: {line!r}"
        pairs = dict(PAIR.findall(LINE_START.sub("", line)))
        assert pairs.get("event") != "forged", line
    for error in errors().values():
        assert error and "boom" in error and error.isprintable(), repr(error)
    with engine.connect() as conn:
        bodies = conn.execute(text("SELECT body FROM notifications")).scalars().all()
    assert bodies and all(body.isprintable() for body in bodies)
