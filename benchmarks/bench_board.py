"""The pipeline board at 100, 10,000 and 100,000 open estimates in one pipeline, against a
bare Textual app (one Static) measured in the same run.

Each run is a new process (`board_probe.py`): start to first full paint, start to exit, peak
RSS, and key press to repainted screen for cursor moves (j/k) and card moves (shift+arrows).
From revision 0014 the data has expected close dates and tasks (each card shows its customer's
soonest open task).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import Cluster, Options, Result, benchmark
from sqlalchemy import Engine, text

PROBE = Path(__file__).with_name("board_probe.py")
LOGIN = "bench.manager"
SIZES = (100, 10_000, 100_000)

FILL = """
INSERT INTO users (login, name, role, email)
VALUES ('bench.manager', 'Bench Manager', 'manager', 'bench@example.com'),
       ('bench.rep', 'Rita Rep', 'rep', 'rita@example.com');

INSERT INTO customers (name, email, status, lead_source, last_interaction_at, created_at)
SELECT 'Customer ' || g, 'c' || g || '@example.com',
       (CASE WHEN g % 3 = 0 THEN 'active' ELSE 'lead' END)::customer_status, 'Referral',
       CASE WHEN g % 4 = 0 THEN NULL ELSE now() - (g % 40) * interval '1 day' END,
       now() - interval '90 days'
FROM generate_series(1, :n) AS g;

-- Every estimate in an open stage of one pipeline, spread evenly, entered over 60 days; from
-- revision 0014, two in three with an expected close date, a month ago to five months on.
CREATE TEMP VIEW bench_estimates AS
WITH open_stages AS (
    SELECT s.id, row_number() OVER (ORDER BY s.position) - 1 AS k, count(*) OVER () AS n
    FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
    WHERE p.name = 'Residential Replacements' AND NOT s.is_won AND NOT s.is_lost
), numbered AS (
    SELECT id, row_number() OVER () AS g FROM customers
)
SELECT c.id AS customer_id, 'Heat pump system ' || c.g AS title,
       2000 + (c.g * 7919) % 20000 AS amount, 'sent'::estimate_status AS status,
       st.id AS stage_id, now() - ((c.g * 104729) % 86400) * interval '1 minute' AS entered,
       (SELECT id FROM users
        WHERE login = CASE WHEN c.g % 2 = 0 THEN 'bench.manager' ELSE 'bench.rep' END) AS owner,
       CASE WHEN c.g % 3 <> 0 THEN current_date + ((c.g * 7919) % 180 - 30)::int END AS closes
FROM numbered c JOIN open_stages st ON st.k = c.g % st.n;

DO $fill$ BEGIN IF to_regclass('tasks') IS NULL THEN
    INSERT INTO estimates (customer_id, title, amount, status, stage_id, stage_entered_at,
                           owner_id)
    SELECT customer_id, title, amount, status, stage_id, entered, owner FROM bench_estimates
    ; ELSE
    INSERT INTO estimates (customer_id, title, amount, status, stage_id, stage_entered_at,
                           owner_id, expected_close_on)
    SELECT customer_id, title, amount, status, stage_id, entered, owner, closes
    FROM bench_estimates
    -- Two customers in three have an open task (a card's next step), due from ten days ago
    -- to twenty days on; every customer has a done one.
    ; INSERT INTO tasks (customer_id, kind, title, due_at, all_day)
    SELECT c.id, 'call', 'Call back', now() + (c.g % 30 - 10) * interval '1 day', c.g % 2 = 0
    FROM (SELECT id, row_number() OVER () AS g FROM customers) c WHERE c.g % 3 <> 0
    ; INSERT INTO tasks (customer_id, kind, title, due_at, all_day, done_at)
    SELECT c.id, 'todo', 'Sent the quote', now() - interval '20 days', true,
           now() - interval '19 days'
    FROM customers c
    ; END IF; END $fill$;
DROP VIEW bench_estimates;
ANALYZE;
"""


def fill_for(n: int):
    def fill(engine: Engine) -> None:
        with engine.begin() as conn:
            for statement in FILL.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), {"n": n})

    return fill


def probe(url: str, *extra: str) -> tuple[dict[str, object], float]:
    started = time.time()
    out = subprocess.run(
        [sys.executable, str(PROBE), url, LOGIN, repr(started), *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"probe failed:\n{out.stderr[-3000:]}")
    exited = time.time() - started
    return json.loads(out.stdout.strip().splitlines()[-1]), exited


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


@benchmark(
    "board", "pipeline board: start to paint, key to paint, RSS; bare app baseline", order=30
)
def board(cluster: Cluster, options: Options) -> list[Result]:
    results: list[Result] = []
    template = cluster.template("head", label="board-empty")
    with cluster.fresh(template) as engine:
        url = engine.url.render_as_string(hide_password=False)
        runs = [probe(url, "--bare") for _ in range(options.repeat)]
    results.append(
        Result(
            "bare Textual app: start → first paint",
            "one Static",
            [r["first_paint"] for r, _ in runs],
            note=f"peak RSS {max(r['peak_rss_mib'] for r, _ in runs):.0f} MiB",
        )
    )
    results.append(Result("bare Textual app: start → exit", "one Static", [e for _, e in runs]))
    for n in SIZES:
        template = cluster.template("head", fill_for(n), label=f"board-{n}")
        with cluster.fresh(template) as engine:
            url = engine.url.render_as_string(hide_password=False)
            runs = [probe(url) for _ in range(options.repeat)]
            quick = [probe(url, "--keys", "0") for _ in range(options.repeat)]
        size = f"{n:,} open estimates"
        cursor = [k for r, _ in runs for k in r["cursor"]]
        moves = [k for r, _ in runs for k in r["move"]]
        results += [
            Result(
                "board: start → first paint",
                size,
                [r["first_paint"] for r, _ in runs],
                note=f"peak RSS {max(r['peak_rss_mib'] for r, _ in runs):.0f} MiB "
                "(after the key runs)",
            ),
            Result("board: start → exit (paint, then quit)", size, [e for _, e in quick]),
            Result(
                "board: key → paint, cursor (j/k)",
                size,
                cursor,
                note=f"p95 {ms(p95(cursor))}, {len(cursor)} presses",
            ),
            Result(
                "board: key → paint, card move (⇧→/⇧←)",
                size,
                moves,
                note=f"p95 {ms(p95(moves))}, {len(moves)} moves",
            ),
        ]
    return results
