"""The layers point down, checked on every import of every module (relative ones resolved):

    front ends   app.py, screens/, widgets/ (Textual) · cli/ · the jobs runner
        ↓
    usecases/    one Desk: every action's transaction
        ↓
    domain       access/ customers/ activity/ deals/ marketing/ email/ automation/
        ↓
    db/          engine, models, migrations, LISTEN
        ↓
    base/        errors, clock, settings, validation

`ui/` holds Rich-only helpers the front ends share. Textual is imported only by the TUI; the
domain and below serve the jobs runner and the CLI too, which must start without it.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import salesengine_tui

PACKAGE = Path(salesengine_tui.__file__).parent
JOBS = PACKAGE.parents[2] / "jobs" / "salesengine_jobs"
TUI = ("app", "screens", "widgets")
FRONT_ENDS = (*TUI, "cli")
DOMAIN = (
    "access",
    "customers",
    "activity",
    "deals",
    "marketing",
    "email",
    "automation",
    "tasks",
    "search",
)
# What each layer may import of ours (by top-level part of salesengine_tui), besides itself.
MAY_IMPORT: dict[str, set[str]] = {
    "base": set(),
    "db": {"base"},
    **{part: {"base", "db", *DOMAIN} for part in DOMAIN},
    "usecases": {"base", "db", *DOMAIN},
    "ui": {"base", "db", *DOMAIN},
}
# The top of the CLI starts the app (a lazy import inside the command that opens it).
# `salesengine keys` lists the app's bindings: it imports the screens inside the command.
MAY_START_THE_APP = {"salesengine_tui.cli.app_commands", "salesengine_tui.cli.keys"}
# Alembic scripts run on upgrade, not on import.
NOT_IMPORTABLE = ("salesengine_tui.db.migrations",)
# A front end reaches the database only through the use cases: no sessions of its own.
SESSION_MAKERS = {
    "salesengine_tui.db.engine.session_scope",
    "sqlmodel.Session",
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.sessionmaker",
}


def _part(module: str) -> str | None:
    """The top-level part of our package a module belongs to (`app` for app.py)."""
    parts = module.split(".")
    if parts[0] == "salesengine_jobs":
        return "jobs"
    if parts[0] != "salesengine_tui" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module or module.name) for every import in a file of `package`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from .. import screens` names a module in the alias
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _source_files() -> list[tuple[Path, str, str]]:
    """(file, dotted module name, its package) for our package and the jobs runner."""
    files = []
    for root, top in ((PACKAGE, "salesengine_tui"), (JOBS, "salesengine_jobs")):
        for path in root.rglob("*.py"):
            module = ".".join([top, *path.relative_to(root).with_suffix("").parts])
            if module.startswith(NOT_IMPORTABLE):
                continue
            if path.name == "__init__.py":
                module = module.removesuffix(".__init__")
                files.append((path, module, module))
            else:
                files.append((path, module, module.rpartition(".")[0]))
    return files


def _all_imports() -> list[tuple[str, str, str]]:
    """(where, importing module, imported) for every import of ours."""
    return [
        (f"{path.relative_to(PACKAGE.parents[1])}:{line}", module, imported)
        for path, module, package in _source_files()
        for line, imported in _imports(path, package)
    ]


def test_every_module_imports_without_textual_below_the_tui() -> None:
    modules = ["salesengine_tui"] + [
        info.name
        for info in pkgutil.walk_packages([str(PACKAGE)], prefix="salesengine_tui.")
        if _part(info.name) not in TUI
        and not info.name.startswith(NOT_IMPORTABLE)
        and not info.name.endswith(".__main__")  # runs the command
    ]
    assert {
        "salesengine_tui.usecases",
        "salesengine_tui.ui.display",
        "salesengine_tui.db.models",
    } <= set(modules)
    if JOBS.is_dir():
        modules.append("salesengine_jobs.cli")
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m == 'textual' or m.startswith('textual.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_layers_point_down() -> None:
    offenders = []
    for where, module, imported in _all_imports():
        part = _part(module)
        target = _part(imported)
        third_party = imported.split(".")[0]
        if part in TUI:
            continue
        if third_party == "textual":
            offenders.append(f"{where}: {module} imports Textual ({imported})")
        if third_party == "rich" and part in MAY_IMPORT and part != "ui":
            offenders.append(f"{where}: {module} imports Rich ({imported}); only front ends do")
        if target is None or target == part:
            continue
        if part in MAY_IMPORT and target not in MAY_IMPORT[part]:
            offenders.append(f"{where}: {module} ({part}) imports {imported} ({target})")
        elif target in TUI and module not in MAY_START_THE_APP:
            offenders.append(f"{where}: {module} imports the TUI ({imported})")
    assert offenders == []


def test_front_ends_never_open_sessions() -> None:
    offenders = [
        f"{where}: {module} imports {imported}"
        for where, module, imported in _all_imports()
        if (_part(module) in FRONT_ENDS or _part(module) == "jobs") and imported in SESSION_MAKERS
    ]
    assert offenders == []


def _domain_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for _, module, imported in _all_imports():
        part, target = _part(module), _part(imported)
        if part in DOMAIN and target in DOMAIN and target != part:
            graph[part].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle in the graph, as the path that closes it, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path, node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, node])):
                return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node, [])):
            return found
    return None


def test_domain_packages_do_not_import_each_other_in_a_cycle() -> None:
    assert _cycle(_domain_graph()) is None, " -> ".join(_cycle(_domain_graph()) or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_the_static_check_sees_relative_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from ..screens import base\nfrom textual.app import App\nimport textual\n")
    found = {name for _, name in _imports(probe, "salesengine_tui.db")}
    assert "salesengine_tui.screens" in found and "salesengine_tui.screens.base" in found
    assert "textual.app" in found and "textual" in found
