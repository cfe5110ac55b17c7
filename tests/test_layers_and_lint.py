"""Layers that show and are enforced; types and lint clean: CI fails when either breaks.

The tools run on the checkout as they are configured in pyproject.toml (import-linter's
contracts, mypy's and ruff's settings), so what a developer runs by hand is what is checked.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DASHBOARD_FILES = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py")), *sorted((REPO / "ui").glob("*.py"))]


def tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed in this environment (pip install -r requirements-dev.txt)")
    return str(found)


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_import_linter_contracts_are_kept():
    done = run(tool("lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "broken" not in done.stdout.lower().replace("0 broken", "")


def test_mypy_is_clean_on_cloudcore():
    done = run(sys.executable, "-m", "mypy")  # files and options from pyproject.toml
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_ruff_is_clean_on_cloudcore():
    done = run(tool("ruff"), "check", "cloudcore", "--no-cache")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def cloudcore_imports(path: Path) -> list[tuple[int, str]]:
    """(line, what) of every import of cloudcore in a file, as written."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if a.name.split(".")[0] == "cloudcore"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cloudcore":
            found.append((node.lineno, f"from {node.module} import ..."))
    return found


def test_the_dashboard_imports_only_top_level_cloudcore_names():
    deep = []
    for path in DASHBOARD_FILES:
        for line, what in cloudcore_imports(path):
            if what not in ("import cloudcore", "from cloudcore import ..."):
                deep.append(f"{path.relative_to(REPO)}:{line}: {what}")
    assert deep == []
    # And it does use the front door (the check above cannot pass on a dashboard without cloudcore).
    assert any(cloudcore_imports(path) for path in DASHBOARD_FILES)


def test_the_engine_names_no_cli_flag_in_its_messages():
    """A message of the library speaks of arguments and settings; the CLI adds its flags."""
    flags = ("--source", "--window-days", "--aoi", "--start", "--end", "--date", "--method", "--mask", "--flags",
             "--buffer-m", "--max-scene-cloud", "--overview", "--scheduler", "--out", "--no-cache")
    offenders = []
    for path in sorted((REPO / "cloudcore").rglob("*.py")):
        if path.name == "cli.py" or "evaluation" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                hits = [flag for flag in flags if flag in node.value]
                if hits:
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno} {hits}")
    assert offenders == []


def test_importing_cloudcore_loads_no_heavy_or_dashboard_library():
    code = (
        "import sys, cloudcore; "
        "print(','.join(m for m in ('numpy', 'rasterio', 'pandas', 'xarray', 'streamlit', 'folium', 'leafmap', "
        "'plotly', 'onnxruntime', 'scipy', 'dask') if m in sys.modules))"
    )
    done = run(sys.executable, "-c", code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_the_front_door_loads_no_dashboard_library():
    code = (
        "import sys, cloudcore; cloudcore.cover; cloudcore.fill; cloudcore.search; "
        "print(','.join(m for m in ('streamlit', 'folium', 'leafmap', 'plotly', 'onnxruntime', 'ui') if m in sys.modules))"
    )
    done = run(sys.executable, "-c", code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
