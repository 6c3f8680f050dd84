"""The app, the CLI's imports and the jobs through PgBouncer in transaction pooling mode, as a
site behind PgBouncer or Supabase's pooler runs them: every query through the pooler, LISTEN
straight to the server (`listen_url`).

Each action runs `ROUNDS` times from two "terminals" in turn (two engines, as two processes
have): psycopg prepares a statement on its sixth run, and through a pooler in transaction mode
two clients then meet the same server connection, which would already hold (or not yet hold)
the other's `_pg3_0`. Every test also checks that the pooler kept to its size
(`pool_in_size`): no client held a server connection across transactions."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import POOLER_SIZE
from factories import FIXED_NOW, Desk, add_task, add_user
from fake_providers import FakeProviders, Scripted
from pilot_helpers import settle, wait_listening, wait_until
from salesengine_jobs.runner import Runner
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from test_blasts import SEGMENT
from test_blasts import seed as seed_blast_audience
from test_board_app import SIZE, lane, stage_of
from test_customer_app import open_hank
from test_email import settings_for
from test_nurture import setup_quote
from test_upsell import close_ticket, counts
from waiting import wait_for

from salesengine_tui.access.users import Actor
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import Settings
from salesengine_tui.db.cancel import QueryCanceller, was_cancelled
from salesengine_tui.db.engine import make_engine
from salesengine_tui.db.models import User, UserRole
from salesengine_tui.db.pgbouncer import LocalPgBouncer, local_pgbouncer
from salesengine_tui.db.scratch import ScratchCluster
from salesengine_tui.screens.quick_call import QuickCallScreen
from salesengine_tui.usecases import AppContext
from salesengine_tui.usecases import Desk as UseCases
from salesengine_tui.widgets.board_column import BoardColumn

pytestmark = pytest.mark.pgbouncer

# Past psycopg's default prepare_threshold (5): a prepared statement would be in use by then.
ROUNDS = 7
SAMPLE_SECONDS = 0.01


# --- the pooler's own view -----------------------------------------------------------------


class PoolWatch:
    """Samples PgBouncer's SHOW POOLS for one database while a test runs: the most server
    connections it had at once (every `sv_*` state: active, idle, used, tested, logging in)."""

    def __init__(self, bouncer: LocalPgBouncer, database: str) -> None:
        self.bouncer, self.database = bouncer, database
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pool-watch", daemon=True)

    def _servers(self, console: psycopg.Connection) -> int:
        cursor = console.execute("SHOW POOLS")
        names = [column.name for column in cursor.description or ()]
        return sum(
            sum(v for k, v in zip(names, row, strict=True) if k.startswith("sv_"))
            for row in cursor
            if row[names.index("database")] == self.database
        )

    def _run(self) -> None:
        with self.bouncer.admin() as console:
            while not self._stop.is_set():
                self.peak = max(self.peak, self._servers(console))
                self._stop.wait(SAMPLE_SECONDS)

    def server_pids(self) -> list[int]:
        """The server process ids of the pooler's connections to the database now."""
        with self.bouncer.admin() as console:
            cursor = console.execute("SHOW SERVERS")
            names = [column.name for column in cursor.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in cursor]
        return [int(r["remote_pid"]) for r in rows if r["database"] == self.database]

    def __enter__(self) -> PoolWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(autouse=True)
def pool_in_size(pgbouncer: LocalPgBouncer, pooled_url: URL, db_url: URL) -> Iterator[PoolWatch]:
    """After each test (its engines closed): the pooler never had more server connections to
    the test's database than its pool size, and the server shows just those."""
    database = str(pooled_url.database)
    with PoolWatch(pgbouncer, database) as watch:
        yield watch
    assert 1 <= watch.peak <= POOLER_SIZE, f"server connections at once: {watch.peak}"
    pids = watch.server_pids()
    direct = db_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(direct) as conn:
        on_server = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid = ANY(%s)",
            (database, pids),
        ).fetchone()
    assert on_server is not None and on_server[0] == len(pids) <= POOLER_SIZE


# --- two terminals ---------------------------------------------------------------------------


@pytest.fixture
def other_engine(pooled_url: URL) -> Iterator[Engine]:
    """A second process's engine on the same pooled database."""
    eng = make_engine(pooled_url, application_name="salesengine-other")
    yield eng
    eng.dispose()


def desk_for(engine: Engine, settings: Settings, user: User | None) -> UseCases:
    return UseCases(
        AppContext(engine, FixedClock(FIXED_NOW), settings, Actor.of(user) if user else None)
    )


def manager_mia(engine: Engine) -> User:
    with Session(engine, expire_on_commit=False) as s:
        mia = add_user(s, "mia", name="Mia Park", role=UserRole.manager)
        s.commit()
        return mia


def in_turn(rounds: int, *steps: Callable[[int], Any]) -> list[Any]:
    """Each step once per round, in turn: `rounds` times the steps, results in order."""
    return [step(i) for i in range(rounds) for step in steps]


# --- board moves, in the app -----------------------------------------------------------------


async def test_board_moves_undo_and_a_move_from_another_terminal(
    pooled_engine: Engine,
    other_engine: Engine,
    pooled_settings: Callable[..., Settings],
    clock: FixedClock,
    desk: Desk,
) -> None:
    settings = pooled_settings(live_updates=True)
    mia = manager_mia(pooled_engine)
    elsewhere = desk_for(other_engine, settings, mia)
    app = SalesEngineApp(AppContext(pooled_engine, clock, settings, Actor.of(desk.manager)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot,
            lambda: isinstance(app.screen.focused, BoardColumn) and lane(app).current is not None,
        )
        await wait_listening(pilot, app.screen.listening, "board's")
        card = lane(app).current
        moved = card.version
        for _ in range(ROUNDS):  # there and back, the other terminal reading between
            for key, stage in (("shift+right", "Site Visit Scheduled"), ("shift+left", "New")):
                await pilot.press(key)
                moved += 1
                await wait_until(
                    pilot,
                    lambda stage=stage, moved=moved: (
                        stage_of(pooled_engine, card.id)[:2] == (stage, moved)
                        and lane(app).current is not None
                        and lane(app).current.version == moved
                    ),
                    what=f"the card in {stage}",
                )
                await asyncio.to_thread(elsewhere.deals.load_board, None)
        await pilot.press("u")  # undo the last move: back to Site Visit Scheduled
        await wait_until(
            pilot,
            lambda: stage_of(pooled_engine, card.id)[0] == "Site Visit Scheduled",
            what="the undo",
        )

        # Mia moves Hank's deal in her own terminal; the open board shows it, live.
        hank = next(c for c in lane_cards(app, "New") if c.customer_name == "Hank Hill")
        negotiation = stage_id(app, "Negotiation")
        await asyncio.to_thread(elsewhere.deals.move, hank, negotiation, origin="elsewhere")
        await wait_until(
            pilot,
            lambda: hank.id in {c.id for c in lane_cards(app, "Negotiation")},
            seconds=5,
            what="Mia's move on the open board",
        )
    assert stage_of(pooled_engine, hank.id)[0] == "Negotiation"


def column(app: SalesEngineApp, name: str) -> BoardColumn:
    return next(c for c in app.screen.query(BoardColumn) if c.column.name == name)


def lane_cards(app: SalesEngineApp, name: str) -> list[Any]:
    return list(column(app, name).loaded.values())


def stage_id(app: SalesEngineApp, name: str) -> uuid.UUID:
    return column(app, name).column.id


# --- a call, in the app ----------------------------------------------------------------------


async def test_calls_logged_from_the_quick_call_dialog(
    pooled_engine: Engine,
    other_engine: Engine,
    pooled_settings: Callable[..., Settings],
    clock: FixedClock,
    desk: Desk,
) -> None:
    """Calls in the app's dialog, and ROUNDS more through the same use case from two
    terminals in turn (the dialog is slow to drive ROUNDS times under Pilot)."""
    settings = pooled_settings()
    app = SalesEngineApp(AppContext(pooled_engine, clock, settings, Actor.of(desk.rep)))
    async with app.run_test(size=SIZE) as pilot:
        await open_hank(app, pilot)
        hank = app.screen.profile.id
        for i in range(2):
            await pilot.press("c")
            await settle(pilot)
            assert isinstance(app.screen, QuickCallScreen)
            await pilot.press("1", *f"call {i}", "enter", "enter")  # connected; no next step
            await settle(pilot)
            assert not isinstance(app.screen, QuickCallScreen)
    terminals = [desk_for(e, settings, desk.rep) for e in (pooled_engine, other_engine)]

    def caller(terminal: UseCases) -> Callable[[int], None]:
        def step(i: int) -> None:  # writes only: a read's rollback empties psycopg's cache
            n = 2 + i * 2 + terminals.index(terminal)
            terminal.leads.log_call(hank, outcome="connected", notes=f"call {n}")

        return step

    in_turn(ROUNDS, *(caller(t) for t in terminals))
    with pooled_engine.connect() as conn:
        notes = conn.execute(
            text("SELECT notes FROM customer_interactions WHERE customer_id = :c"), {"c": hank}
        ).scalars()
        assert sorted(n for n in notes if n and n.startswith("call ")) == sorted(
            f"call {i}" for i in range(2 + 2 * ROUNDS)
        )


# --- a blast: a segment, queued, sent ----------------------------------------------------------


def test_a_segment_blasted_and_sent_to_the_provider(
    pooled_engine: Engine,
    other_engine: Engine,
    pooled_settings: Callable[..., Settings],
    desk: Desk,
    fake: FakeProviders,
) -> None:
    settings = pooled_settings(settings_for(fake, "sendgrid"))
    seed_blast_audience(pooled_engine)
    mia = manager_mia(pooled_engine)
    dana = desk_for(pooled_engine, settings, desk.manager)
    other = desk_for(other_engine, settings, mia)

    def build_and_send(sender: UseCases) -> Callable[[int], int]:
        def step(i: int) -> int:
            counted = sender.segments.live_count().count(SEGMENT)
            assert counted is not None and counted.total == 8
            subject = f"Hi {{first_name}}, from {sender.ctx.actor.login}, number {i}"
            check = sender.blasts.check(SEGMENT, subject, "Hello")
            assert check.problem is None and check.unready is None
            saved = sender.segments.save(f"Blast test {i} {sender.ctx.actor.login}", SEGMENT)
            sent = sender.blasts.send(
                SEGMENT, subject, "Hello", confirm=check.dry.recipients, saved=saved
            )
            return sent.queued

        return step

    queued = in_turn(ROUNDS, build_and_send(dana), build_and_send(other))
    assert queued == [3] * 2 * ROUNDS
    # Both "runners" drain the outbox a batch at a time, in turn, until it is empty.
    while True:
        reports = [runner.email.drain(max_batches=1) for runner in (dana, other)]
        if not any(report.sent for report in reports):
            break
    assert sum(fake.accepted.values()) == 3 * 2 * ROUNDS
    assert set(fake.accepted.values()) == {1}  # nobody got one twice
    with pooled_engine.connect() as conn:
        statuses = conn.execute(text("SELECT status::text, count(*) FROM email_outbox GROUP BY 1"))
        assert dict(statuses.all()) == {"sent": 3 * 2 * ROUNDS}


# --- the jobs ----------------------------------------------------------------------------------


def test_the_jobs_from_two_runners_in_turn(
    pooled_engine: Engine,
    other_engine: Engine,
    pooled_settings: Callable[..., Settings],
    with_emails: Desk,
    fake: FakeProviders,
) -> None:
    """Nurture, the upsell sync, the outbox, task reminders and the suppression pull, each run
    by one runner then the other, ROUNDS times: every run is "ok" (none skipped by a lock
    left behind on a pooled server connection) and nothing is done twice."""
    desk = with_emails
    settings = pooled_settings(settings_for(fake, "sendgrid"))
    close_ticket(pooled_engine, desk)  # the upsell sync makes 1 opportunity, 1 notice, 1 email
    setup_quote(pooled_engine, desk, timedelta(days=400))  # nurture queues 1 follow-up
    with Session(pooled_engine) as s:  # a call that fell due: one reminder
        add_task(s, s.merge(desk.customers["Hank Hill"]), "Call now", due_at=FIXED_NOW,
                 assignee=s.merge(desk.rep))  # fmt: skip
        s.commit()
    fake.sendgrid_lists = {
        "bounces": [{"email": "hank.hill@example.com", "created": int(FIXED_NOW.timestamp()) - 3 * 3600,
                     "reason": "550 5.1.1 mailbox unavailable", "status": "5.1.1"}],
        "spam_reports": [], "unsubscribes": [],
    }  # fmt: skip
    runners = [desk_for(e, settings, None) for e in (pooled_engine, other_engine)]
    pulled: list[int] = []  # events new to us, per feed and pull

    def jobs_of(runner: UseCases) -> Callable[[int], list[tuple[str, str]]]:
        def step(_: int) -> list[tuple[str, str]]:
            results = [
                runner.jobs.nurture(),
                runner.jobs.upsell(),
                runner.tasks.remind_due(),
                runner.jobs.suppressions(),
            ]
            pulled.extend(feed["new"] for feed in results[-1].counts["feeds"])
            runner.email.drain()
            return [(r.job, r.status) for r in results]

        return step

    done = in_turn(ROUNDS, *(jobs_of(r) for r in runners))
    assert {run for runs in done for run in runs} == {
        ("nurture", "ok"), ("upsell", "ok"), ("tasks", "ok"), ("suppressions", "ok"),
    }  # fmt: skip
    assert counts(pooled_engine) == (1, 1, 1)
    with pooled_engine.connect() as conn:
        outbox = "SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM email_outbox"
        emails, sent = conn.execute(text(outbox)).one()
        nurtured = "SELECT count(*) FROM email_outbox WHERE idempotency_key LIKE 'nurture:%'"
        assert conn.execute(text(nurtured)).scalar_one() >= 1
        reminders = "SELECT count(*) FROM notifications WHERE kind = 'task_due'"
        assert conn.execute(text(reminders)).scalar_one() == 1
    assert emails == sent == sum(fake.accepted.values())  # each sent once, none left
    assert set(fake.accepted.values()) == {1}
    assert sum(pulled) == 1  # the bounce, stored once

    # The runner's loop, a few ticks, then woken by a ticket closing (its LISTEN, direct).
    runner = Runner(pooled_engine, settings, FixedClock(FIXED_NOW))
    assert runner.run(tick=0.01, ticks=ROUNDS) == 0
    runner = Runner(pooled_engine, settings, FixedClock(FIXED_NOW))
    loop = threading.Thread(target=runner.run, kwargs={"tick": 0.05}, daemon=True)
    loop.start()
    try:
        wait_for(runner.listening.is_set, "the runner's listener connecting")
        close_ticket(pooled_engine, desk, n=2)
        wait_for(lambda: counts(pooled_engine)[0] == 2, "the sync woken by the ticket's NOTIFY")
    finally:
        runner.stopping.set()
        loop.join(timeout=30)
    assert not loop.is_alive()


# --- a lead import and a cancelled count -------------------------------------------------------


LEADS = """Full Name,E-mail,Phone Number,City,Lead Source
Ada Lovelace {i},ada{i}@example.com,(469) 555-01{i:02d},Dallas,Website
Grace Hopper {i},grace{i}@example.com,,Austin,
Bad Email {i},not-an-email,,Frisco,
"""


def test_lead_imports_through_the_pooler(
    pooled_engine: Engine,
    other_engine: Engine,
    pooled_settings: Callable[..., Settings],
    desk: Desk,
    tmp_path: Path,
) -> None:
    """An import stages rows in a temporary table dropped at its commit: nothing of it is
    left on the server connection for the next client (a dry run too)."""
    settings = pooled_settings()
    terminals = [desk_for(e, settings, desk.manager) for e in (pooled_engine, other_engine)]

    def importer(terminal: UseCases) -> Callable[[int], tuple[int, int]]:
        def step(i: int) -> tuple[int, int]:
            n = i * 2 + terminals.index(terminal)
            path = tmp_path / f"leads{n}.csv"
            path.write_text(LEADS.format(i=n))
            terminal.leads.import_csv(path, source="Trade show", dry_run=True)
            report = terminal.leads.import_csv(path, source="Trade show")
            return report.imported, report.invalid_count

        return step

    assert in_turn(ROUNDS, *(importer(t) for t in terminals)) == [(2, 1)] * 2 * ROUNDS
    with pooled_engine.connect() as conn:
        imported = "SELECT count(*) FROM customers WHERE name ~ '^(Ada Lovelace|Grace Hopper) '"
        assert conn.execute(text(imported)).scalar_one() == 2 * 2 * ROUNDS


SLOW = "SELECT pg_sleep(10)"


def test_a_cancelled_count_through_the_pooler(pooled_engine: Engine, db_url: URL) -> None:
    """The cancel request goes to PgBouncer, which passes it to the server connection the
    query runs on; the statement timeout the count set was for its transaction only."""
    canceller = QueryCanceller()
    for _ in range(ROUNDS):
        outcome: dict[str, BaseException] = {}

        def run(outcome: dict[str, BaseException] = outcome) -> None:
            try:
                with canceller.session(pooled_engine, timeout_ms=20_000) as session:
                    session.execute(text(SLOW))
            except DBAPIError as error:
                outcome["error"] = error

        worker = threading.Thread(target=run)
        worker.start()
        wait_for(lambda: running(db_url, SLOW), "the slow query starting on the server")
        canceller.cancel()
        worker.join(timeout=30)
        assert not worker.is_alive() and was_cancelled(outcome["error"])
        with pooled_engine.connect() as conn:  # the same server connection, most likely
            assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "0"
    assert not running(db_url, SLOW)


def running(db_url: URL, query: str) -> bool:
    """The server runs `query` in the test's database now (asked directly, not pooled)."""
    direct = db_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(direct) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'active' AND query = %s)",
            (query,),
        ).fetchone()
    return bool(row and row[0])


# --- session state the pooler must carry per client ----------------------------------------------


def test_the_time_zone_is_the_clients_own_on_a_shared_server_connection(
    pooled_engine: Engine, pooled_url: URL
) -> None:
    """Our engines set UTC once per connection (db/engine.py); PgBouncer tracks TimeZone per
    client and sets it again when a server connection passes from one client to another."""
    other = pooled_url.set(drivername="postgresql").render_as_string(hide_password=False)
    zone_and_pid = "SELECT current_setting('TimeZone'), pg_backend_pid()"
    with psycopg.connect(other, autocommit=True) as stranger, pooled_engine.connect() as ours:
        shared: set[int] = set()
        for _ in range(ROUNDS):
            row = stranger.execute(
                "SELECT set_config('TimeZone', 'Asia/Tokyo', false), pg_backend_pid()"
            ).fetchone()
            assert row is not None
            zone, pid = ours.execute(text(zone_and_pid)).one()
            ours.commit()
            assert zone == "UTC"
            if pid == row[1]:
                shared.add(pid)
            again = stranger.execute(zone_and_pid).fetchone()
            assert again is not None and again[0] == "Asia/Tokyo"
        assert shared, "the two clients never met on one server connection"


@pytest.fixture
def one_server(pg_cluster: ScratchCluster, tmp_path: Path) -> Iterator[LocalPgBouncer]:
    """A pooler of its own with ONE server connection: every client meets the same session."""
    with local_pgbouncer(pg_cluster.url("postgres"), tmp_path / "one", pool_size=1) as bouncer:
        yield bouncer


def test_one_suppression_pull_at_a_time_across_runners(
    pooled_engine: Engine,
    pooled_settings: Callable[..., Settings],
    one_server: LocalPgBouncer,
    db_url: URL,
    desk: Desk,
    fake: FakeProviders,
) -> None:
    """The pull holds its job across transactions while a provider answers. A session
    advisory lock cannot do that through a pooler: the lock stays on whichever server
    connection took it, and the next client given that connection holds it too. While one
    runner waits on a slow provider, the other runner's pull is skipped. Through a pooler of
    one server connection, so the two runners surely share it (and neither may hold it while
    it waits: the other would wait for it)."""
    settings = pooled_settings(settings_for(fake, "sendgrid"))
    fake.sendgrid_lists = {"bounces": [], "spam_reports": [], "unsubscribes": []}
    runs = "SELECT status, count(*) FROM job_runs WHERE job = 'suppressions' GROUP BY 1"
    with pooled_engine.connect() as conn:
        assert not conn.execute(text(runs)).all()
    engines = [make_engine(one_server.url(db_url)) for _ in range(2)]
    first, second = (desk_for(e, settings, None) for e in engines)
    for _ in range(2):  # twice: the first pull's hold is let go at its end
        fake.answer_get("/v3/suppression/bounces", Scripted(200, delay=1.5))
        asked = len(fake.gets("/v3/suppression/bounces"))
        slow: dict[str, Any] = {}
        pulling = threading.Thread(
            target=lambda slow=slow: slow.update(r=first.jobs.suppressions())
        )
        pulling.start()
        wait_for(
            lambda: len(fake.gets("/v3/suppression/bounces")) > asked,  # noqa: B023
            "the first runner asking the provider",
        )
        assert second.jobs.suppressions().status == "skipped"
        pulling.join(timeout=30)
        assert slow["r"].status == "ok"
    for engine in engines:
        engine.dispose()
    with pooled_engine.connect() as conn:
        assert dict(conn.execute(text(runs)).all()) == {"ok": 2, "skipped": 2}
