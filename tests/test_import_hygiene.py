"""Layers point down: Textual only in app.py, screens/ and widgets/; nothing below imports them.

The domain layer and db/ serve the jobs runner and the CLI too, which must start without Textual.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import salesengine_tui

PACKAGE = Path(salesengine_tui.__file__).parent
JOBS = PACKAGE.parents[2] / "jobs" / "salesengine_jobs"
UI_LAYER = ("app", "screens", "widgets")  # relative to the package
# cli.py is the top: it starts the app (a lazy import inside the command that opens it).
MAY_START_THE_APP = {"cli"}
# Alembic scripts run on upgrade, not on import.
NOT_IMPORTABLE = ("salesengine_tui.db.migrations",)


def _is_ui(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "salesengine_tui" and len(parts) > 1 and parts[1] in UI_LAYER


def _lower_modules() -> list[str]:
    names = ["salesengine_tui"]
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="salesengine_tui."):
        if not _is_ui(info.name) and not info.name.startswith(NOT_IMPORTABLE):
            names.append(info.name)
    return sorted(names)


def test_domain_and_db_import_without_textual() -> None:
    modules = _lower_modules()
    assert {"salesengine_tui.pipeline", "salesengine_tui.display", "salesengine_tui.db.models"} <= (
        set(modules)
    )
    if JOBS.is_dir():
        modules.append("salesengine_jobs")
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


def _imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in a file of `package`, relative ones resolved."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if not node.level:
                found.append((node.lineno, node.module or ""))
                continue
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1])
            module = f"{base}.{node.module}" if node.module else base
            found.append((node.lineno, module))
            # `from .. import screens` names a module in the alias
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _source_files() -> list[tuple[Path, str]]:
    """(file, dotted module name) for the package and the jobs runner."""
    files = [
        (path, ".".join(["salesengine_tui", *path.relative_to(PACKAGE).with_suffix("").parts]))
        for path in PACKAGE.rglob("*.py")
    ]
    if JOBS.is_dir():
        files += [
            (path, ".".join(["salesengine_jobs", *path.relative_to(JOBS).with_suffix("").parts]))
            for path in JOBS.rglob("*.py")
        ]
    return files


def test_textual_is_imported_only_by_the_ui_layer() -> None:
    offenders: list[str] = []
    for path, module in _source_files():
        if _is_ui(module):
            continue
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for line, imported in _imports(path, package):
            if imported == "textual" or imported.startswith("textual."):
                offenders.append(f"{path}:{line} imports {imported}")
            elif _is_ui(imported) and module.rpartition(".")[2] not in MAY_START_THE_APP:
                offenders.append(f"{path}:{line} imports the UI layer ({imported})")
    assert offenders == []


def test_the_static_check_sees_relative_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from ..screens import base\nfrom textual.app import App\nimport textual\n")
    found = {name for _, name in _imports(probe, "salesengine_tui.db")}
    assert "salesengine_tui.screens" in found and "salesengine_tui.screens.base" in found
    assert "textual.app" in found and "textual" in found
