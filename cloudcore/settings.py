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

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from .errors import SettingsError

__all__ = ["Settings", "SettingsError", "default_cache_root"]

Kind = Literal["number", "integer", "path", "text", "flag", "hosts"]


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
    http_in_flight: int = field(default=24, metadata=_spec(
        "CLOUDCORE_HTTP_IN_FLIGHT", "integer", "dates read at once when their files are COGs over http(s) read by the "
        "native reader (AOIs up to about 4 million pixels a date); within the memory setting",
        1, 1024, "dates"))
    gdal_reads: bool = field(default=False, metadata=_spec(
        "CLOUDCORE_GDAL_READS", "flag", "read every file through GDAL, with the native COG reader off (the read path before it)"))

    # -- places ------------------------------------------------------------------------------
    cache_dir: Path = field(default_factory=default_cache_root, metadata=_spec(
        "CLOUDCORE_CACHE_DIR", "path", "folder of the demo record, of complete per-date results and of folder indexes"))
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
    ui_stac_hosts: tuple[str, ...] = field(default=(), metadata=_spec(
        "CLOUDCORE_UI_STAC_HOSTS", "hosts", "the STAC API hosts a dashboard page address may name, private and loopback "
        "ones included (Planetary Computer is always allowed); when set, no others; unset: any public host, once the "
        "visitor confirms"))

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
            elif spec.kind == "hosts":
                entries = value.split(",") if isinstance(value, str) else value
                lead = f"Settings({item.name}={value!r}) ({spec.variable})"
                object.__setattr__(self, item.name, _host_entries(entries, lead, item.name))

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
    if spec.kind == "hosts":
        return _host_entries(raw.split(","), lead, name)
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


# One DNS label (RFC 1123; '_' too, which some internal names use) and a whole name of them.
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_HOST_PORT = re.compile(r"(?P<host>[^:\[\]]+)(?::(?P<port>[0-9]{1,5}))?")
_BRACKETED = re.compile(r"\[(?P<host>[0-9a-f:.]+)\](?::(?P<port>[0-9]{1,5}))?")
_HOSTS_HOW = ("host names, each optionally with :port, comma-separated and without http:// "
              "(e.g. stac.example.org,10.0.0.5:8080)")


def _host_entries(entries: Any, lead: str, name: str) -> tuple[str, ...]:
    """Host names (or host:port) as lower-case canonical text; blank entries are skipped.

    Canonical, so a URL's host compares as plain text: IPv6 literals in brackets and in their
    short form (`[::1]:8000`), no trailing dot. Anything else is one SettingsError.
    """
    texts = [str(entry).strip().lower() for entry in entries]
    canonical = []
    for text in filter(None, texts):
        host = _host_entry(text)
        if host is None:
            which = f" holds {text!r}, which" if len(texts) > 1 else ""
            raise SettingsError(f"{lead}{which} is no host name: set {_HOSTS_HOW}, or unset it for none.",
                                setting=name)
        canonical.append(host)
    return tuple(dict.fromkeys(canonical))


def _host_entry(text: str) -> str | None:
    """`text` (a host, host:port, an IPv6 literal, [IPv6]:port) in canonical form, or None."""
    if text.count(":") >= 2 and not text.startswith("["):
        text = f"[{text}]"  # a bare IPv6 literal: it cannot carry a port
    form = _BRACKETED.fullmatch(text) or _HOST_PORT.fullmatch(text)
    if form is None:
        return None
    host, port = form["host"].removesuffix("."), form["port"]
    if port is not None and not 1 <= int(port) <= 65_535:
        return None
    if form.re is _BRACKETED:
        try:
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            return None
    elif len(host) > 253 or not _HOST_NAME.fullmatch(host):
        return None
    return f"{host}:{int(port)}" if port is not None else host


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
    if spec.kind == "hosts":
        return "host names or host:port, comma-separated"
    return "text"


def _plain(number: float) -> str:
    """1,000,000 rather than 1e+06; 0.0001 as it is."""
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


def _shown(value: Any, spec: _Spec) -> str:
    if value is None or (spec.kind == "hosts" and not value):
        return "unset"
    if spec.kind == "hosts":
        return ",".join(value)
    if spec.kind == "path":
        return "~/.cache/cloudcore" if value == default_cache_root() else str(value)
    if spec.kind == "flag":
        return "1" if value else "0"
    return _plain(value)
