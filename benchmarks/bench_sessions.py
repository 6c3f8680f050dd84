"""Fifty live desks on one PostgreSQL through PgBouncer: connections, live-update delay, the
server's CPU per move and each session's memory, at 10 and at 50 sessions in the same run.

One database (the demo at 3,000 customers, topped up to about 3,000 open estimates in the
first pipeline; 2 managers and 6 reps) behind `db/pgbouncer.local_pgbouncer` (transaction
mode, pool_size 20). Each session is the real app in its own process (`session_probe.py`):
queries through the pooler, LISTEN on the server itself, live updates on; 3 in 4 on the board,
1 in 4 on the dashboard. The first phase runs 10; 40 more are started for the second. In each
phase a driver (`sessions_load.drive`, the use cases, through the pooler) moves cards and logs
calls at a steady rate (SALESENGINE_BENCH_SESSIONS_MOVES_PER_S, 0.5, and _CALLS_PER_S, 0.25)
for SALESENGINE_BENCH_SESSIONS_SECONDS (75).

    python benchmarks/run.py --only sessions
    SALESENGINE_BENCH_SESSIONS=10,50 SALESENGINE_BENCH_SESSIONS_JSON=/tmp/s.json ...

Prints a table with the phases side by side (and the harness rows); the raw figures go to
SALESENGINE_BENCH_SESSIONS_JSON when set. `--repeat` does not apply: one run per size.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from harness import Cluster, Options, Result, benchmark
from outreach_load import cpu_seconds
from sessions_load import Sample, Sampler, Session, Sessions, drive
from sqlalchemy import Engine, text

SIZES = tuple(int(n) for n in os.environ.get("SALESENGINE_BENCH_SESSIONS", "10,50").split(","))
SECONDS = float(os.environ.get("SALESENGINE_BENCH_SESSIONS_SECONDS", "75"))
# The floor's pace: a busy hour of 50 reps is a move every two minutes each (0.4/s); the
# default is a little above that. The per-session CPU per move says what faster costs.
MOVES_PER_S = float(os.environ.get("SALESENGINE_BENCH_SESSIONS_MOVES_PER_S", "0.5"))
CALLS_PER_S = float(os.environ.get("SALESENGINE_BENCH_SESSIONS_CALLS_PER_S", "0.25"))
JSON_OUT = os.environ.get("SALESENGINE_BENCH_SESSIONS_JSON")
SETTLE = 5.0  # after the last session is ready, before the phase: start-up work dies down
GRACE = 15.0  # after the driver stops, how long the boards get to show its last moves
DRIVER = "demo"  # a manager: may move any card
STAFF = "SELECT login FROM users WHERE role IN ('manager', 'rep') AND active ORDER BY login"

TOP_UP = """
INSERT INTO estimates (customer_id, title, amount, status, stage_id, stage_entered_at,
                       owner_id, expected_close_on)
SELECT c.id, 'Heat pump system ' || c.g, 2000 + (c.g * 7919) % 20000, 'sent',
       st.id, now() - ((c.g * 104729) % 86400) * interval '1 minute',
       (SELECT id FROM users WHERE role IN ('rep', 'manager') AND active
        ORDER BY login OFFSET c.g % 8 LIMIT 1),
       CASE WHEN c.g % 3 <> 0 THEN current_date + ((c.g * 7919) % 180 - 30)::int END
FROM (SELECT id, row_number() OVER (ORDER BY id) AS g FROM customers) c
JOIN (SELECT s.id, row_number() OVER (ORDER BY s.position) - 1 AS k
      FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
      WHERE p.position = 0 AND NOT s.is_won AND NOT s.is_lost) st ON st.k = c.g % 4
WHERE c.g <= 2750
"""


def fill(engine: Engine) -> None:
    from salesengine_tui.base.clock import Clock
    from salesengine_tui.db.demo import seed_demo

    seed_demo(engine, customers=3000, seed=18, clock=Clock())
    with engine.begin() as conn:
        conn.execute(text(TOP_UP))
        conn.execute(text("ANALYZE"))


@contextmanager
def interrupted_by_sigterm() -> Iterator[None]:
    """SIGTERM ends the run as ctrl-C does, so the sessions and PgBouncer are stopped."""

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def delays(
    moves: list[tuple[str, float, float]], boards: list[Session], kind: str
) -> tuple[list[float], int]:
    """Per move, the delay from its commit until the LAST board showed (or heard) it; and how
    many moves some board never did. A card moved twice is matched to the first sighting
    after each move was sent (a board can hear it before the driver's call returns)."""
    worst: list[float] = []
    missing = 0
    for estimate, sent, committed in moves:
        seen = []
        for board in boards:
            times = [t for t in getattr(board, kind).get(estimate, []) if t >= sent]
            if not times:
                break
            seen.append(min(times) - committed)
        else:
            worst.append(max(seen))
            continue
        missing += 1
    return worst, missing


def wait_until_shown(moves: list[tuple[str, float, float]], boards: list[Session]) -> None:
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline:
        if not delays(moves[-5:], boards, "shown")[1]:
            return
        time.sleep(0.1)


def run_phase(sessions: Sessions, sampler: Sampler, desk, started_s: float) -> dict:
    time.sleep(SETTLE)
    baseline = sampler.server_cpu()
    own_backend = sampler.conn.info.backend_pid  # the sampler's work is not the load's
    apps_before = cpu_seconds(sessions.pids)
    sampler.start()
    began = time.monotonic()
    driven = drive(desk, SECONDS, moves_per_s=MOVES_PER_S, calls_per_s=CALLS_PER_S)
    wait_until_shown(driven.moves, sessions.boards)
    wall = time.monotonic() - began
    sample: Sample = sampler.stop()
    server_cpu = sum(
        seconds - baseline.get(pid, 0.0)
        for pid, seconds in sample.cpu.items()
        if pid != own_backend
    )
    apps_after = cpu_seconds(sessions.pids)
    apps_cpu = sum(apps_after[p] - apps_before.get(p, 0.0) for p in apps_after)
    shown, shown_missing = delays(driven.moves, sessions.boards, "shown")
    heard, heard_missing = delays(driven.moves, sessions.boards, "heard")
    rss = [s.rss_mib() for s in sessions.running]
    n, moves = len(sessions.running), max(1, len(driven.moves))
    return {
        "sessions": n,
        "boards": len(sessions.boards),
        "dashboards": n - len(sessions.boards),
        "start_all_ready_s": started_s,
        "phase_s": wall,
        "load_average_1m": os.getloadavg()[0],
        "moves": len(driven.moves),
        "calls": driven.calls,
        "driver_late_max_s": driven.late,
        "driver_failures": driven.failures[:5],
        "connections_peak_total": sample.peak_total,
        "connections_peak_by_kind": dict(sample.peak_by_kind),
        "connections_last": sample.last,
        "pgbouncer_peak": sample.peak_pools,
        "listeners_per_session": sample.peak_by_kind.get("app listeners (direct)", 0) / n,
        "shown_s": shown,
        "shown_missing": shown_missing,
        "heard_s": heard,
        "heard_missing": heard_missing,
        "server_cpu_s": server_cpu,
        "server_cpu_ms_per_move": server_cpu * 1000 / moves,
        "sessions_cpu_s": apps_cpu,
        "sessions_cpu_ms_per_move": apps_cpu * 1000 / moves,
        "rss_mib": rss,
        "session_errors": [e for s in sessions.running for e in s.errors][:5],
    }


def ms(seconds: float) -> str:
    return "n/a" if seconds != seconds else f"{seconds * 1000:,.0f} ms"  # nan: nothing seen


def latency(phase: dict, kind: str) -> str:
    values = phase[f"{kind}_s"]
    if not values:
        return f"none seen ({phase[f'{kind}_missing']} moves missing)"
    missing = phase[f"{kind}_missing"]
    return f"{ms(pct(values, 50))} / {ms(pct(values, 95))} / {ms(max(values))}" + (
        f" ({missing} missing)" if missing else ""
    )


def peak(name: str) -> Callable[[dict], str]:
    return lambda p: str(p["connections_peak_by_kind"].get(name, 0))


def pool(*keys: str) -> Callable[[dict], str]:
    return lambda p: " / ".join(str(p["pgbouncer_peak"].get(k, 0)) for k in keys)


def share(key: str) -> Callable[[dict], str]:
    return lambda p: f"{p[key] / p['phase_s']:.0%}"


ROWS: list[tuple[str, Callable[[dict], str]]] = [
    ("on the board / on the dashboard", lambda p: f"{p['boards']} / {p['dashboards']}"),
    ("moves / calls in the phase",
     lambda p: f"{p['moves']} / {p['calls']} in {p['phase_s']:.0f} s"),
    ("server connections, peak (all)", lambda p: str(p["connections_peak_total"])),
    ("… through PgBouncer, peak", peak("through PgBouncer")),
    ("… apps' listeners (direct), peak", peak("app listeners (direct)")),
    ("… direct per session", lambda p: f"{p['listeners_per_session']:.2f}"),
    ("PgBouncer clients active / waiting, peak", pool("cl_active", "cl_waiting")),
    ("PgBouncer servers active / idle, peak", pool("sv_active", "sv_idle")),
    ("move → shown on every board, p50 / p95 / max", lambda p: latency(p, "shown")),
    ("move → heard by every board, p50 / p95 / max", lambda p: latency(p, "heard")),
    ("server CPU per move (with the calls, dashboards)",
     lambda p: f"{p['server_cpu_ms_per_move']:.1f} ms"),
    ("server CPU, share of one core", share("server_cpu_s")),
    ("sessions' CPU per move (all of them)", lambda p: f"{p['sessions_cpu_ms_per_move']:.0f} ms"),
    ("… per session per move",
     lambda p: f"{p['sessions_cpu_ms_per_move'] / p['sessions']:.1f} ms"),
    ("sessions' CPU, share of one core (all of them)", share("sessions_cpu_s")),
    ("RSS per session, mean / max",
     lambda p: f"{statistics.mean(p['rss_mib']):.0f} / {max(p['rss_mib']):.0f} MiB"),
    ("start until all ready (3 at a time)", lambda p: f"{p['start_all_ready_s']:.0f} s"),
    ("load average (1 min) at the end", lambda p: f"{p['load_average_1m']:.1f}"),
]  # fmt: skip


def table(phases: list[dict]) -> str:
    others = sorted(
        {k for p in phases for k in p["connections_peak_by_kind"] if k.startswith("other")}
    )
    rows = ROWS[:6] + [(f"… {name}", peak(name)) for name in others] + ROWS[6:]
    lines = [
        "| | " + " | ".join(f"{p['sessions']} sessions" for p in phases) + " |",
        "| --- |" + " ---: |" * len(phases),
        *(f"| {label} | " + " | ".join(show(p) for p in phases) + " |" for label, show in rows),
    ]
    return "\n".join(lines)


def results(phases: list[dict]) -> list[Result]:
    out: list[Result] = []
    for p in phases:
        size = f"{p['sessions']} sessions ({p['boards']} boards)"
        if p["shown_s"] or p["heard_s"]:
            kind = "shown" if p["shown_s"] else "heard"
            values = p[f"{kind}_s"]
            note = f"p95 {ms(pct(values, 95))}, max {ms(max(values))}"
            out.append(
                Result(f"sessions: move → {kind} on every board", size, values,
                       note=f"{note}, {p[f'{kind}_missing']} missing")
            )  # fmt: skip
        note = f"peak {p['connections_peak_total']} server connections"
        out.append(
            Result("sessions: server CPU per move", size, [p["server_cpu_ms_per_move"] / 1000],
                   note=f"{note}; RSS max {max(p['rss_mib']):.0f} MiB")
        )  # fmt: skip
    return out


@benchmark(
    "sessions", "50 live app sessions through PgBouncer: connections, delay, CPU, RSS", order=95
)
def sessions(cluster: Cluster, options: Options) -> list[Result]:
    from salesengine_tui.base.clock import Clock
    from salesengine_tui.base.settings import load_settings
    from salesengine_tui.db.engine import make_engine
    from salesengine_tui.db.live import conninfo
    from salesengine_tui.db.pgbouncer import local_pgbouncer
    from salesengine_tui.usecases import AppContext, Desk

    template = cluster.template("head", fill, label="sessions")
    name = cluster.create(template)
    phases: list[dict] = []
    try:
        direct_url = cluster.url(name)
        with (
            interrupted_by_sigterm(),
            tempfile.TemporaryDirectory(prefix="salesengine-sessions-") as folder,
            local_pgbouncer(direct_url, Path(folder) / "pgbouncer", pool_size=20) as bouncer,
        ):
            direct = direct_url.render_as_string(hide_password=False)
            pooled_url = bouncer.url(direct_url)
            pooled = pooled_url.render_as_string(hide_password=False)
            engine = make_engine(pooled_url, application_name="salesengine-bench-driver")
            desk = Desk(AppContext(engine, Clock(), load_settings(live_updates=False), None))
            desk.ctx.actor = desk.users.actor_for(DRIVER)
            with engine.connect() as conn:
                logins = list(conn.scalars(text(STAFF)))
            admin = bouncer.admin()
            sampler = Sampler(conninfo(direct_url), admin, name)
            running = Sessions(pooled, direct, Path(folder))
            try:
                for n in SIZES:
                    print(
                        f"  sessions: starting {n - len(running.running)} more",
                        file=sys.stderr,
                        flush=True,
                    )
                    started = running.start(n - len(running.running), logins)
                    print(
                        f"  sessions: {n} ready in {started:.0f} s; driving",
                        file=sys.stderr,
                        flush=True,
                    )
                    phases.append(run_phase(running, sampler, desk, started))
                    if JSON_OUT:  # after each phase: a run cut short keeps what it measured
                        Path(JSON_OUT).write_text(json.dumps(phases, indent=1, default=str))
            finally:
                running.close()
                sampler.close()
                admin.close()
                engine.dispose()
    finally:
        cluster.drop(name)
    print("\n" + table(phases) + "\n", flush=True)
    return results(phases)
