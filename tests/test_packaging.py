"""The library installs on its own: core dependencies only, extras for the rest, one command."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import cloudcore

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
DASHBOARD = {"streamlit", "streamlit-folium", "folium", "leafmap", "plotly", "django-leaflet"}


def names(requirements: list[str]) -> set[str]:
    return {Requirement(r).name.lower() for r in requirements}


def pinned(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line of a requirements file (its -r includes too)."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found |= pinned(path.parent / line[3:].strip())
        elif "==" in line:
            requirement = Requirement(line)
            found[requirement.name.lower()] = next(iter(requirement.specifier)).version
    return found


def test_the_core_installs_no_dashboard_model_or_cluster():
    core = names(PROJECT["dependencies"])
    assert core >= {"numpy", "rasterio", "pandas", "xarray", "rioxarray", "pystac", "pystac-client", "shapely"}
    assert not core & (DASHBOARD | {"ukis-csmask", "onnxruntime", "dask", "distributed"})


def test_the_extras_hold_the_dashboard_the_model_the_cluster_and_the_tools():
    extras = PROJECT["optional-dependencies"]
    assert names(extras["app"]) == DASHBOARD
    assert names(extras["ml"]) == {"ukis-csmask", "onnxruntime"}
    assert names(extras["dask"]) == {"dask", "distributed"}
    assert {"pytest", "import-linter", "mypy", "ruff"} <= names(extras["dev"])


def test_every_dependency_has_a_range_and_the_pinned_set_lies_in_it():
    """requirements*.txt pin what make installs; pyproject's ranges must admit exactly those pins."""
    pins = pinned(REPO / "requirements-dev.txt")
    every = PROJECT["dependencies"] + [r for group in PROJECT["optional-dependencies"].values() for r in group]
    for text in every:
        requirement = Requirement(text)
        if requirement.name == "cloudcore":
            continue
        assert str(requirement.specifier), f"{text} has no version range"
        assert any(s.operator in ("<", "<=", "~=", "==") for s in requirement.specifier), f"{text} has no upper bound"
        pin = pins.get(requirement.name.lower())
        assert pin is not None, f"{requirement.name} is not pinned in requirements*.txt"
        assert requirement.specifier.contains(pin, prereleases=True), f"{requirement.name}=={pin} is outside {text}"


def test_the_console_script_is_python_m_cloudcore():
    assert PROJECT["scripts"]["cloudcore"] == "cloudcore.cli:main"
    script = Path(sys.executable).with_name("cloudcore")
    if not script.exists():
        script = Path(shutil.which("cloudcore") or "")
    if not script.is_file():
        pytest.skip("cloudcore is not installed here (make test installs it): the console script cannot be run")
    for args in (["--help"], ["fill", "--help"], ["cover", "--start", "nope"]):
        by_script = subprocess.run([str(script), *args], capture_output=True, text=True, timeout=60, cwd=REPO)
        by_module = subprocess.run([sys.executable, "-m", "cloudcore", *args], capture_output=True, text=True,
                                   timeout=60, cwd=REPO)
        assert (by_script.returncode, by_script.stdout, by_script.stderr) == (
            by_module.returncode, by_module.stdout, by_module.stderr)


def test_the_version_comes_from_the_package_metadata():
    assert re.fullmatch(r"\d+\.\d+\.\d+", PROJECT["version"])
    try:
        installed = version("cloudcore")
    except PackageNotFoundError:
        installed = None
    assert cloudcore.__version__ == (installed or PROJECT["version"])
