"""Run the benchmarks on a private, throwaway PostgreSQL and print a markdown table.

    python benchmarks/run.py            # everything at the everyday sizes
    python benchmarks/run.py --big      # plus 1,000,000 customers
    python benchmarks/run.py --only seed --repeat 5
    python benchmarks/run.py --only outreach     # webhooks through `salesengine-jobs serve`
    python benchmarks/run.py --only rls          # row-level security: owner vs the person's role
    python benchmarks/run.py --list

Benchmarks live in `bench_*.py` beside this file and register with `@harness.benchmark`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def discover() -> None:
    for path in sorted(HERE.glob("bench_*.py")):
        importlib.import_module(path.stem)


def main(argv: list[str] | None = None) -> int:
    discover()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="include 1,000,000 customers")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (3)")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(harness.REGISTRY), help="run only these benchmarks"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--save", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    if args.list:
        for item in harness.registered():
            print(f"{item.name:12} {item.description}")
        return 0
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    options = harness.Options(big=args.big, repeat=args.repeat)
    names = args.only or [item.name for item in harness.registered()]
    results: list[harness.Result] = []
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="salesengine-bench-") as folder,
        harness.start_cluster(Path(folder)) as cluster,
    ):
        version = cluster.server_version()
        for name in names:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            results.extend(harness.REGISTRY[name].fn(cluster, options))
    header = (
        f"SalesEngine benchmarks, {datetime.now():%Y-%m-%d %H:%M}: "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"PostgreSQL {version} (embedded); total {time.perf_counter() - started:.0f} s\n"
    )
    table = header + "\n" + harness.markdown(results) + "\n"
    print(table)
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
