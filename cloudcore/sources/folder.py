"""A scene source over a local folder of Landsat C2 L2 files, as EarthExplorer delivers them.

Files are named `<product id>_<band>.TIF` (QA_PIXEL, QA_RADSAT, SR_B1..SR_B7) beside an
optional `<product id>_MTL.json` / `_MTL.txt`; a download usually puts each scene in its
own subfolder, so the folder is searched recursively. Only file names are read when the
source is opened; each scene's QA_PIXEL header (for the footprint) and MTL are read on the first
search and kept in an index under the cache folder (see `folder_index`), so a later search, in
this process or another, reads again only the files that were added or changed since.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

import rasterio
from rasterio.errors import RasterioError
from shapely.geometry import mapping

from ..errors import InvalidInputError, NoScenesError
from ..geo.footprint import bbox_of, footprint_lonlat
from ..product import OLI_PLATFORMS, QA_BAND, RADSAT_BAND, SR_BANDS, parse_product_id
from ..settings import Settings
from .folder_index import FolderIndex, QaFacts, file_stamp
from .local import LocalScenes
from .mtl import MtlFacts, read_mtl
from .scene import Scene, scene_from_item

# Surface-reflectance band number -> Planetary Computer landsat-c2-l2 asset key.
# ref: LSDS-1619 (Landsat 8-9 OLI): B1 coastal aerosol, B2 blue, B3 green, B4 red, B5 NIR, B6 SWIR 1, B7 SWIR 2.
OLI_SR_BANDS: dict[int, str] = {1: "coastal", 2: "blue", 3: "green", 4: "red", 5: "nir08", 6: "swir16", 7: "swir22"}
# ref: LSDS-1618 (Landsat 4-7 TM/ETM+): B1 blue, B2 green, B3 red, B4 NIR, B5 SWIR 1, B7 SWIR 2;
# band 6 is thermal and ships as ST_B6, not SR_B6.
TM_ETM_SR_BANDS: dict[int, str] = {1: "blue", 2: "green", 3: "red", 4: "nir08", 5: "swir16", 7: "swir22"}

PRODUCT_ID_LENGTH = len("LC08_L2SP_047027_20201204_20210313_02_T1")  # fixed width in Collection 2
EXAMPLE_QA_NAME = "LC08_L2SP_047027_20201204_20210313_02_T1_QA_PIXEL.TIF"
RASTER_EXTENSIONS = (".TIF", ".TIFF")
MTL_NAMES = ("MTL.JSON", "MTL.TXT")  # JSON first: same facts, and it parses without ODL rules


def sr_band_key(platform: str, band_number: int) -> str | None:
    """The asset key of SR band `band_number` on `platform`, or None when it is no SR band."""
    table = OLI_SR_BANDS if platform in OLI_PLATFORMS else TM_ETM_SR_BANDS
    return table.get(band_number)


class FolderSource(LocalScenes):
    """Landsat C2 L2 scenes found in a local folder (searched recursively).

    Attributes:
        name: The folder path as given.
        warnings: What was skipped or is incomplete (missing QA_PIXEL, unreadable files),
            one sentence each; scene-level entries appear after the first search.
    """

    def __init__(
        self, folder: str | Path, *, confine_to: str | Path | None = None, settings: Settings | None = None
    ) -> None:
        """Index the folder's file names.

        `confine_to` (the dashboard's shared root) skips every file and folder whose real
        path, symlinks resolved, lies outside it: a link inside a shared folder must not
        reach the rest of the server. On the command line nothing is confined.

        `settings.cache_dir` (None reads the environment) holds the index of what the first
        search read; nothing is ever written into the folder itself, which may be read-only.

        Raises:
            InvalidInputError: `folder` is a file.
            NoScenesError: the folder does not exist or holds no Landsat C2 L2 QA_PIXEL file.
        """
        self.name = str(folder)
        self.warnings: list[str] = []
        root = Path(folder).expanduser()
        if root.is_file():
            raise InvalidInputError(
                f"{self.name!r} is a file: give the folder that holds the Landsat files (e.g. {EXAMPLE_QA_NAME})."
            )
        if not root.is_dir():
            raise NoScenesError(
                f"Folder {self.name!r} does not exist: give a folder of Landsat Collection 2 Level-2 files "
                f"named like {EXAMPLE_QA_NAME}."
            )
        self._root = Path(os.path.abspath(root))
        self._cache_root = (Settings.from_env() if settings is None else settings).cache_dir
        confine = os.path.realpath(confine_to) if confine_to is not None else None
        if confine is not None and not _is_within(os.path.realpath(self._root), confine):
            raise InvalidInputError(f"Folder {self.name!r} lies outside the shared folder: give a folder inside it.")
        groups = _group_files(_walk_files(self._root, confine, self.warnings), self.warnings)
        self._groups = {pid: files for pid, files in groups.items() if _has_qa(pid, files, self.warnings)}
        if not self._groups:
            found = f" ({len(groups)} product(s) lack their QA_PIXEL file)" if groups else ""
            raise NoScenesError(
                f"Folder {self.name!r} holds no Landsat Collection 2 Level-2 QA_PIXEL files{found}: expected "
                f"<product id>_QA_PIXEL.TIF, e.g. {EXAMPLE_QA_NAME}, with _SR_B1.TIF.._SR_B7.TIF, _QA_RADSAT.TIF "
                "and _MTL.json beside it. Download the Level-2 bands from EarthExplorer into this folder."
            )

    @property
    def product_ids(self) -> list[str]:
        """The product ids indexed (those with a QA_PIXEL file), sorted."""
        return sorted(self._groups)

    @cached_property
    def scenes(self) -> list[Scene]:  # type: ignore[override]  # built on first use, not in __init__
        """Every scene in the folder, oldest first; built once, on first use, from the index
        where a file is unchanged since it was read."""
        index = FolderIndex.load(self._cache_root, str(self._root))
        reader = _QaReader(index.known_qa)
        built = [_build_scene(pid, files, index, reader, self.warnings) for pid, files in sorted(self._groups.items())]
        index.save(keep={str(path) for files in self._groups.values() for path in files.values()})
        return sorted((s for s in built if s is not None), key=lambda s: (s.datetime, s.id))

    def __repr__(self) -> str:
        return f"FolderSource({self.name!r}, {len(self._groups)} products)"


def _walk_files(root: Path, confine: str | None = None, warnings: list[str] | None = None) -> list[Path]:
    """Every file under root, following folder symlinks once each (no loops); with `confine`
    (a real path), only files and folders whose real path lies inside it."""
    seen: set[str] = set()
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen or (confine is not None and not _is_within(real, confine)):
            if real not in seen and warnings is not None:
                warnings.append(f"{dirpath} links outside the shared folder, so it is skipped.")
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if confine is not None and not _is_within(os.path.realpath(path), confine):
                if warnings is not None:
                    warnings.append(f"{path} links outside the shared folder, so it is skipped.")
                continue
            files.append(path)
    return files


def _is_within(real_path: str, real_root: str) -> bool:
    """Is `real_path` the folder `real_root` or inside it (both already symlink-resolved)."""
    return os.path.commonpath([real_path, real_root]) == real_root


def _group_files(paths: list[Path], warnings: list[str]) -> dict[str, dict[str, Path]]:
    """product id -> {asset key or 'mtl.json'/'mtl.txt' -> path}; unrelated files ignored."""
    groups: dict[str, dict[str, Path]] = {}
    for path in paths:
        parsed = _classify(path.name)
        if parsed is None:
            continue
        product_id, key = parsed
        files = groups.setdefault(product_id, {})
        if key in files:
            warnings.append(f"{path} duplicates {files[key]}: using the first; delete one copy.")
            continue
        files[key] = path
    return groups


def _classify(filename: str) -> tuple[str, str] | None:
    """('LC08_...', 'qa_pixel' | 'red' | 'mtl.json' ...) for a Landsat C2 L2 file we use, else None."""
    product_id, suffix = filename[:PRODUCT_ID_LENGTH], filename[PRODUCT_ID_LENGTH + 1 :]
    if filename[PRODUCT_ID_LENGTH : PRODUCT_ID_LENGTH + 1] != "_":
        return None
    try:
        platform = parse_product_id(product_id)["platform"]
    except InvalidInputError:
        return None
    suffix = suffix.upper()
    if suffix in MTL_NAMES:
        return product_id, suffix.lower()
    stem, dot, ext = suffix.rpartition(".")
    if not dot or f".{ext}" not in RASTER_EXTENSIONS:
        return None
    if stem == "QA_PIXEL":
        return product_id, QA_BAND
    if stem == "QA_RADSAT":
        return product_id, RADSAT_BAND
    if stem.startswith("SR_B") and stem[4:].isdigit():
        key = sr_band_key(platform, int(stem[4:]))
        return (product_id, key) if key else None
    return None


def _has_qa(product_id: str, files: dict[str, Path], warnings: list[str]) -> bool:
    if QA_BAND in files:
        return True
    warnings.append(f"{product_id}: no QA_PIXEL file, so it is skipped; download its _QA_PIXEL.TIF too.")
    return False


class _QaReader:
    """Reads QA_PIXEL headers, working out `to_epsg()` once per distinct CRS and the footprint
    once per distinct CRS and bounds: in a CRS with no EPSG code (CONUS Albers, as in U.S. ARD)
    `to_epsg()` searches the whole EPSG database, about 65 ms a call. Seeded with what the
    index already knows, so a changed file in a known CRS costs one open."""

    def __init__(self, known: list[QaFacts]) -> None:
        self._epsg: dict[str, int | None] = {}
        # (WKT, bounds) -> (GeoJSON as mapping() gives it, lon/lat bbox); both None when it does not reproject.
        self._footprints: dict[tuple[str, tuple[float, float, float, float]], tuple[dict[str, Any] | None, Any]] = {}
        for facts in known:
            if facts.crs_wkt is not None:
                self._epsg.setdefault(facts.crs_wkt, facts.epsg)
                self._footprints.setdefault((facts.crs_wkt, facts.bounds), (facts.geometry_lonlat, facts.bbox_lonlat))

    def read(self, path: Path) -> QaFacts:
        """The facts of one QA_PIXEL file.

        Raises:
            RasterioError: the file cannot be opened as a raster.
        """
        with rasterio.open(path) as qa:
            crs, (left, bottom, right, top) = qa.crs, qa.bounds
        bounds = (float(left), float(bottom), float(right), float(top))
        if not crs:
            return QaFacts(crs_wkt=None, bounds=bounds, epsg=None, geometry_lonlat=None, bbox_lonlat=None)
        wkt = crs.to_wkt()
        if wkt not in self._epsg:
            self._epsg[wkt] = crs.to_epsg()
        if (wkt, bounds) not in self._footprints:
            footprint = footprint_lonlat(crs, bounds)
            self._footprints[wkt, bounds] = (
                (mapping(footprint), bbox_of(footprint)) if footprint is not None else (None, None)
            )
        geometry, bbox = self._footprints[wkt, bounds]
        return QaFacts(crs_wkt=wkt, bounds=bounds, epsg=self._epsg[wkt], geometry_lonlat=geometry, bbox_lonlat=bbox)


def _build_scene(
    product_id: str, files: dict[str, Path], index: FolderIndex, reader: _QaReader, warnings: list[str]
) -> Scene | None:
    """A Scene from one product's files; None (with a warning) when its QA_PIXEL is unreadable."""
    ident = parse_product_id(product_id)
    qa_path = files[QA_BAND]
    stamp = file_stamp(qa_path)
    qa = index.qa(str(qa_path), stamp)
    if qa is None:
        try:
            qa = reader.read(qa_path)
        except RasterioError as err:
            warnings.append(f"{product_id}: QA_PIXEL {qa_path} cannot be opened ({err}), so it is skipped.")
            return None
        index.put_qa(str(qa_path), stamp, qa)
    if qa.geometry_lonlat is None:
        warnings.append(f"{product_id}: QA_PIXEL has no usable georeferencing; its footprint is unknown.")
    missing = [band for band in SR_BANDS if band not in files]
    if missing:
        warnings.append(f"{product_id}: no {', '.join(missing)} band file(s); colour images of it will be incomplete.")
    facts = _mtl_facts(product_id, files, index, warnings)
    when = (facts.datetime if facts and facts.datetime else None) or ident["datetime"]
    properties = {
        "datetime": when.isoformat(),
        "platform": ident["platform"],
        "landsat:wrs_path": ident["wrs_path"],
        "landsat:wrs_row": ident["wrs_row"],
        "proj:epsg": qa.epsg,
    }
    if facts:
        properties.update(
            {
                "eo:cloud_cover": facts.scene_cloud_pct,
                "landsat:cloud_cover_land": facts.land_cloud_pct,
                "view:sun_azimuth": facts.sun_azimuth,
                "view:sun_elevation": facts.sun_elevation,
            }
        )
    item = {
        "id": product_id,
        "bbox": qa.bbox_lonlat,
        "geometry": _own_copy(qa.geometry_lonlat),
        "properties": properties,
        "assets": {key: {"href": str(path)} for key, path in files.items() if not key.startswith("mtl.")},
    }
    return scene_from_item(item)


def _own_copy(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    """A GeoJSON dict of the scene's own: scenes on one grid share only the immutable tuples."""
    if geometry is None:
        return None
    coordinates = geometry["coordinates"]
    return {**geometry, "coordinates": list(coordinates) if isinstance(coordinates, list) else coordinates}


def _mtl_facts(product_id: str, files: dict[str, Path], index: FolderIndex, warnings: list[str]) -> MtlFacts | None:
    for name in (n.lower() for n in MTL_NAMES):
        if name in files:
            stamp = file_stamp(files[name])
            facts = index.mtl(str(files[name]), stamp)
            if facts is not None:
                return facts
            try:
                facts = read_mtl(files[name])
            except InvalidInputError as err:
                warnings.append(f"{product_id}: {err}")
                continue
            index.put_mtl(str(files[name]), stamp, facts)
            return facts
    return None
