"""What the folder source read from each file, kept on disk so a later search opens none.

A search of a folder needs each scene's QA_PIXEL header (CRS and bounds, for the footprint)
and its MTL facts. Reading them costs a file open each, and in a CRS with no EPSG code
rasterio's `to_epsg()` alone costs about 65 ms a scene. This index keeps those facts as JSON,
one file per folder under the cache folder (`<cache_dir>/folder-index-v<N>/<hash>.json`), each
record valid while its file keeps the size and modification time (ns) it had when it was read;
a changed, added or removed file is read again (or dropped), nothing else is.

Only facts read successfully are kept (an unreadable file is tried again next time). A missing,
corrupt or foreign index is ignored and rebuilt; a read-only cache folder costs speed, not results.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..geo.footprint import POINTS_PER_EDGE
from .mtl import MtlFacts

# Bump when what a record holds, or how it is read (footprints, MTL rules), changes.
INDEX_VERSION = 1

Stamp = tuple[int, int]
"""(size in bytes, modification time in ns) of a file: a record is valid while they hold."""


@dataclass(frozen=True)
class QaFacts:
    """Where a scene lies, as its QA_PIXEL header says."""

    crs_wkt: str | None
    """The raster CRS as WKT (rasterio's `to_wkt()`); None when the file has no CRS."""
    bounds: tuple[float, float, float, float]
    """(left, bottom, right, top) in that CRS."""
    epsg: int | None
    """rasterio's `to_epsg()` of that CRS (worked out once per distinct WKT); None when no code matches."""
    geometry_lonlat: dict[str, Any] | None
    """GeoJSON footprint as shapely's `mapping()` gives it (tuples); None when it does not reproject."""
    bbox_lonlat: tuple[float, float, float, float] | None


def index_dir(cache_root: str | os.PathLike) -> Path:
    """`<cache_root>/folder-index-v<N>` (the root is the `cache_dir` setting)."""
    return Path(cache_root).expanduser() / f"folder-index-v{INDEX_VERSION}"


def file_stamp(path: str | os.PathLike) -> Stamp | None:
    """The file's (size, mtime_ns), links followed; None when it cannot be stat'ed."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns)


class FolderIndex:
    """The QA_PIXEL and MTL facts of one folder's files, keyed by path and checked by stamp."""

    def __init__(self, path: Path | None, folder: str) -> None:
        """
        Args:
            path: The index file; None keeps the index in memory only.
            folder: The folder's absolute path; an index file written for another folder is ignored.
        """
        self.path = path
        self.folder = folder
        self._qa: dict[str, tuple[Stamp, QaFacts]] = {}
        self._mtl: dict[str, tuple[Stamp, MtlFacts]] = {}
        self._dirty = False

    @classmethod
    def load(cls, cache_root: str | os.PathLike | None, folder: str) -> FolderIndex:
        """The index of `folder` stored under `cache_root` (empty when absent, corrupt or stale)."""
        path = None
        if cache_root is not None:
            path = index_dir(cache_root) / f"{hashlib.sha256(os.fsencode(folder)).hexdigest()[:32]}.json"
        index = cls(path, folder)
        if path is not None:
            index._read()
        return index

    def __repr__(self) -> str:
        return f"FolderIndex({self.folder!r}, {len(self._qa)} QA, {len(self._mtl)} MTL)"

    @property
    def known_qa(self) -> list[QaFacts]:
        """Every QA record held (valid or not): what a reader may reuse per distinct CRS and grid."""
        return [facts for _, facts in self._qa.values()]

    def qa(self, path: str, stamp: Stamp | None) -> QaFacts | None:
        """The QA facts of `path` when read at this stamp, else None."""
        held = self._qa.get(path)
        return held[1] if held is not None and stamp is not None and held[0] == stamp else None

    def mtl(self, path: str, stamp: Stamp | None) -> MtlFacts | None:
        """The MTL facts of `path` when read at this stamp, else None."""
        held = self._mtl.get(path)
        return held[1] if held is not None and stamp is not None and held[0] == stamp else None

    def put_qa(self, path: str, stamp: Stamp | None, facts: QaFacts) -> None:
        if stamp is not None:
            self._qa[path] = (stamp, facts)
            self._dirty = True

    def put_mtl(self, path: str, stamp: Stamp | None, facts: MtlFacts) -> None:
        if stamp is not None:
            self._mtl[path] = (stamp, facts)
            self._dirty = True

    def save(self, keep: set[str]) -> None:
        """Drop the records of files not in `keep` (gone from the folder), then write if anything changed."""
        for records in (self._qa, self._mtl):
            for gone in set(records) - keep:
                del records[gone]
                self._dirty = True
        if not self._dirty or self.path is None:
            return
        # Scenes on one grid (a time series of one tile) share one CRS and footprint: stored once.
        grids: dict[tuple[str | None, tuple[float, float, float, float]], int] = {}
        for _, facts in self._qa.values():
            grids.setdefault((facts.crs_wkt, facts.bounds), len(grids))
        facts_of = {(f.crs_wkt, f.bounds): f for _, f in self._qa.values()}
        document = {
            "header": _header(),
            "folder": self.folder,
            "grids": [_qa_to_json(facts_of[key]) for key in grids],
            "qa": {path: [*stamp, grids[f.crs_wkt, f.bounds]] for path, (stamp, f) in self._qa.items()},
            "mtl": {path: [*stamp, _mtl_to_json(facts)] for path, (stamp, facts) in self._mtl.items()},
        }
        # In one shot: json.dump streams through the pure-Python encoder, about 3x slower.
        text = json.dumps(document, separators=(",", ":"))
        tmp_name = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Written whole to a temporary file, then renamed: a reader never sees half an index.
            with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, suffix=".tmp") as tmp:
                tmp_name = tmp.name
                tmp.write(text)
            os.replace(tmp_name, self.path)
            self._dirty = False
        except OSError:
            # A read-only or full cache folder costs speed next time, not this result.
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)

    def _read(self) -> None:
        assert self.path is not None
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # absent or corrupt: rebuilt by this scan
        if not isinstance(document, dict) or document.get("header") != _header():
            return  # written by another version of cloudcore, or not an index at all
        if document.get("folder") != self.folder:
            return  # a hash clash: another folder's index
        grids: list[QaFacts | None] = []
        records = document.get("grids")
        for record in records if isinstance(records, list) else []:
            try:
                grids.append(_qa_from_json(record))
            except (LookupError, TypeError, ValueError, AttributeError):
                grids.append(None)  # a damaged record is a miss for the files on it
        for path, entry in _entries(document.get("qa")):
            try:
                size, mtime_ns, grid = entry
                facts = grids[grid] if isinstance(grid, int) and grid >= 0 else None
                if facts is not None:
                    self._qa[path] = (_stamp(size, mtime_ns), facts)
            except (LookupError, TypeError, ValueError):
                continue
        for path, entry in _entries(document.get("mtl")):
            try:
                size, mtime_ns, record = entry
                self._mtl[path] = (_stamp(size, mtime_ns), _mtl_from_json(record))
            except (LookupError, TypeError, ValueError, AttributeError):
                continue


def _header() -> dict[str, Any]:
    from .. import __version__

    return {"index": INDEX_VERSION, "cloudcore": __version__, "points_per_edge": POINTS_PER_EDGE}


def _entries(section: Any) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in section.items() if isinstance(k, str)] if isinstance(section, dict) else []


def _stamp(size: Any, mtime_ns: Any) -> Stamp:
    if not (isinstance(size, int) and isinstance(mtime_ns, int)):
        raise TypeError("a stamp is two integers")
    return (size, mtime_ns)


def _qa_to_json(facts: QaFacts) -> dict[str, Any]:
    return {
        "crs_wkt": facts.crs_wkt,
        "bounds": list(facts.bounds),
        "epsg": facts.epsg,
        "geometry": facts.geometry_lonlat,
        "bbox": None if facts.bbox_lonlat is None else list(facts.bbox_lonlat),
    }


def _qa_from_json(record: dict[str, Any]) -> QaFacts:
    crs_wkt, epsg, geometry, bbox = record["crs_wkt"], record["epsg"], record["geometry"], record["bbox"]
    if not (crs_wkt is None or isinstance(crs_wkt, str)) or not (epsg is None or isinstance(epsg, int)):
        raise TypeError("crs_wkt is text and epsg an integer")
    if geometry is not None and not (isinstance(geometry, dict) and isinstance(geometry.get("type"), str)):
        raise TypeError("geometry is GeoJSON")
    return QaFacts(
        crs_wkt=crs_wkt,
        bounds=_four_floats(record["bounds"]),
        epsg=epsg,
        geometry_lonlat=None if geometry is None else _as_mapping(geometry),
        bbox_lonlat=None if bbox is None else _four_floats(bbox),
    )


def _four_floats(values: Any) -> tuple[float, float, float, float]:
    a, b, c, d = (float(v) for v in values)
    return (a, b, c, d)


def _as_mapping(geometry: dict[str, Any]) -> dict[str, Any]:
    """GeoJSON read back from JSON in the containers shapely's `mapping()` makes (tuples, but a
    list of polygons for a MultiPolygon), so a scene from the index equals a freshly read one."""
    coordinates = geometry["coordinates"]
    if geometry["type"] == "MultiPolygon":
        return {**geometry, "coordinates": [_as_tuples(polygon) for polygon in coordinates]}
    return {**geometry, "coordinates": _as_tuples(coordinates)}


def _as_tuples(value: Any) -> Any:
    return tuple(_as_tuples(v) for v in value) if isinstance(value, list | tuple) else value


def _mtl_to_json(facts: MtlFacts) -> dict[str, Any]:
    return {
        "datetime": None if facts.datetime is None else facts.datetime.isoformat(),
        "scene_cloud_pct": facts.scene_cloud_pct,
        "land_cloud_pct": facts.land_cloud_pct,
        "sun_azimuth": facts.sun_azimuth,
        "sun_elevation": facts.sun_elevation,
    }


def _mtl_from_json(record: dict[str, Any]) -> MtlFacts:
    when = None if record["datetime"] is None else dt.datetime.fromisoformat(record["datetime"])
    if when is not None and when.tzinfo is None:
        raise ValueError("an MTL time is timezone-aware")
    return MtlFacts(
        datetime=when,
        scene_cloud_pct=_float_or_none(record["scene_cloud_pct"]),
        land_cloud_pct=_float_or_none(record["land_cloud_pct"]),
        sun_azimuth=_float_or_none(record["sun_azimuth"]),
        sun_elevation=_float_or_none(record["sun_elevation"]),
    )


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
