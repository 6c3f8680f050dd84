"""The dashboard at 100, 10,000 and 100,000 open estimates (the board benchmark's data, plus
stage history, decided deals and a feed), against the board and a bare Textual app measured
in the same run; with `--big`, on the 1,000,000-customer demo data too.

Start to first full paint in a fresh process (`dashboard_probe.py`, as the board's probe),
and the figures on their own: `dashboard_figures.load` (every statement, side by side as the
screen runs them) and each statement alone, in this process on a warm connection pool.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench_board import LOGIN, SIZES, fill_for, ms, probe
from harness import Cluster, Options, Result, benchmark, timed
from sqlalchemy import Engine, text
from sqlmodel import Session

from salesengine_tui.access.users import get_by_login
from salesengine_tui.activity import feed as activity
from salesengine_tui.base.clock import Clock
from salesengine_tui.db.demo import seed_demo
from salesengine_tui.deals import figures as figures
from salesengine_tui.deals.pipelines import list_pipelines

PROBE = Path(__file__).with_name("dashboard_probe.py")
TZ = ZoneInfo("America/Chicago")

# On top of the board's fill: every open card's entry into the pipeline; half as many deals
# again decided (45% won) over the last 90 days, each with an entry and a closing move; one
# interaction per customer over 60 days; the manager owning every other customer, a tenth of
# them with a next step around today.
HISTORY = """
INSERT INTO estimate_stage_history (estimate_id, to_stage_id, to_stage_name, moved_by, moved_at)
SELECT e.id, e.stage_id, s.name, e.owner_id, e.stage_entered_at
FROM estimates e JOIN deal_stages s ON s.id = e.stage_id;

WITH st AS (
    SELECT max(s.id::text) FILTER (WHERE s.is_won)::uuid AS won,
           max(s.id::text) FILTER (WHERE s.is_lost)::uuid AS lost
    FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
    WHERE p.name = 'Residential Replacements'
), numbered AS (
    SELECT id, row_number() OVER () AS g FROM customers
)
INSERT INTO estimates (customer_id, title, amount, status, stage_id, stage_entered_at, owner_id,
                       created_at)
SELECT c.id, 'Furnace replacement ' || c.g, 1500 + (c.g * 7919) % 18000,
       (CASE WHEN c.g % 20 < 9 THEN 'accepted' ELSE 'declined' END)::estimate_status,
       CASE WHEN c.g % 20 < 9 THEN st.won ELSE st.lost END,
       now() - ((c.g * 104729) % (90 * 1440)) * interval '1 minute',
       (SELECT id FROM users WHERE login = 'bench.rep'),
       now() - ((c.g * 104729) % (90 * 1440)) * interval '1 minute'
           - (5 + c.g % 40) * interval '1 day'
FROM numbered c CROSS JOIN st
WHERE c.g % 2 = 0;

WITH closed AS (
    SELECT e.id, e.stage_id, s.name, e.owner_id, e.stage_entered_at, e.created_at
    FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
    WHERE s.is_won OR s.is_lost
), first_stage AS (
    SELECT s.id, s.name FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
    WHERE p.name = 'Residential Replacements' AND s.position = 0
), proposal AS (
    SELECT s.id, s.name FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
    WHERE p.name = 'Residential Replacements' AND s.name = 'Proposal Sent'
)
INSERT INTO estimate_stage_history (estimate_id, from_stage_id, to_stage_id, from_stage_name,
                                    to_stage_name, moved_by, moved_at)
SELECT c.id, NULL, f.id, NULL, f.name, c.owner_id, c.created_at
FROM closed c CROSS JOIN first_stage f
UNION ALL
SELECT c.id, p.id, c.stage_id, p.name, c.name, c.owner_id, c.stage_entered_at
FROM closed c CROSS JOIN proposal p;

INSERT INTO customer_interactions (customer_id, type, direction, notes, created_by, created_at)
SELECT c.id, 'call', 'outbound', 'Talked about the quote',
       (SELECT id FROM users WHERE login = 'bench.rep'),
       now() - ((row_number() OVER () * 7907) % (60 * 1440)) * interval '1 minute'
FROM customers c;

UPDATE customers c SET owner_id = (SELECT id FROM users WHERE login = 'bench.manager')
FROM (SELECT id, row_number() OVER () AS g FROM customers) n
WHERE n.id = c.id AND n.g % 2 = 0;

INSERT INTO tasks (customer_id, kind, title, due_at, all_day, assignee_id, created_by)
SELECT n.id, 'call', 'Call back', now() + (n.g % 7 - 3) * interval '1 day', false, m.id, m.id
FROM (SELECT id, row_number() OVER () AS g FROM customers) n
CROSS JOIN (SELECT id FROM users WHERE login = 'bench.manager') m
WHERE n.g % 10 = 0;
ANALYZE;
"""


def fill_dashboard(n: int) -> Callable[[Engine], None]:
    board = fill_for(n)

    def fill(engine: Engine) -> None:
        board(engine)
        with engine.begin() as conn:
            for statement in HISTORY.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement))

    return fill


def fill_demo(engine: Engine) -> None:
    seed_demo(engine, customers=1_000_000, seed=1, clock=Clock())
    with engine.begin() as conn:  # who the board's probe signs in as
        conn.execute(
            text(
                "INSERT INTO users (login, name, role, email) "
                "VALUES (:login, 'Bench Manager', 'manager', 'bench@example.com')"
            ),
            {"login": LOGIN},
        )


def dashboard_probe(url: str, login: str) -> dict[str, object]:
    started = time.time()
    out = subprocess.run(
        [sys.executable, str(PROBE), url, login, repr(started)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"dashboard probe failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def counts(engine: Engine) -> str:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE NOT s.is_won AND NOT s.is_lost) AS open, "
                "count(*) FILTER (WHERE s.is_won OR s.is_lost) AS decided "
                "FROM estimates e JOIN deal_stages s ON s.id = e.stage_id"
            )
        ).one()
        history = conn.execute(text("SELECT count(*) FROM estimate_stage_history")).scalar_one()
    return f"{row.open:,} open, {row.decided:,} decided, {history:,} history rows"


def figure_times(engine: Engine, login: str, repeat: int) -> dict[str, list[float]]:
    """Each statement alone, and `load` (all of them side by side), warm."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        user = get_by_login(session, login).id
        pid = list_pipelines(session)[0].id
    parts: dict[str, Callable[[Session], object]] = {
        "stages (count, value, weighted, rotting)": lambda s: figures.stage_figures(
            s, pid, now=now, tz=TZ
        ),
        "won/lost, win rate, days to close": lambda s: figures.outcomes(s, pid, now=now),
        "funnel": lambda s: figures.funnel(s, pid, now=now),
        "weekly won (sparkline)": lambda s: figures.weekly_won(s, pid, now=now, tz=TZ),
        "rotting deals (top 20)": lambda s: figures.rotting_deals(s, pid, now=now, tz=TZ),
        "forecast by expected close month": lambda s: figures.close_months(s, pid, now=now, tz=TZ),
        "my day (next steps, my rotting)": lambda s: figures.due_today(s, user, now=now, tz=TZ),
        "activity feed (50)": activity.recent_activity,
    }
    times: dict[str, list[float]] = {}
    for name, part in parts.items():
        with Session(engine) as session:
            part(session)  # warm: plans, buffers
            times[name] = [timed(lambda p=part, s=session: p(s)) for _ in range(repeat)]

    def load() -> None:
        figures.load(lambda: Session(engine), pipeline_id=pid, user_id=user, now=now, tz=TZ)

    load()
    times["load (all, side by side)"] = [timed(load) for _ in range(repeat)]

    def load_by_month() -> None:  # `f`: the forecast by expected close month shown
        figures.load(
            lambda: Session(engine),
            pipeline_id=pid,
            user_id=user,
            now=now,
            tz=TZ,
            by_close_month=True,
        )

    load_by_month()
    times["load, forecast by close month shown"] = [timed(load_by_month) for _ in range(repeat)]
    return times


@benchmark(
    "dashboard",
    "dashboard: start to first paint (vs board, bare app), figures query times",
    order=31,
)
def dashboard(cluster: Cluster, options: Options) -> list[Result]:
    results: list[Result] = []
    template = cluster.template("head", label="dashboard-empty")
    with cluster.fresh(template) as engine:
        url = engine.url.render_as_string(hide_password=False)
        bare = [probe(url, "--bare")[0]["first_paint"] for _ in range(options.repeat)]
    results.append(Result("bare Textual app: start → first paint", "one Static", bare))
    sizes: list[tuple[str, Callable[[Engine], None], str]] = [
        (f"{n:,} open estimates", fill_dashboard(n), f"dashboard-{n}") for n in SIZES
    ]
    if options.big:
        sizes.append(("demo, 1,000,000 customers", fill_demo, "dashboard-demo-1m"))
    for size, fill, label in sizes:
        template = cluster.template("head", fill, label=label)
        with cluster.fresh(template) as engine:
            url = engine.url.render_as_string(hide_password=False)
            login = LOGIN
            if label.endswith("1m"):  # the demo's busiest rep
                with engine.connect() as conn:
                    login = conn.execute(
                        text(
                            "SELECT u.login FROM users u JOIN customers c ON c.owner_id = u.id "
                            "GROUP BY u.login ORDER BY count(*) DESC LIMIT 1"
                        )
                    ).scalar_one()
            described = counts(engine)
            runs = [dashboard_probe(url, login) for _ in range(options.repeat)]
            boards = [probe(url, "--keys", "0")[0] for _ in range(options.repeat)]
            queries = figure_times(engine, login, max(3, options.repeat))
        results += [
            Result(
                "dashboard: start → first full paint",
                size,
                [r["first_paint"] for r in runs],
                note=f"{described}; peak RSS {max(r['peak_rss_mib'] for r in runs):.0f} MiB",
            ),
            Result(
                "board (same data): start → first full paint",
                size,
                [r["first_paint"] for r in boards],
            ),
        ]
        for name, seconds in queries.items():
            results.append(
                Result(
                    f"figures: {name}",
                    size,
                    seconds,
                    note=f"median {ms(statistics.median(seconds))}",
                )
            )
    return results
