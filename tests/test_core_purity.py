"""The sortition core is pure: no service layer, no web or CLI libraries, no output of its own."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import sortition

CORE = Path(sortition.__file__).resolve().parent
FORBIDDEN = ("fastapi", "sqlmodel", "typer", "rich", "service", "starlette", "uvicorn")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_sortition_imports_no_outer_layer() -> None:
    code = "import json, sys\nimport sortition\nprint(json.dumps(sorted(sys.modules)))\n"
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout)
    assert "sortition" in modules
    loaded = sorted(m for m in modules if m.split(".")[0] in FORBIDDEN)
    assert loaded == [], f"importing sortition loads {loaded}"


def test_sortition_source_does_not_import_the_outer_layer() -> None:
    """Also catches imports inside functions, which the sys.modules check cannot see."""
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in (*FORBIDDEN, "budgeting", "voting"):
                    offenders.append(f"{path.name}:{node.lineno} imports {name}")
    assert offenders == []


def test_sortition_source_has_no_print_calls() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == [], f"print() calls in sortition: {offenders}"


@pytest.mark.parametrize("algorithm", ["leximin", "maximin", "nash", "legacy"])
def test_finding_and_drawing_writes_nothing(algorithm: str) -> None:
    """A whole run, including the solvers, writes nothing to stdout or stderr."""
    code = f"""
import logging
from sortition import Person, Pool, Quotas, draw, find_distribution
people = [Person(str(i), {{"g": "a" if i < 6 else "b"}}, "h" if i in (0, 7) else None)
          for i in range(10)]
quotas = Quotas.from_rows([("g", "a", 2, 2), ("g", "b", 2, 2)])
d = find_distribution(Pool(tuple(people)), quotas, 4, algorithm={algorithm!r}, legacy_samples=5)
draw(d, "2026")
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", f"the core wrote to stdout: {result.stdout!r}"
    assert result.stderr == "", f"the core wrote to stderr: {result.stderr!r}"
