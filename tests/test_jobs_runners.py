"""Several jobs runners on one database (issue 18): each registered by name with a heartbeat,
one live runner per name, every job run recorded with its runner; two `salesengine-jobs run`
processes share the work with no email sent twice and no opportunity made twice; the runner's
connection budget (3 + 1 per running job; each job one connection at a time)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from factories import FIXED_NOW, Desk
from fake_providers import FakeProviders, Scripted
from test_cli import _url
from test_nurture import setup_quote
from test_upsell import close_ticket
from waiting import DEADLINE_SECONDS, wait_for

from salesengine_tui.automation.runners import Me
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import UserError
from salesengine_tui.base.settings import Settings, load_settings
from salesengine_tui.db.engine import session_scope
from salesengine_tui.email import outbox
from salesengine_tui.usecases import AppContext
from salesengine_tui.usecases import Desk as UseCaseDesk
from salesengine_tui.usecases.jobs import Jobs

TOKEN = "pm-token"
BUDGET_APPS = ("salesengine-jobs", "salesengine-live")


def postmark(fake: FakeProviders) -> Settings:
    return load_settings(
        email_provider="postmark", postmark_server_token=TOKEN, postmark_base_url=fake.url
    )


def postmark_env(fake: FakeProviders, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SALESENGINE_EMAIL_PROVIDER": "postmark",
        "SALESENGINE_POSTMARK_SERVER_TOKEN": TOKEN,
        "SALESENGINE_POSTMARK_BASE_URL": fake.url,
        "SALESENGINE_OUTBOX_EVERY_SECONDS": "1",
        **extra,
    }


def enqueue(engine: sa.Engine, settings: Settings, count: int, key: str = "share") -> None:
    with session_scope(engine) as s:
        for i in range(count):
            outbox.enqueue(s, key=f"{key}:{i}", to_email=f"{key}{i}@example.com", subject=f"S{i}",
                           body="b", now=FIXED_NOW, settings=settings)  # fmt: skip


def scalar(engine: sa.Engine, query: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params).scalar_one()


def jobs_of(engine: sa.Engine, settings: Settings | None = None) -> Jobs:
    return UseCaseDesk(AppContext(engine, FixedClock(FIXED_NOW), settings or load_settings(),
                                  actor=None)).jobs  # fmt: skip


def dead_pid() -> int:
    """The pid of a process that has just ended (on this machine)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


# --- one name, one live runner ------------------------------------------------------------------


def test_a_name_is_one_live_runner_and_is_given_up_when_it_stops_dies_or_goes_quiet(
    engine: sa.Engine,
) -> None:
    jobs = jobs_of(engine)
    first = Me("host-a", "machine-1", 4001, ("upsell",))
    jobs.register(first)
    # The same name from another machine, or another process here, while the first is alive
    with pytest.raises(UserError, match="a runner named 'host-a' is already running"):
        jobs.register(Me("host-a", "machine-2", 4002, ("upsell",)))
    assert jobs.heartbeat(first)
    # Stopped cleanly: the name is free at once.
    jobs.stopped(first)
    second = Me("host-a", "machine-2", 4002, ("upsell",))
    jobs.register(second)
    assert not jobs.heartbeat(first)  # the first's name is not its own any more
    # Gone quiet (no heartbeat for over 90 s): another may take the name.
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE job_runners SET seen_at = now() - interval '91 seconds'"))
    assert [r.state for r in jobs.status().runners] == ["gone quiet"]
    third = Me("host-a", "machine-3", 4003, ("upsell",))
    jobs.register(third)
    assert not jobs.heartbeat(second)  # it would stop rather than run beside the third
    # Died on this machine (its pid is gone): its name is taken at once, not after 90 s.
    here = Me("host-b", os.uname().nodename, dead_pid(), ("upsell",))
    jobs.register(here)
    restarted = Me("host-b", here.host, os.getpid(), ("upsell",))
    jobs.register(restarted)
    alive_here = Me("host-b", here.host, os.getppid(), ("upsell",))  # a live process here
    with pytest.raises(UserError, match="already running"):
        jobs.register(alive_here)
    seen = {r.name: (r.state, r.host, r.pid) for r in jobs.status().runners}
    assert seen == {"host-a": ("running", "machine-3", 4003),
                    "host-b": ("running", here.host, os.getpid())}  # fmt: skip


def test_the_runner_beats_records_its_runs_and_marks_itself_stopped(engine: sa.Engine) -> None:
    from salesengine_jobs.runner import Runner

    runner = Runner(engine, load_settings(runner_name="host-a"), listen=False, heartbeat=0.05)
    runner.schedule_jobs({"upsell": (3600, runner._upsell)})
    loop = threading.Thread(target=runner.run, kwargs={"tick": 0.02})
    loop.start()
    try:
        wait_for(
            lambda: scalar(engine, "SELECT count(*) FROM job_runners WHERE name = 'host-a' "
                                   "AND seen_at > started_at + interval '0.1 seconds'"),
            "the runner's heartbeat",
        )  # fmt: skip
        state = jobs_of(engine).status().runners[0]
        assert (state.name, state.state, state.pid, state.jobs) == (
            "host-a", "running", os.getpid(), "upsell",
        )  # fmt: skip
    finally:
        runner.stopping.set()
        loop.join(DEADLINE_SECONDS)
    assert [r.state for r in jobs_of(engine).status().runners] == ["stopped"]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT job, runner FROM job_runs")).all() == [
            ("upsell", "host-a")
        ]


def test_a_second_runner_of_the_same_name_is_refused(engine: sa.Engine) -> None:
    from salesengine_jobs.runner import Runner

    jobs_of(engine).register(Me("host-a", "elsewhere", 1, ("upsell",)))
    runner = Runner(engine, load_settings(runner_name="host-a"), listen=False)
    runner.schedule_jobs({"upsell": (3600, runner._upsell)})
    assert runner.run(tick=0.01, ticks=2) == 1
    assert scalar(engine, "SELECT count(*) FROM job_runs") == 0  # it ran nothing


# --- the connection budget ----------------------------------------------------------------------


@pytest.fixture
def one_connection(db_url: sa.URL) -> Iterator[sa.Engine]:
    """An engine that can open one connection and no more: a job that needs a second one
    while it holds the first waits for itself and times out."""
    engine = sa.create_engine(
        db_url, pool_size=1, max_overflow=0, pool_timeout=5,
        connect_args={"application_name": "salesengine-jobs", "prepare_threshold": None},
    )  # fmt: skip
    yield engine
    engine.dispose()


def test_every_job_works_with_one_connection_at_a_time(
    one_connection: sa.Engine, engine: sa.Engine, with_emails: Desk, fake: FakeProviders
) -> None:
    settings = postmark(fake)
    setup_quote(engine, with_emails, timedelta(days=400))
    close_ticket(engine, with_emails)
    enqueue(engine, settings, 3)
    desk = UseCaseDesk(AppContext(one_connection, FixedClock(FIXED_NOW), settings, actor=None))
    assert desk.jobs.nurture().status == "ok"
    assert desk.jobs.upsell().status == "ok"
    assert desk.tasks.remind_due().status == "ok"
    assert desk.jobs.suppressions().status == "ok"  # the lease: no connection held meanwhile
    assert desk.email.drain().sent >= 3


def activity(engine: sa.Engine) -> int:
    """The runner's connections to this database: its queries and its listener."""
    return int(
        scalar(
            engine,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = ANY(:apps)",
            apps=list(BUDGET_APPS),
        )
    )


class Sampler:
    """pg_stat_activity sampled in a thread until stopped; the peak seen."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.peak, self.samples = engine, 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, activity(self.engine))
            self.samples += 1

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(DEADLINE_SECONDS)


def start_runner(db_url: sa.URL, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "salesengine_jobs.cli", "--database-url", _url(db_url), "run"],
            env=env, stderr=out, stdout=subprocess.DEVNULL,
        )  # fmt: skip


def stop(runner: subprocess.Popen[bytes]) -> int:
    if runner.poll() is None:
        runner.send_signal(signal.SIGTERM)
    try:
        return runner.wait(timeout=DEADLINE_SECONDS)
    finally:
        if runner.poll() is None:
            runner.kill()


def test_the_runner_keeps_to_three_connections_and_one_more_per_running_job(
    db_url: sa.URL, engine: sa.Engine, with_emails: Desk, fake: FakeProviders, tmp_path: Path
) -> None:
    settings = postmark(fake)
    setup_quote(engine, with_emails, timedelta(days=400))
    close_ticket(engine, with_emails)
    enqueue(engine, settings, 600)
    # Busy: the provider holds each outbox batch and each suppressions page a moment.
    fake.answer(*[Scripted(200, delay=0.5) for _ in range(2)])
    for path in ("/bounces", "/message-streams/outbound/suppressions/dump"):
        fake.answer_get(path, Scripted(200, delay=0.8))
    env = postmark_env(fake, SALESENGINE_NURTURE_AT="00:00", SALESENGINE_RUNNER_NAME="host-a")
    runner = start_runner(db_url, env, tmp_path / "runner.log")
    try:
        with Sampler(engine) as busy:
            wait_for(lambda: registered(engine) == 1, "the runner starting")
            wait_for(lambda: all_done(engine, upsell_runners=1), "the runner doing its work")
        # Idle between ticks (the outbox still drains an empty queue every second).
        with Sampler(engine) as idle:
            wait_for(lambda: idle.samples >= 40, "40 samples of an idle runner")
    finally:
        code = stop(runner)
    log = (tmp_path / "runner.log").read_text()
    assert code == 0, log
    assert busy.peak <= 3 + 5, busy.peak
    assert idle.peak <= 3, idle.peak


# --- two runners, one database ------------------------------------------------------------------


def registered(engine: sa.Engine) -> int:
    """Runners in their loop (a process's start-up is waited for on its own: a loaded machine
    takes seconds to import it)."""
    return int(scalar(engine, "SELECT count(*) FROM job_runners WHERE stopped_at IS NULL"))


def all_done(engine: sa.Engine, *, upsell_runners: int) -> bool:
    """Nothing left in the outbox, no job mid-run, and the start-up jobs recorded."""
    return bool(
        scalar(engine, "SELECT count(*) FROM email_outbox WHERE status <> 'sent'") == 0
        and scalar(engine, "SELECT count(*) FROM job_runs WHERE status = 'running'") == 0
        and scalar(engine, "SELECT count(DISTINCT runner) FROM job_runs "
                           "WHERE job = 'upsell'") == upsell_runners
        and scalar(engine, "SELECT count(*) FROM job_runs WHERE job = 'nurture' AND status = 'ok'")
        and scalar(engine, "SELECT count(*) FROM job_runs WHERE job = 'suppressions'")
    )  # fmt: skip


def test_two_runners_share_the_work_without_doubles_and_status_shows_both(
    db_url: sa.URL,
    engine: sa.Engine,
    with_emails: Desk,
    fake: FakeProviders,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from salesengine_jobs.cli import main as jobs_cli

    def status() -> list[str]:
        assert jobs_cli(["--database-url", _url(db_url), "status"]) == 0
        return capsys.readouterr().out.splitlines()

    def state_of(lines: list[str], name: str) -> str:
        return next(line.split()[1] for line in lines if line.startswith(f"{name} "))

    settings = postmark(fake)
    setup_quote(engine, with_emails, timedelta(days=400))
    for n in range(1, 6):
        close_ticket(engine, with_emails, n=n)
    enqueue(engine, settings, 1500)  # three batches of 500: both runners take some
    fake.answer(*[Scripted(200, delay=1.0) for _ in range(3)])
    env = postmark_env(fake, SALESENGINE_NURTURE_AT="00:00")
    names = ("host-a", "host-b")
    runners = {
        name: start_runner(db_url, {**env, "SALESENGINE_RUNNER_NAME": name}, tmp_path / name)
        for name in names
    }
    try:
        wait_for(lambda: registered(engine) == 2, "both runners starting")
        wait_for(lambda: all_done(engine, upsell_runners=2), "both runners doing the work")
        running = status()
    finally:
        codes = {name: stop(runner) for name, runner in runners.items()}
    logs = {name: (tmp_path / name).read_text() for name in names}
    assert codes == {"host-a": 0, "host-b": 0}, logs
    assert [state_of(running, name) for name in names] == ["running", "running"], running
    stopped = status()
    assert [state_of(stopped, name) for name in names] == ["stopped", "stopped"], stopped
    # Nobody got an email twice: each row the provider accepted once, and every row sent.
    rows = scalar(engine, "SELECT count(*) FROM email_outbox")
    assert rows > 1500  # the nurture follow-up and the upsell emails too
    assert len(fake.accepted) == rows and max(fake.accepted.values()) == 1
    # Both runners sent some: each drain logs what it sent.
    assert all("event=done job=outbox sent=" in logs[name] for name in names), logs
    # One opportunity per closed ticket; one nurture run tonight, one follow-up per deal.
    assert scalar(engine, "SELECT count(*) FROM estimates WHERE source_ticket_id IS NOT NULL") == 5
    assert (
        scalar(engine, "SELECT count(*) FROM job_runs WHERE job = 'nurture' AND status = 'ok'") == 1
    )
    assert (
        scalar(engine, "SELECT count(*) FROM email_outbox WHERE idempotency_key LIKE 'nurture:%'")
        > 0
    )
    assert scalar(engine, "SELECT count(*) FROM (SELECT estimate_id FROM email_outbox "
                          "WHERE idempotency_key LIKE 'nurture:%' GROUP BY estimate_id "
                          "HAVING count(*) > 1) AS twice") == 0  # fmt: skip
    # Every run recorded with its runner, and both did runs.
    with engine.connect() as conn:
        by_runner = dict(
            conn.execute(sa.text("SELECT runner, count(*) FROM job_runs GROUP BY runner")).all()
        )
    assert set(by_runner) == set(names), by_runner
