"""cloudcore: Landsat Collection 2 Level-2 clouds over an area of interest.

The front door, in the types the Python geospatial world uses:

    import cloudcore
    items = cloudcore.search(aoi, "2022-01-01", "2022-12-31")      # pystac.ItemCollection
    table = cloudcore.cover(aoi, "2022-01-01", "2022-12-31")       # pandas.DataFrame by date
    image = cloudcore.fill(aoi, "2022-06-14")                      # xarray.Dataset, rioxarray CRS

`aoi` is a bbox, GeoJSON, a file, a shapely geometry or a GeoDataFrame; `source=` is
"planetary-computer" (default), "demo", a STAC API URL, a folder, or your own pystac Items.
Settings (limits, deadlines, concurrency) are `cloudcore.Settings`, read from CLOUDCORE_*
variables when none is given. No UI code lives here: the dashboard and the CLI use this door.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .errors import (
    CloudCoreError,
    InvalidAOIError,
    InvalidInputError,
    NoScenesError,
    SceneReadError,
    SettingsError,
    SourceUnreachableError,
    UnknownSourceError,
)
from .options import DEFAULT_FLAGS, MASK_KINDS, QA_FLAGS
from .settings import Settings


def _version() -> str:
    """The installed package's version; from a checkout never installed, its pyproject.toml's."""
    try:
        return version("cloudcore")
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        try:
            with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as handle:
                return str(tomllib.load(handle)["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"


__version__ = _version()

# The rest loads on first use (PEP 562): importing cloudcore, or running `--help`, does not
# pull in numpy, GDAL, pandas, xarray or the ML model.
_LAZY = {
    # the front door
    "search": "api.frontdoor", "cover": "api.frontdoor", "fill": "api.frontdoor", "fill_image": "api.frontdoor",
    "cover_frame": "api.frontdoor", "best_dates": "api.frontdoor",
    "timelapse": "api.timelapse", "Timelapse": "api.timelapse", "NoFramesError": "api.timelapse",
    # what its inputs and outputs are made of
    "AOI": "geo.aoi", "parse_aoi": "geo.aoi",
    "SceneSource": "sources.base", "open_source": "sources", "FolderSource": "sources.folder", "Scene": "sources.scene", "DateGroup": "sources.scene",
    "group_by_date": "sources.scene", "search_dates": "sources.search", "search_scenes": "sources.search",
    "MaskPolicy": "masks.qa", "QAClasses": "masks.qa", "decode_qa": "masks.qa", "parse_flags": "masks.qa",
    "removed_mask": "masks.qa", "agreement": "masks.ml", "ml_removed_mask": "masks.ml",
    "nearest_clear_dates": "stats.nearest", "is_clear": "stats.nearest", "date_note": "stats.nearest", "NEAREST_FIELDS": "stats.nearest",
    "DateCover": "stats.cover", "COVER_FIELDS": "stats.cover", "compute_cover": "stats.cover", "cover_stats": "stats.cover",
    "iter_cover": "stats.cover", "measure_date": "stats.cover", "iter_cover_dask": "stats.distributed",
    "CoverCache": "io.cache", "rows_to_csv": "io.export", "write_cog": "io.export",
    "FillMethod": "gapfill.base", "FILL_METHODS": "gapfill.registry", "DEFAULT_FILL_METHOD": "gapfill.registry",
    "describe_methods": "gapfill.registry", "DEFAULT_WINDOW_DAYS": "gapfill.inputs",
    "FilledImage": "gapfill.image", "fill_date": "gapfill.image",
    "ComparePictures": "render.pictures", "compare_pictures": "render.pictures", "filled_picture": "render.pictures",
    "DISAGREEMENT_COLOURS": "render.pictures", "date_thumbnail": "render.thumbnails", "to_lonlat": "render.maps",
    "grid_bounds_lonlat": "render.maps", "png_bytes": "render.colour", "write_png": "render.colour",
    "provenance_rgba": "render.provenance", "provenance_ramp": "render.provenance", "georeferenced_png": "render.georef",
    "fill_summary_rows": "gapfill.summary", "fill_summary_csv": "gapfill.summary",
    "evaluate_fill": "evaluation.fills", "evaluate_real": "evaluation.real",
    "LANDSAT_RECORD_START": "product", "SR_BANDS": "product", "SR_SCALE": "product", "SR_OFFSET": "product",
    "demo_ready": "demo", "DEMO_START": "demo", "DEMO_END": "demo", "DEMO_EXAMPLE_BBOX": "demo",
    "max_geojson_bytes": "limits", "check_geojson_size": "limits",
}
# Names whose module calls them something else.
_RENAMED = {"FILL_METHODS": "FILL_METHODS", "DEFAULT_FILL_METHOD": "DEFAULT_METHOD"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, _RENAMED.get(name, name))
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cloudcore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AOI",
    "COVER_FIELDS",
    "DEFAULT_FILL_METHOD",
    "DEFAULT_FLAGS",
    "DEFAULT_WINDOW_DAYS",
    "DEMO_END",
    "DEMO_EXAMPLE_BBOX",
    "DEMO_START",
    "DISAGREEMENT_COLOURS",
    "FILL_METHODS",
    "LANDSAT_RECORD_START",
    "MASK_KINDS",
    "NEAREST_FIELDS",
    "QA_FLAGS",
    "SR_BANDS",
    "SR_OFFSET",
    "SR_SCALE",
    "CloudCoreError",
    "ComparePictures",
    "CoverCache",
    "DateCover",
    "DateGroup",
    "FillMethod",
    "FilledImage",
    "FolderSource",
    "InvalidAOIError",
    "InvalidInputError",
    "MaskPolicy",
    "NoFramesError",
    "NoScenesError",
    "QAClasses",
    "Scene",
    "SceneReadError",
    "SceneSource",
    "Settings",
    "SettingsError",
    "SourceUnreachableError",
    "Timelapse",
    "UnknownSourceError",
    "__version__",
    "agreement",
    "best_dates",
    "check_geojson_size",
    "compare_pictures",
    "compute_cover",
    "cover",
    "cover_frame",
    "cover_stats",
    "date_note",
    "date_thumbnail",
    "decode_qa",
    "demo_ready",
    "describe_methods",
    "evaluate_fill",
    "evaluate_real",
    "fill",
    "fill_date",
    "fill_image",
    "fill_summary_csv",
    "fill_summary_rows",
    "filled_picture",
    "georeferenced_png",
    "grid_bounds_lonlat",
    "group_by_date",
    "is_clear",
    "iter_cover",
    "iter_cover_dask",
    "max_geojson_bytes",
    "measure_date",
    "ml_removed_mask",
    "nearest_clear_dates",
    "open_source",
    "parse_aoi",
    "parse_flags",
    "png_bytes",
    "provenance_ramp",
    "provenance_rgba",
    "removed_mask",
    "rows_to_csv",
    "search",
    "search_dates",
    "search_scenes",
    "timelapse",
    "to_lonlat",
    "write_cog",
    "write_png",
]
