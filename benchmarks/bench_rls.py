"""Row-level security: what a person's role costs. The same person does the same thing twice,
in turns, in the same run: (a) as the schema's owner with no role taken (row-level security
bypassed, no `SET LOCAL ROLE`, no audit trail: how the app ran before revision 0021), and (b)
with their database role (`SET LOCAL ROLE` at the start of every transaction, every policy
and trigger of 0021, the audit trail written).

Measured through the desk's use cases, as the app calls them, on the demo company's data
(`seed_demo`, 20,000 customers) as one of its reps: the board's first load (`load_board` and
the first page of every column, what the board paints), a card move, a quick call, two
segment counts, two searches and an import of 1,000 new leads. The board's first load and a
card move are measured again at 100,000 open estimates in one pipeline (the board
benchmark's data).

Prints a table (median and p95 of each, and the ratio of the medians); where a ratio is over
1.3x, every statement of that operation is run once more both ways under `EXPLAIN ANALYZE`
(in its own transaction, in a savepoint) and the plans of those slower as the role are shown.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench_board import fill_for as board_fill
from bench_board import p95
from harness import Cluster, Options, Result, benchmark
from sqlalchemy import Engine, event, select, text
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.base.clock import Clock, FixedClock
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db.demo import seed_demo
from salesengine_tui.db.models import Customer, DealPipeline, DealStage, Estimate, User
from salesengine_tui.deals import board
from salesengine_tui.marketing import segments
from salesengine_tui.usecases import Desk
from salesengine_tui.usecases.context import AppContext

DEMO_CUSTOMERS = 20_000
BOARD_ESTIMATES = 100_000
BOARD_REP = "bench.rep"  # bench_board's rep: owns every other card
SEED = 42
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
IMPORT_ROWS = 1_000
RATIO_FLAG = 1.3
# Timed runs of each way per operation at --repeat 3 (scaled with --repeat).
SAMPLES = {"board": 15, "move": 40, "call": 40, "count": 15, "search": 15, "import": 4}
SEGMENTS = (
    "status = lead and has_email = yes and city = Plano",
    "equipment.age > 10 and last_service > 6mo",
)
# The search box (every screen's `/`): a name, and phone digits.
SEARCHES = ("smith", "972 55")


@dataclass
class Pair:
    """One operation timed both ways, in turns."""

    name: str
    size: str
    owner: list[float]
    person: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.person) / statistics.median(self.owner)

    def results(self) -> list[Result]:
        return [
            Result(
                f"RLS {self.name}: owner, no role (baseline)",
                self.size,
                self.owner,
                note=f"p95 {p95(self.owner) * 1000:.1f} ms",
            ),
            Result(
                f"RLS {self.name}: the person's role",
                self.size,
                self.person,
                note=f"p95 {p95(self.person) * 1000:.1f} ms, {self.ratio:.2f}x the baseline "
                "(medians)",
            ),
        ]


@dataclass(frozen=True)
class Ways:
    """The same person at two desks: as the owner with no role, and with their role."""

    owner: Desk
    person: Desk
    actor: Actor


def _ways(engine: Engine, login: str) -> Ways:
    with Session(engine) as session:
        user = session.execute(select(User).where(User.login == login)).scalar_one()
    person = Actor.of(user)
    assert person.db_role, f"{login} has no database role: is the database at 0021?"
    # No db_role: no SET ROLE, so the connection's own role (the owner) acts.
    owner = Actor(person.id, person.login, person.name, person.role)
    settings = load_settings(live_updates=False)

    def desk(actor: Actor) -> Desk:
        return Desk(AppContext(engine=engine, clock=Clock(), settings=settings, actor=actor))

    return Ways(desk(owner), desk(person), person)


def _turns(
    name: str, size: str, runs: int, owner: Callable[[], object], person: Callable[[], object]
) -> Pair:
    """Both ways once untimed (warm), then `runs` each, alternating which goes first."""
    owner()
    person()
    pair = Pair(name, size, [], [])
    for i in range(runs):
        order = ((owner, pair.owner), (person, pair.person))
        for run, into in order if i % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            run()
            into.append(time.perf_counter() - started)
    return pair


def _runs(key: str, options: Options) -> int:
    return max(3, SAMPLES[key] * options.repeat // 3)


# --- the operations -------------------------------------------------------------------------


def _first_load(desk: Desk) -> Callable[[], object]:
    def load() -> int:
        read = desk.deals.load_board(None)
        assert read.query is not None
        cards = 0
        for column in read.columns:
            cards += len(desk.deals.page(column.id, read.query, limit=board.PAGE_SIZE))
        return cards

    return load


def _open_stages_without_follow_up(session: Session, pipeline_id: uuid.UUID) -> list[uuid.UUID]:
    # A move into a stage with a follow-up rule also opens a task: not what is measured here.
    return list(
        session.execute(
            select(DealStage.id)
            .where(
                DealStage.pipeline_id == pipeline_id,
                ~DealStage.is_won,
                ~DealStage.is_lost,
                DealStage.follow_up_after_days.is_(None),
            )
            .order_by(DealStage.position)
        ).scalars()
    )


def _mover(engine: Engine, ways: Ways) -> tuple[Callable[[], object], Callable[[], object]]:
    """A card of the person's in the first pipeline, moved back and forth between two open
    stages by both ways in turns (each move starts from the card the last one left)."""
    with Session(engine) as session:
        pipeline = session.execute(
            select(DealPipeline.id).order_by(DealPipeline.position).limit(1)
        ).scalar_one()
        stages = _open_stages_without_follow_up(session, pipeline)[:2]
        estimate = session.execute(
            select(Estimate.id)
            .where(Estimate.owner_id == ways.actor.id, Estimate.stage_id.in_(stages))
            .limit(1)
        ).scalar_one()
        card = board.get_card(session, estimate)
    state = {"card": card}

    def move(desk: Desk) -> Callable[[], object]:
        def run() -> None:
            card = state["card"]
            to = stages[1] if card.stage_id == stages[0] else stages[0]
            state["card"] = desk.deals.move(card, to).card

        return run

    return move(ways.owner), move(ways.person)


def _lead_of(engine: Engine, actor: Actor) -> uuid.UUID:
    with Session(engine) as session:
        return session.execute(
            select(Customer.id)
            .where(Customer.owner_id == actor.id, Customer.status == "lead")
            .order_by(Customer.name)
            .limit(1)
        ).scalar_one()


def _importer(folder: Path, desk: Desk, way: str) -> Callable[[], object]:
    """Each run imports a new file of new leads (names, emails and phones never seen)."""
    runs = iter(range(1_000_000))

    def run() -> None:
        n = next(runs)
        path = folder / f"{way}-{n}.csv"
        # An area code per way (none of the demo's), an exchange per run: no number seen twice.
        area, exchange = (303 if way == "owner" else 720), 201 + n
        lines = ["Full Name,Email,Phone,City,Lead Source"]
        lines += [
            f"Imported {way} {n}-{i},{way}{n}.{i}@example.org,({area}) {exchange}-{i:04d},"
            "Dallas,Trade show"
            for i in range(IMPORT_ROWS)
        ]
        path.write_text("\n".join(lines) + "\n")
        report = desk.leads.import_csv(path)
        assert report.imported == IMPORT_ROWS, (report.imported, report.duplicate_count)

    return run


# --- where the time goes --------------------------------------------------------------------


_EXPLAINED = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")


def _explained(engine: Engine, run: Callable[[], object]) -> list[tuple[str, list[str]]]:
    """Run `run` once; every statement it sends (but the role's set_config) is first
    EXPLAIN ANALYZEd where it stands, in its own transaction (so it sees that transaction's
    temporary tables and rows), inside a savepoint rolled back after."""
    seen: list[tuple[str, list[str]]] = []

    def heard(_conn, cursor, statement, parameters, _context, many) -> None:
        if (
            many
            or "set_config(" in statement
            or not statement.lstrip().upper().startswith(_EXPLAINED)
        ):
            return
        with cursor.connection.cursor() as explain:
            explain.execute("SAVEPOINT bench_rls_explain")
            explain.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = [row[0] for row in explain.fetchall()]
            explain.execute("ROLLBACK TO SAVEPOINT bench_rls_explain")
        seen.append((statement, plan))

    event.listen(engine, "before_cursor_execute", heard)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", heard)
    return seen


def _execution_ms(plan: list[str]) -> float:
    last = next(line for line in reversed(plan) if line.startswith("Execution Time"))
    return float(last.split(":")[1].split()[0])


def _plans(
    engine: Engine, pair: Pair, owner: Callable[[], object], person: Callable[[], object]
) -> str:
    """For an operation over the flag: each of its statements explained both ways, in the
    order the operation sends them, and the plans of those slower as the role by more than
    the flag."""
    lines = [f"\n#### {pair.name} ({pair.size}): {pair.ratio:.2f}x\n"]
    as_owner, as_person = _explained(engine, owner), _explained(engine, person)
    for (statement, a_plan), (_, b_plan) in zip(as_owner, as_person, strict=False):
        a, b = _execution_ms(a_plan), _execution_ms(b_plan)
        lines.append(f"- {a:.2f} ms as the owner, {b:.2f} ms as the role: "
                     f"`{' '.join(statement.split())[:160]}`")  # fmt: skip
        if b > RATIO_FLAG * a and b - a > 1.0:
            lines += ["", "  as the owner:", *("      " + r for r in a_plan)]
            lines += ["", "  as the role:", *("      " + r for r in b_plan), ""]
    return "\n".join(lines)


# --- the benchmark --------------------------------------------------------------------------


def demo_fill(engine: Engine) -> None:
    seed_demo(engine, customers=DEMO_CUSTOMERS, seed=SEED, clock=FixedClock(NOW))


def _busiest_rep(engine: Engine) -> str:
    """The demo's rep with the most open deals on the first board."""
    with Session(engine) as session:
        return session.execute(
            text(
                "SELECT u.login FROM users u JOIN estimates e ON e.owner_id = u.id"
                " JOIN deal_stages s ON s.id = e.stage_id"
                " WHERE u.role = 'rep' AND u.active AND NOT s.is_won AND NOT s.is_lost"
                " GROUP BY u.login ORDER BY count(*) DESC, u.login LIMIT 1"
            )
        ).scalar_one()


def _table(pairs: list[Pair]) -> str:
    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.1f} / {p95(values) * 1000:.1f}"

    lines = [
        "\n### Row-level security: the owner with no role against the person's role\n",
        "| Operation | Data | Runs | Owner, no role: median / p95 (ms) "
        "| Person's role: median / p95 (ms) | Ratio (medians) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for p in pairs:
        flag = " **over 1.3x**" if p.ratio > RATIO_FLAG else ""
        lines.append(
            f"| {p.name} | {p.size} | {len(p.owner)} | {ms(p.owner)} | {ms(p.person)} "
            f"| {p.ratio:.2f}x{flag} |"
        )
    return "\n".join(lines)


Measure = tuple[str, str, int, Callable[[], object], Callable[[], object]]


def _measure(engine: Engine, todo: list[Measure]) -> tuple[list[Pair], list[str]]:
    """Each operation timed both ways; then the plans of those over the flag."""
    pairs, plans = [], []
    for name, size, runs, owner, person in todo:
        pair = _turns(name, size, runs, owner, person)
        pairs.append(pair)
        print(f"  {name}: {pair.ratio:.2f}x", file=sys.stderr, flush=True)
        if pair.ratio > RATIO_FLAG:
            plans.append(_plans(engine, pair, owner, person))
    return pairs, plans


@benchmark("rls", "row-level security: the same use cases as the owner and as the role", order=85)
def rls(cluster: Cluster, options: Options) -> list[Result]:
    pairs: list[Pair] = []
    plans: list[str] = []

    template = cluster.template("head", demo_fill, label=f"rls-demo-{DEMO_CUSTOMERS}")
    with cluster.fresh(template) as engine, tempfile.TemporaryDirectory() as tmp:
        login = _busiest_rep(engine)
        ways = _ways(engine, login)
        size = f"demo, {DEMO_CUSTOMERS:,} customers, rep {login}"
        lead = _lead_of(engine, ways.actor)
        todo: list[Measure] = [
            ("board first load", size, _runs("board", options),
             _first_load(ways.owner), _first_load(ways.person)),
            ("card move", size, _runs("move", options), *_mover(engine, ways)),
            ("quick call", size, _runs("call", options),
             lambda: ways.owner.leads.log_call(lead, outcome="no_answer", notes="bench"),
             lambda: ways.person.leads.log_call(lead, outcome="no_answer", notes="bench")),
        ]  # fmt: skip
        for source in SEGMENTS:
            definition = segments.parse(source)
            todo.append(
                (f"segment count `{source}`", size, _runs("count", options),
                 lambda d=definition: ways.owner.segments.count(d),
                 lambda d=definition: ways.person.segments.count(d))
            )  # fmt: skip
        for typed in SEARCHES:
            todo.append(
                (f"search `{typed}`", size, _runs("search", options),
                 lambda t=typed: ways.owner.search.find(t),
                 lambda t=typed: ways.person.search.find(t))
            )  # fmt: skip
        todo.append(
            (f"lead import, {IMPORT_ROWS:,} rows", size, _runs("import", options),
             _importer(Path(tmp), ways.owner, "owner"),
             _importer(Path(tmp), ways.person, "person"))
        )  # fmt: skip
        measured, explained = _measure(engine, todo)
        pairs += measured
        plans += explained

    template = cluster.template(
        "head", board_fill(BOARD_ESTIMATES), label=f"board-{BOARD_ESTIMATES}"
    )
    with cluster.fresh(template) as engine:
        ways = _ways(engine, BOARD_REP)
        size = f"{BOARD_ESTIMATES:,} open estimates, rep {BOARD_REP}"
        todo = [
            ("board first load", size, _runs("board", options),
             _first_load(ways.owner), _first_load(ways.person)),
            ("card move", size, _runs("move", options), *_mover(engine, ways)),
        ]  # fmt: skip
        measured, explained = _measure(engine, todo)
        pairs += measured
        plans += explained

    print(_table(pairs), flush=True)
    for plan in plans:
        print(plan, flush=True)
    return [r for p in pairs for r in p.results()]
