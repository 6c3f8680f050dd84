"""The suppression pull (`salesengine-jobs once suppressions`) against real PostgreSQL and the
tests' fake provider server on loopback: what the providers list is stored once and applied,
the marks move and the next requests ask from them (checked on the requests the server
received), a failing feed keeps its mark while the others move, a refused key is a clear
error that never shows the key."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from factories import FIXED_NOW, Desk
from fake_providers import FakeProviders, Scripted, unix
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from test_cli import _url

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import Settings, load_settings
from salesengine_tui.usecases import AppContext
from salesengine_tui.usecases import Desk as UseCases

EASTERN = ZoneInfo("America/New_York")
TOKEN = "pm-server-token-never-shown"
KEY = "SG.sendgrid-key-never-shown"
PAGE = 500


def postmark(fake: FakeProviders, **extra: object) -> Settings:
    return load_settings(
        email_provider="postmark", postmark_server_token=TOKEN, postmark_base_url=fake.url,
        postmark_stream="outbound", postmark_broadcast_stream="broadcast", **extra,
    )  # fmt: skip


def sendgrid(fake: FakeProviders) -> Settings:
    return load_settings(
        email_provider="sendgrid", sendgrid_api_key=KEY, sendgrid_base_url=fake.url
    )


def jobs(engine: Engine, settings: Settings, at: datetime = FIXED_NOW):
    return UseCases(AppContext(engine, FixedClock(at), settings, actor=None)).jobs


def postmark_time(moment: datetime) -> str:
    """As Postmark writes it: Eastern, with the offset."""
    return moment.astimezone(EASTERN).isoformat()


def eastern(moment: datetime) -> str:
    """As Postmark's queries read it: Eastern wall-clock time, no offset."""
    return moment.astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M:%S")


def bounce(n: int, address: str, at: datetime, *, kind="HardBounce", inactive=True) -> dict:
    return {
        "ID": n, "Type": kind, "TypeCode": 1, "Name": kind, "MessageID": f"pm-msg-{n}",
        "Description": "The server was unable to deliver your message",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist",
        "Email": address, "BouncedAt": postmark_time(at), "DumpAvailable": False,
        "Inactive": inactive, "CanActivate": True, "Subject": "Hello",
    }  # fmt: skip


def suppression(address: str, reason: str, at: datetime, origin: str = "Recipient") -> dict:
    return {
        "EmailAddress": address, "SuppressionReason": reason, "Origin": origin,
        "CreatedAt": postmark_time(at),
    }  # fmt: skip


def customer_state(engine: Engine) -> dict[str, tuple[bool, bool]]:
    """name -> (suppressed, opted out)"""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT name, email_suppressed_at IS NOT NULL, email_opt_out FROM customers")
        ).all()
    return {name: (suppressed, opted_out) for name, suppressed, opted_out in rows}


def marks(engine: Engine) -> dict[tuple[str, str], datetime]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT provider, feed, synced_until FROM email_sync_marks"))
        return {(provider, feed): until for provider, feed, until in rows}


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM email_events")).scalar_one()


def feeds(result) -> dict[str, dict]:
    return {feed["label"]: feed for feed in result.counts["feeds"]}


DUMP = "/message-streams/{}/suppressions/dump"


def test_postmark_bounces_and_suppressions_are_applied_once_and_the_marks_move(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    fake.token = TOKEN
    hard, soft, spam = (FIXED_NOW - timedelta(hours=h) for h in (3, 2, 1))
    fake.postmark_bounces = [
        bounce(11, "hank.hill@example.com", hard),
        bounce(12, "peggy.hill@example.com", soft, kind="Transient", inactive=False),
        bounce(13, "Dale.Gribble@example.com", spam, kind="SpamComplaint"),
    ]
    fake.postmark_suppressions = {
        "outbound": [suppression("bill.dauterive@example.com", "ManualSuppression", hard)],
        "broadcast": [suppression("luanne.platter@example.com", "HardBounce", soft)],
    }
    settings = postmark(fake)
    result = jobs(engine, settings).suppressions()
    assert (result.status, result.error) == ("ok", None)
    report = feeds(result)
    assert report["postmark bounces"]["new"] == 3
    assert report["postmark bounces"]["suppressed"] == 2  # the hard bounce and the complaint
    assert report["postmark bounces"]["opted_out"] == 1  # the complaint
    assert report["postmark suppressions (outbound)"]["opted_out"] == 1
    assert report["postmark suppressions (broadcast)"]["suppressed"] == 1
    assert customer_state(engine) == {
        "Hank Hill": (True, False),
        "Peggy Hill": (False, False),  # a transient bounce is recorded only
        "Dale Gribble": (True, True),  # a spam complaint: suppressed and opted out
        "Bill Dauterive": (False, True),  # the recipient's own unsubscribe at Postmark
        "Luanne Platter": (True, False),
        "Strickland Propane": (False, False),
    }
    assert stored(engine) == 5
    # The first pull asks for all Postmark keeps, up to now, with the server token.
    first = fake.gets("/bounces")
    assert len(first) == 1
    assert first[0].query == {"count": "500", "offset": "0", "todate": eastern(FIXED_NOW)}
    assert first[0].headers["X-Postmark-Server-Token"] == TOKEN
    assert [r.query for r in fake.gets(DUMP.format("outbound"))] == [{}]
    assert marks(engine) == {
        ("postmark", "bounces"): spam,  # the newest bounce seen
        ("postmark", "suppressions:outbound"): hard,
        ("postmark", "suppressions:broadcast"): soft,
    }

    later = FIXED_NOW + timedelta(hours=1)
    again = jobs(engine, settings, later).suppressions()
    assert again.status == "ok"
    assert all(feed["new"] == 0 for feed in again.counts["feeds"])
    assert feeds(again)["postmark bounces"]["received"] == 1  # only the newest: in the overlap
    assert stored(engine) == 5
    second = fake.gets("/bounces")[1].query
    assert second["fromdate"] == eastern(spam - timedelta(minutes=10))
    assert second["todate"] == eastern(later)
    # The dump filters by whole (Eastern) days: from the day before the mark's.
    day = (hard - timedelta(minutes=10)).astimezone(EASTERN).date() - timedelta(days=1)
    assert fake.gets(DUMP.format("outbound"))[1].query == {"fromdate": day.isoformat()}


def test_a_reactivated_hard_bounce_is_recorded_without_suppressing(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    """Postmark's list says the address is active again: the old bounce suppresses nothing."""
    fake.postmark_bounces = [
        bounce(21, "hank.hill@example.com", FIXED_NOW - timedelta(days=3), inactive=False)
    ]
    result = jobs(engine, postmark(fake)).suppressions()
    assert feeds(result)["postmark bounces"]["new"] == 1
    assert customer_state(engine)["Hank Hill"] == (False, False)
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT kind FROM email_events")).scalar_one()
    assert kind == "soft_bounced"


def test_postmark_bounces_are_paged_until_a_short_page(
    engine: Engine, desk: Desk, fake: FakeProviders
) -> None:
    fake.postmark_bounces = [
        bounce(1000 + i, f"gone{i}@example.net", FIXED_NOW - timedelta(minutes=i + 1))
        for i in range(PAGE + 37)
    ]
    result = jobs(engine, postmark(fake)).suppressions()
    assert feeds(result)["postmark bounces"]["new"] == PAGE + 37
    assert [r.query["offset"] for r in fake.gets("/bounces")] == ["0", str(PAGE)]
    assert marks(engine)[("postmark", "bounces")] == FIXED_NOW - timedelta(minutes=1)


def test_a_failing_feed_keeps_its_mark_and_the_others_move(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    first_bounce = FIXED_NOW - timedelta(hours=5)
    fake.postmark_bounces = [bounce(31, "hank.hill@example.com", first_bounce)]
    settings = postmark(fake)
    assert jobs(engine, settings).suppressions().status == "ok"
    fake.postmark_bounces.append(
        bounce(32, "peggy.hill@example.com", FIXED_NOW + timedelta(minutes=30))
    )
    fake.postmark_suppressions["outbound"] = [
        suppression("dale.gribble@example.com", "SpamComplaint", FIXED_NOW + timedelta(minutes=20))
    ]
    busy = Scripted(500, {"Content-Type": "application/json"}, b'{"ErrorCode":0,"Message":"Oops"}')
    fake.answer_get("/bounces", busy)
    later = FIXED_NOW + timedelta(hours=1)
    result = jobs(engine, settings, later).suppressions()
    assert result.status == "failed"
    report = feeds(result)
    assert report["postmark bounces"]["error"] == (
        "Postmark: HTTP 500: Oops; the next run asks again"
    )
    assert result.error == "postmark bounces: Postmark: HTTP 500: Oops; the next run asks again"
    assert report["postmark suppressions (outbound)"]["new"] == 1  # the other feeds went on
    assert customer_state(engine)["Dale Gribble"] == (True, True)
    assert customer_state(engine)["Peggy Hill"] == (False, False)  # not read yet
    assert marks(engine)[("postmark", "bounces")] == first_bounce  # kept
    assert marks(engine)[("postmark", "suppressions:broadcast")] == later  # nothing: up to now
    with engine.connect() as conn:
        run = conn.execute(
            text("SELECT status, error FROM job_runs ORDER BY started_at DESC LIMIT 1")
        ).one()
    assert tuple(run) == ("failed", result.error)

    last = jobs(engine, settings, later + timedelta(hours=1)).suppressions()
    assert last.status == "ok"
    asked = fake.gets("/bounces")[-1].query
    assert asked["fromdate"] == eastern(first_bounce - timedelta(minutes=10))  # from the kept one
    assert feeds(last)["postmark bounces"]["new"] == 1
    assert customer_state(engine)["Peggy Hill"] == (True, False)


def test_a_refused_token_is_a_clear_error_that_never_shows_it(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    fake.token = "the-right-token"
    fake.postmark_bounces = [bounce(41, "hank.hill@example.com", FIXED_NOW - timedelta(hours=1))]
    result = jobs(engine, postmark(fake)).suppressions()
    assert result.status == "failed"
    errors = [feed["error"] for feed in result.counts["feeds"]]
    assert (
        errors
        == [
            "Postmark refused the API key (HTTP 401: Request does not contain a valid Server token.)"
        ]
        * 3
    )
    assert TOKEN not in str(result)
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT error || counts::text FROM job_runs")).scalar_one()
    assert "refused the API key" in kept and TOKEN not in kept
    assert marks(engine) == {} and stored(engine) == 0
    assert customer_state(engine)["Hank Hill"] == (False, False)


def test_a_key_the_provider_echoes_back_is_still_not_shown(
    engine: Engine, desk: Desk, fake: FakeProviders
) -> None:
    echoed = f'{{"errors":[{{"message":"bad key {KEY}"}}]}}'.encode()
    fake.answer_get("/v3/suppression/bounces", Scripted(403, {}, echoed))
    result = jobs(engine, sendgrid(fake)).suppressions()
    error = feeds(result)["sendgrid bounces"]["error"]
    assert error == "SendGrid refused the API key (HTTP 403: bad key [key])"
    assert KEY not in str(result)


def test_sendgrid_lists_are_applied_once_paged_and_asked_from_the_mark(
    engine: Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    fake.token = KEY
    hour = timedelta(hours=1)
    strangers = [
        {"email": f"old{i}@example.net", "created": unix(FIXED_NOW - 30 * hour) - i,
         "reason": "550 no such user", "status": "5.1.1"}
        for i in range(PAGE)
    ]  # fmt: skip
    fake.sendgrid_lists = {
        "bounces": [
            {"email": "hank.hill@example.com", "created": unix(FIXED_NOW - 3 * hour),
             "reason": "550 5.1.1 mailbox unavailable", "status": "5.1.1"},
            *strangers,
        ],
        "spam_reports": [
            {"email": "dale.gribble@example.com", "created": unix(FIXED_NOW - 2 * hour),
             "ip": "192.0.2.1"}
        ],
        "unsubscribes": [
            {"email": "bill.dauterive@example.com", "created": unix(FIXED_NOW - hour)}
        ],
    }  # fmt: skip
    settings = sendgrid(fake)
    result = jobs(engine, settings).suppressions()
    assert result.status == "ok", result.error
    report = feeds(result)
    assert list(report) == ["sendgrid bounces", "sendgrid spam reports", "sendgrid unsubscribes"]
    assert report["sendgrid bounces"]["new"] == PAGE + 1  # two pages: 500, then 1
    paths = [r.path for r in fake.received]
    assert paths.count("/v3/suppression/bounces") == 2
    first = fake.gets("/v3/suppression/bounces")
    assert [r.query for r in first] == [
        {"end_time": str(unix(FIXED_NOW)), "limit": "500", "offset": "0"},
        {"end_time": str(unix(FIXED_NOW)), "limit": "500", "offset": "500"},
    ]
    assert first[0].headers["Authorization"] == f"Bearer {KEY}"
    assert customer_state(engine) == {
        "Hank Hill": (True, False),
        "Peggy Hill": (False, False),
        "Dale Gribble": (True, True),
        "Bill Dauterive": (False, True),
        "Luanne Platter": (False, False),
        "Strickland Propane": (False, False),
    }
    assert marks(engine)[("sendgrid", "unsubscribes")] == FIXED_NOW - hour

    later = FIXED_NOW + hour
    again = jobs(engine, settings, later).suppressions()
    assert [feed["new"] for feed in again.counts["feeds"]] == [0, 0, 0]
    # Each newest item is in the overlap: read again, already known.
    assert [feed["received"] for feed in again.counts["feeds"]] == [1, 1, 1]
    asked = fake.gets("/v3/suppression/spam_reports")[-1].query
    assert asked == {
        "start_time": str(unix(FIXED_NOW - 2 * hour) - 600),
        "end_time": str(unix(later)),
        "limit": "500",
        "offset": "0",
    }
    assert stored(engine) == PAGE + 3


def test_the_file_provider_has_nothing_to_pull(
    engine: Engine, desk: Desk, fake: FakeProviders
) -> None:
    result = jobs(engine, load_settings(email_provider="file")).suppressions()
    assert (result.status, result.counts) == ("ok", {"feeds": []})
    assert fake.received == []


def test_once_suppressions_prints_a_line_per_feed(
    engine: Engine, db_url: URL, with_emails: Desk, fake: FakeProviders
) -> None:
    """The real command as a process, with the real clock, against the test database."""
    now = datetime.now(UTC)
    fake.postmark_bounces = [bounce(51, "hank.hill@example.com", now - timedelta(hours=2))]
    fake.postmark_suppressions = {
        "outbound": [suppression("bill.dauterive@example.com", "ManualSuppression", now)]
    }
    env = {
        **os.environ,
        "SALESENGINE_EMAIL_PROVIDER": "postmark",
        "SALESENGINE_POSTMARK_SERVER_TOKEN": TOKEN,
        "SALESENGINE_POSTMARK_BASE_URL": fake.url,
    }
    argv = [sys.executable, "-m", "salesengine_jobs.cli", "--database-url", _url(db_url)]

    def once(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*argv, "once", "suppressions"], env={**env, **extra}, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip

    done = once()
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        "postmark bounces: 1 new, 0 already known; suppressed 1, opted out 0",
        "postmark suppressions (outbound): 1 new, 0 already known; suppressed 0, opted out 1",
        "postmark suppressions (broadcast): 0 new, 0 already known; suppressed 0, opted out 0",
    ]
    fake.answer_get("/bounces", Scripted(503, {}, b""))
    failed = once()
    assert failed.returncode == 1
    lines = failed.stdout.splitlines()
    assert lines[0] == (
        "postmark bounces: failed: Postmark: HTTP 503 (no content type body); "
        "the next run asks again"
    )
    assert lines[1] == (
        "postmark suppressions (outbound): 0 new, 1 already known; suppressed 0, opted out 0"
    )
    assert TOKEN not in failed.stdout + failed.stderr

    nothing = once(SALESENGINE_EMAIL_PROVIDER="file")
    assert (nothing.returncode, nothing.stdout) == (
        0,
        "suppressions: ok: no provider to pull from\n",
    )
    status = subprocess.run([*argv, "status"], env=env, capture_output=True, text=True, timeout=60)
    line = next(x for x in status.stdout.splitlines() if x.startswith("suppressions"))
    assert line.split()[1] == "ok"
    assert "suppressions every 60 min" in status.stdout


def test_a_second_runner_skips_while_the_first_holds_the_pull(
    engine: Engine, desk: Desk, fake: FakeProviders
) -> None:
    with engine.begin() as conn:  # another runner, mid-pull: its lease has not run out
        conn.execute(text("INSERT INTO job_leases VALUES ('suppressions', 'host-b:1:x', "
                          "now() + interval '10 minutes')"))  # fmt: skip
    result = jobs(engine, postmark(fake)).suppressions()
    with engine.begin() as conn:  # it died mid-pull: its lease ran out
        conn.execute(text("UPDATE job_leases SET expires_at = now() - interval '1 second'"))
    assert (result.status, result.error) == (
        "skipped",
        "another runner is doing this job right now",
    )
    assert fake.received == []
    assert jobs(engine, postmark(fake)).suppressions().status == "ok"  # taken over
    with engine.connect() as conn:  # and let go at the end
        assert conn.execute(text("SELECT count(*) FROM job_leases")).scalar_one() == 0


def test_the_runner_pulls_every_suppressions_every_minutes(engine: Engine) -> None:
    from salesengine_jobs.runner import Runner

    runner = Runner(engine, load_settings(suppressions_every_minutes=7), listen=False)
    runner.schedule_jobs()
    (job,) = [j for j in runner.scheduler.jobs if "suppressions" in j.job_func.args]
    assert (job.interval, job.unit) == (7 * 60, "seconds")
