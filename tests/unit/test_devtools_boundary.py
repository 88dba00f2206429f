"""Production packages never import the development tools (devtools/) when they are imported.

The emulators, the simulator, the demo seed and the testkit are for people building and testing
Boutik. Production code reaches them only from inside the functions that serve `boutik serve
--simulator` and `boutik seed demo`; those few imports are listed here, so a new one is a
decision, not an accident.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("commerce", "settings", "bot", "channels_adapters", "workers", "boutik")

# (file, enclosing function, module imported): the only doors from production into devtools.
ALLOWED_LAZY_IMPORTS = {
    ("boutik/cli.py", "seed_demo_cmd", "devtools.seed.seeder"),
    ("boutik/cli.py", "serve", "devtools.simulator"),
    ("boutik/cli.py", "_serve_simulator", "devtools.simulator.serving"),
    ("boutik/app.py", "build_app", "devtools"),
}


def _is_devtools(module: str) -> bool:
    return module == "devtools" or module.startswith("devtools.")


def _imported(node: ast.AST) -> list[str]:
    """The modules an import statement, `__import__("…")` or `import_module("…")` names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [node.module] if node.level == 0 and node.module else []
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
            return [node.args[0].value]
    return []


def _devtools_imports(path: Path) -> list[tuple[str | None, str, int]]:
    """(innermost enclosing function or None at module level, module, line) for each import."""
    found: list[tuple[str | None, str, int]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            for module in _imported(child):
                if _is_devtools(module):
                    found.append((function, module, child.lineno))  # type: ignore[attr-defined]
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), None)
    return found


def _production_files() -> list[Path]:
    files = [p for package in PRODUCTION for p in sorted((ROOT / package).rglob("*.py"))]
    assert len(files) > 50, "the production packages were not found"
    return files


def test_no_production_module_imports_devtools_at_import_time() -> None:
    at_import_time = []
    lazy = set()
    for path in _production_files():
        relative = path.relative_to(ROOT).as_posix()
        for function, module, line in _devtools_imports(path):
            if function is None:
                at_import_time.append(f"{relative}:{line} imports {module}")
            else:
                lazy.add((relative, function, module))
    assert at_import_time == [], "production imports devtools at import time"
    assert lazy - ALLOWED_LAZY_IMPORTS == set(), "a new import of devtools: list it if meant"


def test_the_listed_doors_still_exist() -> None:
    """An allowed import that went away is removed from the list, so the list stays true."""
    lazy = {
        (path.relative_to(ROOT).as_posix(), function, module)
        for path in _production_files()
        for function, module, _ in _devtools_imports(path)
        if function is not None
    }
    assert ALLOWED_LAZY_IMPORTS - lazy == set()


def test_the_checker_sees_imports_at_every_depth(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text(
        "import devtools.emulators\n"
        "if True:\n"
        "    from devtools.seed import seeder\n"
        "import devtoolsy\n"
        "def f():\n"
        "    from devtools import simulator\n"
        "    class C:\n"
        "        def g(self):\n"
        "            importlib.import_module('devtools.testkit')\n"
    )
    assert _devtools_imports(source) == [
        (None, "devtools.emulators", 1),
        (None, "devtools.seed", 3),
        ("f", "devtools", 6),
        ("g", "devtools.testkit", 9),
    ]


def test_importing_the_production_entry_points_loads_no_devtools(tmp_path: Path) -> None:
    """The WSGI app (created, simulator off), the worker runner and the CLI, in a clean process."""
    env = {k: v for k, v in os.environ.items() if k not in ("BOUTIK_CONFIG", "REDIS_URL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'boundary.db'}"
    code = (
        "import boutik.wsgi, workers.runner, boutik.cli; import sys; "
        "loaded = sorted(m for m in sys.modules if m.startswith('devtools')); "
        "assert not loaded, loaded"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
