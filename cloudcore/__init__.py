"""cloudcore: Landsat Collection 2 Level-2 clouds over an area of interest.

Find scenes (Planetary Computer, any STAC API, a local folder or the synthetic demo),
measure cloud, shadow and missing data over the AOI for every date, and fill a date's
cloudy pixels from other dates. No UI code lives here; the dashboard and the CLI are
thin faces on these functions.
"""

from importlib import import_module

from .errors import (
    CloudCoreError,
    InvalidAOIError,
    InvalidInputError,
    NoScenesError,
    SceneReadError,
    SourceUnreachableError,
    UnknownSourceError,
)
from .options import DEFAULT_FLAGS, FILL_METHODS, MASK_KINDS

# The rest loads on first use (PEP 562): importing cloudcore, or running `--help`, does not
# pull in numpy, GDAL or the ML model.
_LAZY = {
    "AOI": "aoi", "parse_aoi": "aoi",
    "CoverCache": "cache",
    "DateCover": "cover", "compute_cover": "cover", "cover_stats": "cover", "iter_cover": "cover",
    "measure_date": "cover", "search_dates": "cover",
    "iter_cover_dask": "distributed",
    "evaluate_fill": "evaluate",
    "DEFAULT_WINDOW_DAYS": "gapfill", "FilledImage": "gapfill", "fill_date": "gapfill",
    "agreement": "mlmask", "ml_removed_mask": "mlmask",
    "MaskPolicy": "qa", "QAClasses": "qa", "decode_qa": "qa", "parse_flags": "qa", "removed_mask": "qa",
    "DateGroup": "scene", "Scene": "scene", "group_by_date": "scene",
    "SceneSource": "sources", "open_source": "sources",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cloudcore' has no attribute {name!r}")


__all__ = [
    "AOI",
    "CloudCoreError",
    "CoverCache",
    "DEFAULT_FLAGS",
    "DEFAULT_WINDOW_DAYS",
    "FILL_METHODS",
    "MASK_KINDS",
    "DateCover",
    "DateGroup",
    "FilledImage",
    "InvalidAOIError",
    "InvalidInputError",
    "MaskPolicy",
    "NoScenesError",
    "QAClasses",
    "Scene",
    "SceneReadError",
    "SceneSource",
    "SourceUnreachableError",
    "UnknownSourceError",
    "agreement",
    "compute_cover",
    "cover_stats",
    "decode_qa",
    "evaluate_fill",
    "fill_date",
    "group_by_date",
    "iter_cover",
    "iter_cover_dask",
    "measure_date",
    "ml_removed_mask",
    "open_source",
    "parse_aoi",
    "parse_flags",
    "removed_mask",
    "search_dates",
]
