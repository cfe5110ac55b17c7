"""Every CLOUDCORE_* setting in one frozen object, parsed and checked once.

The command line reads the environment when it starts, the dashboard when it starts, and a
library call that is given no `settings=` reads it at that call; from there the object is
passed down as an argument. No other module reads a CLOUDCORE_* variable, so a bad value is
one message naming the variable and its allowed range, at the start, never a `ValueError`
per date deep in a read.

Secrets are not settings: the Planetary Computer key stays in the environment
(PC_SDK_SUBSCRIPTION_KEY), where the SDK reads it, and never enters this object.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from .errors import SettingsError

__all__ = ["Settings", "SettingsError", "default_cache_root"]

Kind = Literal["number", "integer", "path", "text", "flag"]


@dataclass(frozen=True)
class _Spec:
    """How one field is read from the environment and what it may hold."""

    variable: str
    kind: Kind
    doc: str
    low: float = 0.0
    high: float = math.inf
    unit: str = ""


def _spec(variable: str, kind: Kind, doc: str, low: float = 0.0, high: float = math.inf, unit: str = "") -> dict:
    return {"spec": _Spec(variable, kind, doc, low, high, unit)}


def default_cache_root() -> Path:
    """~/.cache/cloudcore: where the demo record and the per-date results are kept."""
    return Path.home() / ".cache" / "cloudcore"


@dataclass(frozen=True)
class Settings:
    """Limits, deadlines, concurrency and places, each with its CLOUDCORE_* variable.

    Build it with `Settings.from_env()` (what the CLI, the dashboard and a call given none do),
    or directly, e.g. `Settings(http_timeout_s=30)`; `replace(...)` changes a few fields.
    Every value is checked when the object is made.
    """

    # -- request limits: a request over one is refused before anything is read ------------
    max_aoi_km2: float = field(default=100_000.0, metadata=_spec(
        "CLOUDCORE_MAX_AOI_KM2", "number", "largest AOI area; the default admits the bounding box of any "
        "whole WRS-2 scene at any latitude (at most about 86,000 km²)", 1e-4, 510_072_000.0, "km²"))
    max_aoi_vertices: int = field(default=10_000, metadata=_spec(
        "CLOUDCORE_MAX_AOI_VERTICES", "integer", "most AOI vertices, ring closures included", 4, 100_000_000, "vertices"))
    max_geojson_mb: float = field(default=5.0, metadata=_spec(
        "CLOUDCORE_MAX_GEOJSON_MB", "number", "largest GeoJSON text, file or upload", 1e-6, 10_000.0, "MB"))
    max_date_span_years: float = field(default=100.0, metadata=_spec(
        "CLOUDCORE_MAX_DATE_SPAN_YEARS", "number", "longest date span of a search, counted from Landsat 4's launch",
        1e-3, 10_000.0, "years"))
    max_scenes: int = field(default=5_000, metadata=_spec(
        "CLOUDCORE_MAX_SCENES", "integer", "most scenes one search may return", 1, 10_000_000, "scenes"))

    # -- deadlines -------------------------------------------------------------------------
    http_timeout_s: float = field(default=10.0, metadata=_spec(
        "CLOUDCORE_HTTP_TIMEOUT_S", "number", "deadline of one HTTP request (search pages and tile reads)",
        0.1, 3600.0, "seconds"))
    connect_timeout_s: float = field(default=1.5, metadata=_spec(
        "CLOUDCORE_CONNECT_TIMEOUT_S", "number", "deadline to open a connection to a STAC API", 0.1, 600.0, "seconds"))
    search_deadline_s: float = field(default=60.0, metadata=_spec(
        "CLOUDCORE_SEARCH_DEADLINE_S", "number", "deadline of a whole search, every page included", 0.1, 86_400.0,
        "seconds"))
    sign_timeout_s: float = field(default=10.0, metadata=_spec(
        "CLOUDCORE_SIGN_TIMEOUT_S", "number", "deadline to get a Planetary Computer token", 0.1, 3600.0, "seconds"))

    # -- concurrency and memory ------------------------------------------------------------
    workers: int = field(default=16, metadata=_spec(
        "CLOUDCORE_WORKERS", "integer", "dates read at once (each waits on round trips most of the time)",
        1, 1024, "threads"))
    memory_mb: int = field(default=1024, metadata=_spec(
        "CLOUDCORE_MEMORY_MB", "integer", "memory the dates measured at once may take; a huge AOI measures fewer at once",
        1, 10_000_000, "MB"))

    # -- places ------------------------------------------------------------------------------
    cache_dir: Path = field(default_factory=default_cache_root, metadata=_spec(
        "CLOUDCORE_CACHE_DIR", "path", "folder of the demo record and of complete per-date results"))
    dask_scheduler: str | None = field(default=None, metadata=_spec(
        "CLOUDCORE_DASK_SCHEDULER", "text", "a Dask scheduler address (tcp://HOST:8786) that measures the dates; "
        "unset: this machine"))
    real_data: Path | None = field(default=None, metadata=_spec(
        "CLOUDCORE_REAL_DATA", "path", "the real reference data folder the quality reports read"))

    # -- the dashboard (its operator's) --------------------------------------------------------
    folder_root: Path | None = field(default=None, metadata=_spec(
        "CLOUDCORE_FOLDER_ROOT", "path", "the one server folder the dashboard may read scenes from; unset: none"))
    ui_cache_mb: float = field(default=512.0, metadata=_spec(
        "CLOUDCORE_UI_CACHE_MB", "number", "memory all of the dashboard's server-side caches together may hold",
        1.0, 10_000_000.0, "MB"))
    ui_max_aoi_km2: float = field(default=50_000.0, metadata=_spec(
        "CLOUDCORE_UI_MAX_AOI_KM2", "number", "largest AOI the dashboard accepts (a shared server may want less "
        "than the library's limit)", 1e-4, 510_072_000.0, "km²"))

    # -- the command line ------------------------------------------------------------------------
    debug: bool = field(default=False, metadata=_spec(
        "CLOUDCORE_DEBUG", "flag", "show the traceback of an unexpected error instead of one line"))

    def __post_init__(self) -> None:
        for item in fields(self):
            spec: _Spec = item.metadata["spec"]
            value = getattr(self, item.name)
            if spec.kind in ("number", "integer"):
                _check_range(spec, value, f"Settings({item.name}={value!r}) ({spec.variable})", item.name)
            elif spec.kind == "path" and value is not None and not isinstance(value, Path):
                object.__setattr__(self, item.name, Path(value))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives (unset or blank variables keep their defaults).

        Raises:
            SettingsError: a variable holds something outside its allowed range or type; the
                message names the variable, what it held and what it may hold.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for item in fields(cls):
            spec: _Spec = item.metadata["spec"]
            raw = environ.get(spec.variable, "").strip()
            if raw:
                values[item.name] = _parse(spec, raw, item.name)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (checked like any other)."""
        return replace(self, **changes)

    @classmethod
    def variables(cls) -> list[tuple[str, str, str, str]]:
        """(variable, default, allowed, what it does) for every setting: the README's table."""
        rows = []
        defaults = cls()
        for item in fields(cls):
            spec: _Spec = item.metadata["spec"]
            rows.append((spec.variable, _shown(getattr(defaults, item.name), spec), _allowed(spec), spec.doc))
        return rows


def settings_markdown() -> str:
    """The README's table of settings."""
    rows = ["| variable | default | allowed | what it does |", "|---|---|---|---|"]
    rows += [f"| `{variable}` | {default} | {allowed} | {doc} |" for variable, default, allowed, doc in Settings.variables()]
    return "\n".join(rows)


def _parse(spec: _Spec, raw: str, name: str) -> Any:
    if spec.kind == "path":
        return Path(raw).expanduser()
    if spec.kind == "text":
        return raw
    lead = f"{spec.variable}={raw!r}"
    if spec.kind == "flag":
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{lead} is not a yes/no value: set it to 1 or 0, or unset it.", setting=name)
    try:
        value: float = float(raw)
    except ValueError:
        value = math.nan
    if spec.kind == "integer" and math.isfinite(value):
        if not value.is_integer():
            raise SettingsError(f"{lead} is not a whole number: set {_allowed(spec)}, or unset it for the default.",
                                setting=name)
        return _check_range(spec, int(value), lead, name)
    return _check_range(spec, value, lead, name)


def _check_range(spec: _Spec, value: Any, lead: str, name: str) -> Any:
    """`value` when it is a finite number within the spec's range, else SettingsError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problem = f"is not a number of {spec.unit}"
    elif not spec.low <= value <= spec.high:
        problem = "is outside the allowed range"
    else:
        return value
    raise SettingsError(f"{lead} {problem}: set {_allowed(spec)}, or unset it for the default.", setting=name)


def _allowed(spec: _Spec) -> str:
    if spec.kind in ("number", "integer"):
        whole = "a whole number" if spec.kind == "integer" else "a number"
        return f"{whole} from {_plain(spec.low)} to {_plain(spec.high)} {spec.unit}".rstrip()
    if spec.kind == "flag":
        return "1 or 0"
    if spec.kind == "path":
        return "a folder path"
    return "text"


def _plain(number: float) -> str:
    """1,000,000 rather than 1e+06; 0.0001 as it is."""
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


def _shown(value: Any, spec: _Spec) -> str:
    if value is None:
        return "unset"
    if spec.kind == "path":
        return "~/.cache/cloudcore" if value == default_cache_root() else str(value)
    if spec.kind == "flag":
        return "1" if value else "0"
    return _plain(value)
