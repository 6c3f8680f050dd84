"""Start-up as a user sees it: `salesengine` in a real terminal (a pty, 120x40), from the moment
the process is started to its first full paint (the board with a card in every lane it shows,
and the footer), beside the stack's floor (startup_floor.py: a bare Textual app that imports the
same libraries, connects to the same server and draws a screen), in the same run, interleaved,
at 100 and 100,000 open estimates (the board benchmark's data).

The app is run as `python -m salesengine_tui.cli --database-url URL`: an external server, so
start-up checks the schema's revision and migrates nothing. Each command runs once untimed first
(bytecode caches, the server's cache). The screen is read from the bytes the process writes
(terminal.py), as a terminal would draw them.

`SALESENGINE_BENCH_COMPARE=/other/checkout/src` also measures another checkout's app (the code
before a change, from a `git worktree`) in the same run, on a database at its own head.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench_board import LOGIN, fill_for
from harness import Cluster, Options, Result, benchmark
from startup_floor import MARKER
from terminal import PtyRun, Screen, run_in_pty

import salesengine_tui
from salesengine_tui.db.schema_version import migrations

FLOOR = Path(__file__).with_name("startup_floor.py")
SIZES = (100, 100_000)
TERMINAL = (120, 40)
COMPARE = "SALESENGINE_BENCH_COMPARE"
HERE_SRC = Path(salesengine_tui.__file__).resolve().parents[1]
# Imported by the app's start, in this order: the entry point, the desk, the app.
START_PATH = ("salesengine_tui.cli", "salesengine_tui.db.connect", "salesengine_tui.usecases")
APP = "salesengine_tui.app"
FLOOR_IMPORTS = (
    "textual.app",
    "textual.widgets",
    "rich",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql.psycopg",
    "sqlmodel",
    "psycopg",
    "pydantic",
    "pydantic_settings",
    "platformdirs",
)
HEAVY = ("alembic", "httpx", "phonenumbers", "faker", "mako")


def footer_drawn(screen: Screen) -> bool:
    return "palette" in screen.lines()[-1]  # Textual's footer ends with "^p palette"


def floor_painted(screen: Screen) -> bool:
    return footer_drawn(screen) and MARKER in screen.text()


def board_painted(screen: Screen) -> bool:
    """Every lane on screen (its header says "N deals") shows its first card."""
    lines = screen.lines()
    lanes = max(line.count(" deals") for line in lines)
    return (
        footer_drawn(screen)
        and lanes > 0
        and any(line.count("Heat pump") >= lanes for line in lines)
    )


def clean_env(src: Path, folder: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SALESENGINE_", "TEXTUAL"))
        # A user's install has its bytecode: let the untimed first run write it.
        and k not in ("COLUMNS", "LINES", "PYTHONDONTWRITEBYTECODE")
    }
    config = folder / "config.toml"
    config.write_text("")
    env.update(
        TERM="xterm-256color",
        PYTHONPATH=str(src),
        SALESENGINE_CONFIG_FILE=str(config),
        SALESENGINE_DATA_DIR=str(folder / "data"),
    )
    return env


def measured(argv: list[str], env: dict[str, str], ready: Callable[[Screen], bool]) -> PtyRun:
    run = run_in_pty(argv, env, ready, size=TERMINAL, timeout=120)
    if run.painted is None:
        raise RuntimeError(
            f"{' '.join(argv[:3])} never painted; its screen:\n{run.screen}\n{run.output_tail!r}"
        )
    return run


def import_seconds(src: Path, modules: tuple[str, ...], env: dict[str, str]) -> tuple[float, str]:
    """Seconds to import `modules` in a fresh process, and which heavy packages came along."""
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        f"for m in {list(modules)!r}: __import__(m)\n"
        "took = time.perf_counter() - t\n"
        f"print(took, ','.join(h for h in {list(HEAVY)!r} if h in sys.modules) or '-')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    seconds, heavy = out.stdout.split()
    return float(seconds), heavy


@benchmark("startup", "app start → first full paint in a pty, against the stack floor", order=25)
def startup(cluster: Cluster, options: Options) -> list[Result]:
    sources = {"app": HERE_SRC}
    if os.environ.get(COMPARE):
        sources["app before"] = Path(os.environ[COMPARE]).resolve()
    folder = Path(tempfile.mkdtemp(prefix="salesengine-startup-"))
    envs = {label: clean_env(src, folder) for label, src in sources.items()}
    # One database per checkout and size, at that checkout's own head.
    urls: dict[tuple[str, int], str] = {}
    dbs: list[str] = []
    for label, src in sources.items():
        head = migrations(src / "salesengine_tui" / "db" / "migrations" / "versions").head
        for n in SIZES:
            name = cluster.create(cluster.template(head, fill_for(n), label=f"board-{n}-{head}"))
            dbs.append(name)
            urls[label, n] = cluster.url(name).render_as_string(hide_password=False)
    floor_url = next(iter(urls.values()))
    runs: dict[tuple[str, int], list[PtyRun]] = {key: [] for key in [("floor", 0), *urls]}
    try:
        floor_argv = [sys.executable, str(FLOOR), floor_url]
        commands = [(("floor", 0), floor_argv, envs["app"], floor_painted)]
        for (label, n), url in urls.items():
            argv = [sys.executable, "-m", "salesengine_tui.cli", "--database-url", url]
            commands.append(((label, n), [*argv, "--user", LOGIN], envs[label], board_painted))
        for _, argv, env, ready in commands:  # untimed: bytecode, the server's cache
            measured(argv, env, ready)
        for _ in range(options.repeat):  # interleaved, so a busy moment hits every command
            for key, argv, env, ready in commands:
                runs[key].append(measured(argv, env, ready))
    finally:
        for name in dbs:
            cluster.drop(name)

    def medians(key: tuple[str, int]) -> tuple[float, float]:
        return (
            statistics.median(r.painted or 0.0 for r in runs[key]),
            statistics.median(r.cpu or 0.0 for r in runs[key]),
        )

    floor_wall, floor_cpu = medians(("floor", 0))
    results: list[Result] = []
    for (label, n), measured_runs in runs.items():
        wall, cpu = medians((label, n))
        name, size = f"start-up: {label} → first full paint", f"{n:,} open estimates"
        ratios = f"{wall / floor_wall:.2f}x the floor; CPU {cpu:.2f} s, {cpu / floor_cpu:.2f}x"
        if label == "floor":
            name, size = "start-up: stack floor → first paint", "bare Textual app, same libraries"
            ratios = f"CPU {cpu:.2f} s"
        seconds = [r.painted or 0.0 for r in measured_runs]
        results.append(Result(name, size, seconds, note=f"{ratios} (medians)"))
    imports: list[tuple[str, float, str]] = []
    for _ in range(options.repeat):
        imports.append(("floor", *import_seconds(HERE_SRC, FLOOR_IMPORTS, envs["app"])))
        for label, src in sources.items():
            imports.append((label, *import_seconds(src, (*START_PATH, APP), envs[label])))
    for label in ("floor", *sources):
        seconds = [s for who, s, _ in imports if who == label]
        heavy = {h for who, _, h in imports if who == label}
        what = "the floor's libraries" if label == "floor" else f"{label}: start path + app"
        results.append(
            Result(f"start-up: imports, {what}", "fresh process", seconds, note=f"heavy: {heavy}")
        )
    return results
