"""cloudcore: Landsat Collection 2 Level-2 clouds over an area of interest.

Find scenes (Planetary Computer, any STAC API, a local folder or the synthetic demo),
measure cloud, shadow and missing data over the AOI for every date, and fill a date's
cloudy pixels from other dates. No UI code lives here; the dashboard and the CLI are
thin faces on these functions.
"""

from .aoi import AOI, parse_aoi
from .cover import DateCover, compute_cover, cover_stats, iter_cover, measure_date, search_dates
from .errors import (
    CloudCoreError,
    InvalidAOIError,
    InvalidInputError,
    NoScenesError,
    SceneReadError,
    SourceUnreachableError,
    UnknownSourceError,
)
from .evaluate import evaluate_fill
from .fill import FILL_METHODS
from .gapfill import DEFAULT_WINDOW_DAYS, FilledImage, fill_date
from .mlmask import MASK_KINDS, agreement, ml_removed_mask
from .qa import DEFAULT_FLAGS, MaskPolicy, QAClasses, decode_qa, parse_flags, removed_mask
from .scene import DateGroup, Scene, group_by_date
from .sources import SceneSource, open_source

__all__ = [
    "AOI",
    "CloudCoreError",
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
    "measure_date",
    "ml_removed_mask",
    "open_source",
    "parse_aoi",
    "parse_flags",
    "removed_mask",
    "search_dates",
]
