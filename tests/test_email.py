"""Email delivery against real PostgreSQL and a real HTTP server speaking SendGrid's and
Postmark's APIs on loopback: the requests actually received are what is checked."""

from __future__ import annotations

import email
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from factories import FIXED_NOW, Desk
from fake_providers import FakeProviders, Scripted
from sqlalchemy import Engine, select, text
from sqlmodel import Session

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import UserError
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import Customer, CustomerInteraction, EmailOutbox, Notification
from salesengine_tui.email import outbox
from salesengine_tui.email.sender import make_provider
from salesengine_tui.usecases.email import drain

KEY = "SG.secret-key-never-shown"


def settings_for(fake: FakeProviders, provider: str, **extra):
    return load_settings(
        email_provider=provider,
        sendgrid_api_key=KEY,
        sendgrid_base_url=fake.url,
        postmark_server_token="pm-token",
        postmark_base_url=fake.url,
        email_from="Sales <sales@acme.example>",
        company_postal_address="1 Main St, Dallas TX 75201",
        unsubscribe_url="https://acme.example/unsubscribe",
        signing_key="test-signing-key-0123456789abcdef",
        **extra,
    )


def queue(
    engine: Engine, settings, desk: Desk, names: list[str], *, campaign=False, key="k"
) -> None:
    with session_scope(engine) as s:
        for name in names:
            c = s.exec(select(Customer).where(Customer.name == name)).scalars().one()
            outbox.enqueue(
                s, key=f"{key}:{c.id}", to_email=c.email, to_name=c.name, subject=f"Hello {name}",
                body="Body text", now=FIXED_NOW, settings=settings, customer_id=c.id,
                is_campaign=campaign, created_by=desk.rep.id,
            )  # fmt: skip


def statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT subject, status::text FROM email_outbox")).all()
    return dict(rows)


def test_enqueue_is_idempotent_and_validated(engine: Engine, with_emails: Desk) -> None:
    settings = load_settings()
    with session_scope(engine) as s:
        first = outbox.enqueue(
            s,
            key="nurture:1",
            to_email="a@example.com",
            subject="Hi\r\nBcc: x@evil.example",
            body="b",
            now=FIXED_NOW,
            settings=settings,
            to_name="Ann\nBcc: y@evil.example",
        )
        again = outbox.enqueue(
            s,
            key="nurture:1",
            to_email="a@example.com",
            subject="Hi",
            body="b",
            now=FIXED_NOW,
            settings=settings,
        )
    assert first.id is not None and again.id is None
    with Session(engine) as s:
        row = s.exec(select(EmailOutbox)).scalars().one()
        assert "\r" not in row.subject and "\n" not in row.subject and "\n" not in row.to_name
    for to, says in [("not-an-address", "not a valid email address"), (None, "no recipient")]:
        with pytest.raises(UserError, match=says), session_scope(engine) as s:
            outbox.enqueue(
                s,
                key=f"x:{to}",
                to_email=to,
                subject="s",
                body="b",
                now=FIXED_NOW,
                settings=settings,
            )
    with (
        pytest.raises(UserError, match="SALESENGINE_COMPANY_POSTAL_ADDRESS"),
        session_scope(engine) as s,
    ):
        outbox.enqueue(s, key="blast:1", to_email="a@example.com", subject="s", body="b", now=FIXED_NOW,
                       settings=settings, is_campaign=True)  # fmt: skip


def test_sendgrid_batches_without_repeating_an_address(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "sendgrid")
    queue(engine, settings, with_emails, ["Hank Hill", "Peggy Hill", "Dale Gribble"], campaign=True)
    with session_scope(engine) as s:  # a second email to Hank in the same drain
        hank = s.exec(select(Customer).where(Customer.name == "Hank Hill")).scalars().one()
        outbox.enqueue(s, key="other", to_email=hank.email, subject="Second", body="b", now=FIXED_NOW,
                       settings=settings, customer_id=hank.id)  # fmt: skip
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert report.sent == 4 and report.failed == 0
    assert [r.path for r in fake.received] == ["/v3/mail/send", "/v3/mail/send"]
    for request in fake.received:
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        addresses = [p["to"][0]["email"] for p in request.body["personalizations"]]
        assert len(addresses) == len(set(addresses))
    everyone = [p for r in fake.received for p in r.body["personalizations"]]
    first = next(p for p in everyone if p["subject"].startswith("Hello"))  # a campaign email
    second = next(p for p in everyone if p["subject"] == "Second")  # one-to-one: no unsubscribe
    assert set(second["headers"]) == {"Message-ID"}
    assert first["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first["headers"]["List-Unsubscribe"].startswith("<https://acme.example/unsubscribe?t=")
    assert "1 Main St, Dallas TX 75201" in first["substitutions"]["-body-"]
    assert set(statuses(engine).values()) == {"sent"}
    with Session(engine) as s:  # each sent email is on its customer's timeline
        logged = (
            s.exec(select(CustomerInteraction).where(CustomerInteraction.notes.like("Hello%")))
            .scalars()
            .all()
        )
        assert {i.created_by for i in logged} == {with_emails.rep.id} and len(logged) == 3
    # draining again sends nothing twice
    drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert len(fake.received) == 2


def test_postmark_mixed_results_suppress_inactive(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "postmark", postmark_broadcast_stream="news")
    fake.inactive.add("peggy.hill@example.com")
    queue(engine, settings, with_emails, ["Hank Hill", "Peggy Hill"], campaign=True)
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert (report.sent, report.suppressed) == (1, 1)
    request = fake.received[0]
    assert (
        request.path == "/email/batch" and request.headers["X-Postmark-Server-Token"] == "pm-token"
    )
    assert {m["MessageStream"] for m in request.body} == {"news"}  # campaigns: broadcast stream
    assert all(
        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"} in m["Headers"]
        for m in request.body
    )
    assert statuses(engine) == {"Hello Hank Hill": "sent", "Hello Peggy Hill": "suppressed"}
    with Session(engine) as s:
        peggy = s.exec(select(Customer).where(Customer.name == "Peggy Hill")).scalars().one()
        assert peggy.email_suppressed_at == FIXED_NOW
    # a later email to Peggy is not even sent
    queue(engine, settings, with_emails, ["Peggy Hill", "Hank Hill"], key="later")
    drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert [m["To"] for m in fake.received[1].body] == ["Hank Hill <hank.hill@example.com>"]
    assert fake.received[1].body[0]["MessageStream"] == "outbound"  # one-to-one: its stream


def test_429_waits_for_retry_after_then_sends_once(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "sendgrid")
    queue(engine, settings, with_emails, ["Hank Hill"])
    fake.answer(Scripted(429, {"Retry-After": "120"}, b'{"errors":[{"message":"too many"}]}'))
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert report.retried == 1 and report.sent == 0
    with Session(engine) as s:
        row = s.exec(select(EmailOutbox)).scalars().one()
        assert row.status == "queued" and row.next_attempt_at >= FIXED_NOW + timedelta(seconds=120)
        assert "too many" in row.last_error
    drain(
        engine,
        make_provider(settings),
        settings,
        clock=FixedClock(FIXED_NOW + timedelta(seconds=30)),
    )
    assert len(fake.received) == 1  # not due yet
    drain(
        engine,
        make_provider(settings),
        settings,
        clock=FixedClock(FIXED_NOW + timedelta(minutes=5)),
    )
    assert len(fake.received) == 2 and statuses(engine) == {"Hello Hank Hill": "sent"}


def test_500_and_html_are_retried(engine: Engine, with_emails: Desk, fake: FakeProviders) -> None:
    settings = settings_for(fake, "postmark")
    queue(engine, settings, with_emails, ["Hank Hill"])
    fake.answer(Scripted(500, {"Content-Type": "text/html"}, b"<html><h1>Oops</h1></html>"))
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert report.retried == 1 and "HTTP 500 (text/html body)" in report.errors[0]


def test_401_stops_at_once_and_tells_managers(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "postmark")
    queue(engine, settings, with_emails, ["Hank Hill", "Peggy Hill"])
    fake.answer(
        Scripted(
            401, {"Content-Type": "application/json"}, b'{"ErrorCode":10,"Message":"Bad token"}'
        )
    )
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert (
        report.stopped and "refused the API key" in report.stopped and "Bad token" in report.stopped
    )
    assert "pm-token" not in report.stopped
    assert len(fake.received) == 1
    assert set(statuses(engine).values()) == {"failed"}
    with Session(engine) as s:
        notes = s.exec(select(Notification)).scalars().all()
        assert [n.user_id for n in notes] == [with_emails.manager.id]


def test_413_html_fails_only_that_message(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "sendgrid")
    queue(engine, settings, with_emails, ["Hank Hill", "Peggy Hill"])
    too_big = Scripted(413, {"Content-Type": "text/html"}, b"<html>Request Entity Too Large</html>")
    fake.answer(too_big, too_big)  # the batch, then the first message on its own
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert (report.sent, report.failed) == (1, 1)
    with engine.connect() as conn:
        errors = dict(conn.execute(text("SELECT status::text, last_error FROM email_outbox")).all())
    assert errors["failed"] == "HTTP 413 (text/html body)"


def test_opt_out_after_queueing_sends_nothing(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "sendgrid")
    queue(engine, settings, with_emails, ["Hank Hill"])
    with session_scope(engine) as s:
        assert outbox.unsubscribe(s, "HANK.HILL@example.com", now=FIXED_NOW) == 1
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert report.suppressed == 1 and fake.received == []
    assert statuses(engine) == {"Hello Hank Hill": "suppressed"}


def test_two_senders_never_send_a_row_twice(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "postmark")
    with session_scope(engine) as s:
        for i in range(300):
            outbox.enqueue(s, key=f"bulk:{i}", to_email=f"p{i}@example.com", subject=f"S{i}", body="b",
                           now=FIXED_NOW, settings=settings)  # fmt: skip
    providers = [make_provider(settings), make_provider(settings)]
    for p in providers:
        p.batch_size = 20  # many small claims, so the two senders interleave
    threads = [
        threading.Thread(
            target=drain, args=(engine, p, settings), kwargs={"clock": FixedClock(FIXED_NOW)}
        )
        for p in providers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [m["To"] for r in fake.received for m in r.body]
    assert len(sent) == 300 and len(set(sent)) == 300
    assert set(statuses(engine).values()) == {"sent"}


def test_a_sender_killed_after_claiming_loses_nothing(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    settings = settings_for(fake, "sendgrid")
    queue(engine, settings, with_emails, ["Hank Hill", "Peggy Hill"])
    with session_scope(engine) as s:  # a sender claims, then dies before sending
        assert len(outbox.claim(s, now=FIXED_NOW, limit=10)) == 2
    drain(
        engine,
        make_provider(settings),
        settings,
        clock=FixedClock(FIXED_NOW + timedelta(minutes=1)),
    )
    assert fake.received == []  # still leased to the dead sender
    report = drain(
        engine,
        make_provider(settings),
        settings,
        clock=FixedClock(FIXED_NOW + timedelta(minutes=11)),
    )
    assert report.recovered == 2 and report.sent == 2 and len(fake.received) == 1


def test_file_provider_writes_eml(engine: Engine, with_emails: Desk, tmp_path: Path) -> None:
    settings = load_settings(outbox_dir=tmp_path, company_postal_address="1 Main St",
                             unsubscribe_url="https://acme.example/u", email_from="Sales <s@acme.example>",
                             signing_key="test-signing-key-0123456789abcdef")  # fmt: skip
    queue(engine, settings, with_emails, ["Hank Hill"], campaign=True)
    report = drain(engine, make_provider(settings), settings, clock=FixedClock(FIXED_NOW))
    assert report.sent == 1
    (eml,) = tmp_path.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes())
    assert (
        message["To"] == "Hank Hill <hank.hill@example.com>"
        and message["Subject"] == "Hello Hank Hill"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "1 Main St" in message.get_payload()


def test_cli_unsubscribe_and_jobs_once_outbox(
    engine: Engine,
    db_url,
    with_emails: Desk,
    fake: FakeProviders,
    capsys: pytest.CaptureFixture[str],
    monkeypatch,
) -> None:
    from salesengine_jobs.cli import main as jobs_main
    from test_cli import _url, run

    settings = settings_for(fake, "sendgrid")
    queue(engine, settings, with_emails, ["Hank Hill", "Peggy Hill"])
    code, out, _ = run(
        capsys, "--database-url", _url(db_url), "unsubscribe", "peggy.hill@example.com"
    )
    assert code == 0 and "opted out 1 customer" in out
    for name, value in {
        "SALESENGINE_EMAIL_PROVIDER": "sendgrid",
        "SALESENGINE_SENDGRID_API_KEY": KEY,
        "SALESENGINE_SENDGRID_BASE_URL": fake.url,
    }.items():
        monkeypatch.setenv(name, value)
    assert jobs_main(["--database-url", _url(db_url), "once", "outbox"]) == 0
    out = capsys.readouterr().out
    assert "sent 1, failed 0, suppressed 1" in out
    assert KEY not in out
    assert [p["to"][0]["email"] for p in fake.received[0].body["personalizations"]] == [
        "hank.hill@example.com"
    ]
    fake.answer(Scripted(401, {}, b"denied"))
    queue(engine, settings, with_emails, ["Dale Gribble"], key="later")
    assert jobs_main(["--database-url", _url(db_url), "once", "outbox"]) == 1
    captured = capsys.readouterr()
    assert "refused the API key" in captured.err and KEY not in captured.err


def test_sender_killed_mid_batch_loses_nothing(
    engine: Engine, db_url, with_emails: Desk, fake: FakeProviders
) -> None:
    """A real `salesengine-jobs once outbox` process, killed with SIGKILL while the provider is
    answering its first batch; a new sender after the lease sends everything, and only that
    batch can arrive twice."""
    import os
    import signal
    import subprocess
    import sys

    from test_cli import _url

    settings = settings_for(fake, "postmark", outbox_lease_seconds=1)
    with session_scope(engine) as s:
        for i in range(700):
            outbox.enqueue(s, key=f"kill:{i}", to_email=f"k{i}@example.com", subject=f"S{i}", body="b",
                           now=FIXED_NOW, settings=settings)  # fmt: skip
    fake.answer(Scripted(200, delay=10))  # the first batch hangs in the provider
    env = {
        **os.environ,
        "SALESENGINE_EMAIL_PROVIDER": "postmark",
        "SALESENGINE_POSTMARK_SERVER_TOKEN": "pm-token",
        "SALESENGINE_POSTMARK_BASE_URL": fake.url,
        "SALESENGINE_OUTBOX_LEASE_SECONDS": "1",
    }
    sender = subprocess.Popen(
        [sys.executable, "-m", "salesengine_jobs.cli", "--database-url", _url(db_url), "once", "outbox"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert fake.wait_received(1), "the sender never reached the provider"
        # In flight at the kill: the batch the provider holds is claimed and not yet sent.
        with engine.connect() as conn:
            claimed = conn.execute(
                text("SELECT to_email, claimed_at FROM email_outbox WHERE status = 'sending'")
            ).all()
            sent = conn.execute(text("SELECT count(*) FROM email_outbox WHERE status = 'sent'"))
            assert sent.scalar_one() == 0
    finally:
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=10)
    first_batch = {m["To"] for m in fake.received[0].body}
    assert len(first_batch) == 500
    assert first_batch == {row.to_email for row in claimed}
    # The next sender's clock reads past the dead sender's lease (1 s from its claim).
    lease_over = max(row.claimed_at for row in claimed) + timedelta(seconds=1, milliseconds=1)
    after_lease = FixedClock(max(lease_over, datetime_now()))
    report = drain(engine, make_provider(settings), settings, clock=after_lease)
    assert report.recovered == 500
    received = [m["To"] for r in fake.received for m in r.body]
    assert set(received) == {f"k{i}@example.com" for i in range(700)}  # nothing lost
    twice = {to for to in received if received.count(to) > 1}
    assert twice <= first_batch  # only the batch in flight at the kill
    assert set(statuses(engine).values()) == {"sent"}


def datetime_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
